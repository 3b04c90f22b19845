// Actions (spec §2.7.7) of a runnable, a group or a service: typed arguments with defaults, coerced
// by the same function as variables (grammar/monkscript/variables.ts `coerce`), then the code run
// in the node's scope with `$args`. Container hooks (§2.7.10) run actions in the background.
import { ArrowError, compile, fromPlain, toPlain, type ArrowHost, type ArrowValue } from '../../grammar/arrow/index.js'
import type { ActionDecl, RunnableSpec } from '../../grammar/monkscript/runnable-spec.js'
import type { ActionInfo } from '../messages/runnable.js'
import { coerce, type ScopeVars } from '../../grammar/monkscript/variables.js'
import type { WantRecord } from '../state.js'
import type { InstanceContext, Template } from './context.js'
import { RunnableError } from './errors.js'
import { runnableHost } from './host.js'

/** Checks and converts the given arguments of `action` (of the node at `path`) to their declared types. */
export function actionArguments (path: string, action: ActionDecl, given: Readonly<Record<string, unknown>>): Record<string, ArrowValue> {
  // Unknown names first: a mistyped name would otherwise show up as the declared one being missing.
  for (const k of Object.keys(given)) {
    if (!Object.prototype.hasOwnProperty.call(action.arguments, k)) throw new RunnableError('unknown-argument', `action ${path}/${action.name} has no argument "${k}" (arguments: ${Object.keys(action.arguments).join(', ') || 'none'})`)
  }
  const args: Record<string, ArrowValue> = {}
  for (const [arg, decl] of Object.entries(action.arguments)) {
    const v = Object.prototype.hasOwnProperty.call(given, arg) ? given[arg] : decl.default
    if (v === undefined || v === null) throw new RunnableError('missing-argument', `action ${path}/${action.name} needs argument "${arg}"${decl.description !== null ? ` (${decl.description})` : ''}`)
    try {
      args[arg] = coerce(arg, decl.type, fromPlain(v), 'argument')
    } catch (err) {
      if (err instanceof ArrowError) throw new RunnableError('bad-argument', `action ${path}/${action.name}: ${err.message}`, { cause: err })
      throw err
    }
  }
  return args
}

/** The actions a spec declares, as `runnable.actions` / `group.actions` list them. */
export function actionInfos (spec: RunnableSpec): ActionInfo[] {
  return Object.values(spec.actions).map(a => ({
    name: a.name,
    description: a.description,
    arguments: Object.fromEntries(Object.entries(a.arguments).map(([k, x]) => [k, { type: x.type, ...(x.default !== undefined ? { default: x.default } : {}), ...(x.description !== null ? { description: x.description } : {}) }])),
  }))
}

/** The declared action `name` of a template, or an error listing the ones it has. */
export function actionOf (t: Template, name: string): ActionDecl {
  const action = t.spec.actions[name]
  if (action === undefined) {
    const names = Object.keys(t.spec.actions)
    throw new RunnableError('unknown-action', `${t.tpl.path} has no action "${name}"${names.length ? ` (actions: ${names.join(', ')})` : ''}`)
  }
  return action
}

/** Runs an action's code with `vars` (which carry `$args`); returns its result as plain data. */
export async function runActionCode (path: string, action: ActionDecl, vars: ScopeVars): Promise<unknown> {
  try {
    return toPlain(await compile(action.code, 'code').run({ ...vars.ctx, vars }))
  } catch (err) {
    if (err instanceof ArrowError) throw new RunnableError(`action-${err.code}`, `action ${path}/${action.name} failed: ${err.message}`, { cause: err })
    throw err
  }
}

/** Runs action `name` of this runnable with the given arguments. */
export async function runAction (ctx: InstanceContext, want: WantRecord, name: string, given: Readonly<Record<string, unknown>>): Promise<unknown> {
  const t = ctx.template(want.template)
  if (!t) throw new RunnableError('template-missing', `template ${want.template} is not loaded`)
  const action = actionOf(t, name)
  const args = actionArguments(want.template, action, given)
  const host: ArrowHost = runnableHost(ctx, t)
  return await runActionCode(want.template, action, ctx.vars(want, t, host, args))
}

/** Runs the action a container hook names, in the background; failures are logged. */
export function runHook (ctx: InstanceContext, want: WantRecord, action: string | undefined, event: string): void {
  if (action === undefined) return
  void runAction(ctx, want, action, {}).then(
    () => ctx.d.log.info({ instance: ctx.instance, event, action }, `${ctx.instance}: hook ${event} ran ${action}`),
    err => ctx.d.log.warn({ instance: ctx.instance, event, action, err }, `${ctx.instance}: hook ${event} (${action}) failed: ${(err as Error).message}`))
}
