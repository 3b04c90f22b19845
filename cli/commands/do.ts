// `monk do PATH/ACTION k=v...` runs an action of an instance and prints its output
// (JSON `{"output": ...}`); `monk actions PATH` lists what an instance offers.
import type { Command } from 'commander'
import { table } from '../format/table.js'
import { CliError, exitCodes, printJson } from '../output.js'
import { requirePath, runnableActor, session } from './session.js'
import { parsePairs } from './vars.js'

/** `ns/app/put` → instance `ns/app`, action `put`. */
export function splitAction (target: string): { path: string, action: string } {
  const t = target.replace(/\/+$/, '')
  const i = t.lastIndexOf('/')
  const path = i > 0 ? t.slice(0, i) : ''
  const action = t.slice(i + 1)
  if (!path.includes('/') || action === '') throw new CliError('bad-path', `"${target}" is not an action path like ns/app/ACTION`, exitCodes.usage)
  return { path: requirePath(path), action }
}

interface ArgSpec { type?: string, description?: string, default?: unknown, required?: boolean }
interface ActionSpec { name: string, description?: string, arguments?: Record<string, ArgSpec> | Array<ArgSpec & { name: string }> }

/** The actions of a `runnable.actions` reply, whether an array or a map by name (or wrapped in `{actions}`). */
export function actionList (reply: unknown): ActionSpec[] {
  const body = (reply as { actions?: unknown } | null)?.actions ?? reply
  if (Array.isArray(body)) return body as ActionSpec[]
  if (body !== null && typeof body === 'object') return Object.entries(body as Record<string, Omit<ActionSpec, 'name'>>).map(([name, a]) => ({ ...a, name }))
  return []
}

function argsText (a: ActionSpec): string {
  const list = Array.isArray(a.arguments) ? a.arguments : Object.entries(a.arguments ?? {}).map(([name, spec]) => ({ ...spec, name }))
  return list.map(x => `${x.name}${x.type !== undefined ? `:${x.type}` : ''}${x.default !== undefined ? `=${typeof x.default === 'string' ? x.default : JSON.stringify(x.default)}` : ''}`).join(' ')
}

/** The action of `monk do` (its flags are in registry.ts). */
export async function doAction (target: string, args: string[], _opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const { path, action } = splitAction(target)
  const parsed = parsePairs(args, 'an action argument')
  const reply = await s.request(runnableActor(path), { type: 'runnable.action', action, ...(args.length ? { args: parsed } : {}) })
  const output = reply !== null && typeof reply === 'object' && !Array.isArray(reply) && 'output' in reply ? (reply as { output: unknown }).output : reply
  if (s.json) { printJson({ output }); return }
  if (output === null || output === undefined) return
  s.print(typeof output === 'string' ? output : JSON.stringify(output, null, 2))
}

/** The action of `monk actions` (its flags are in registry.ts). */
export async function actions (path: string, _opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const p = requirePath(path)
  const reply = await s.request(runnableActor(p), { type: 'runnable.actions' })
  const list = actionList(reply)
  if (s.json) { printJson(list); return }
  s.print(table(['ACTION', 'DESCRIPTION', 'ARGUMENTS'], list.map(a => [`${p}/${a.name}`, a.description ?? '', argsText(a)])))
  if (list.length === 0) s.note(`${p} has no actions`)
}
