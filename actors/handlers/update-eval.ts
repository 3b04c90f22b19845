// The definition an update would apply, evaluated (Arrow values run, variables resolved with the
// update's --set and group values, environment built, file templates rendered), so
// `update --dry-run` compares what containers would be made of, not how it is written. Values that
// need the owner's host (exec, a peer's address, secrets) cannot be evaluated here: those parts are
// null and the plan compares them as written.
import { renderTemplate, toPlain, toS, type ArrowValue } from '../../grammar/arrow/index.js'
import { runnableSpec } from '../../grammar/monkscript/runnable-spec.js'
import { buildScope, builtinVariables, resolveEnv, ScopeVars } from '../../grammar/monkscript/variables.js'
import { evaluateFields, evaluateValue } from '../runnable/evaluate.js'
import type { Applied } from './update-plan.js'

export interface Evaluated {
  /** Variable name → its value (null: not evaluable here). */
  variables: Record<string, unknown>
  /** Container name → its evaluated fields and environment (null: not evaluable here). */
  containers: Record<string, unknown>
  /** File id → container, path, mode and rendered contents (null: not evaluable here). */
  files: Record<string, unknown>
}

async function attempt<T> (f: () => Promise<T>): Promise<T | null> {
  try { return await f() } catch { return null }
}

export async function evaluateApplied (instance: string, a: Applied): Promise<Evaluated> {
  const { spec } = runnableSpec(instance, a.value)
  const vars = new ScopeVars(buildScope(a.value, a.groups, a.set, builtinVariables({ volumePath: '' })))
  const variables: Record<string, unknown> = {}
  const known = new Map<string, ArrowValue>()
  for (const name of vars.scope.entries.keys()) {
    const v = await attempt(async () => (await vars.get(name)) ?? null)
    variables[name] = v === null ? null : toPlain(v)
    if (v !== null) known.set(name, v)
  }
  const env = await attempt(async () => await resolveEnv(vars))
  const containers: Record<string, unknown> = {}
  for (const c of spec.containers) containers[c.name] = env === null ? null : await attempt(async () => ({ ...(await evaluateFields(c.fields, vars)), env }))
  const files: Record<string, unknown> = {}
  for (const f of spec.files) {
    files[f.id] = await attempt(async () => {
      let contents = toS(await evaluateValue(f.contents, vars) as ArrowValue)
      if (!f.raw) contents = renderTemplate(contents, name => known.get(name) ?? null)
      return { container: f.container, path: f.path, mode: f.mode, contents }
    })
  }
  return { variables, containers, files }
}
