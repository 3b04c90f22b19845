// One lifecycle action of one entity instance: pick the entry (script, sync, webhook), run it in
// the sandbox or POST it to the webhook, and return the new state and the output. Knows nothing
// of actors or the replica: the entity actor persists what this returns.
import type { MapValue } from '../../grammar/monkscript/types.js'
import { EntityError } from './errors.js'
import { hostModules, Output, type EntityHostDeps } from './host/modules.js'
import { request } from './host/http.js'
import { invoke, type SandboxLimits } from './sandbox.js'
import { customActions, entryFor, STANDARD_ACTIONS, type EntityType } from './type.js'

export type EntityState = Record<string, unknown>

export interface ActionRequest {
  type: EntityType
  instance: string
  action: string
  definition: MapValue
  state: EntityState
  args?: Readonly<Record<string, string>>
  /** ctx.status: the instance's phase as monk sees it. */
  status?: string
  host: EntityHostDeps
  /** Sources of `defines: module` nodes, looked up lazily by require name. */
  moduleSource: (name: string) => string | undefined
  limits?: SandboxLimits
}

export interface ActionResult {
  /** The state to store (the old one when the lifecycle returned nothing). */
  state: EntityState
  output: string[]
  /** Nothing ran: the type has no entry for this action. */
  noop: boolean
  startupMs: number
  cpuMs: number
}

const isState = (v: unknown): v is EntityState => v !== null && typeof v === 'object' && !Array.isArray(v)

/** Runs the action; throws EntityError (the thrown message of the lifecycle in `entity-failed`). */
export async function runAction (r: ActionRequest): Promise<ActionResult> {
  // a custom action must be declared in lifecycle (sync itself is not an action one calls)
  if (r.action === 'sync' || (r.type.lifecycle[r.action] === undefined && !(STANDARD_ACTIONS as readonly string[]).includes(r.action))) {
    throw new EntityError('entity-no-action', `${r.instance} (${r.type.path}) has no action "${r.action}" (actions: ${customActions(r.type).join(', ') || 'none'})`)
  }
  const entry = entryFor(r.type, r.action)
  if (entry === null) return { state: r.state, output: [], noop: true, startupMs: 0, cpuMs: 0 }
  const ctx = { action: r.action, args: { ...(r.args ?? {}) }, status: r.status ?? '', path: `templates/local/${r.instance}`, metadata: r.type.metadata }
  if (entry.kind === 'webhook') return await webhook(r, entry.url, ctx)
  if (entry.kind === 'sync') throw new EntityError('entity-no-action', `${r.type.path}: ${r.action} has no code`)
  const out = new Output()
  const res = await invoke({
    script: entry.source, file: `${r.type.path} lifecycle.${r.type.lifecycle[r.action]?.kind === 'script' ? r.action : 'sync'}`,
    host: hostModules(r.host, out), moduleSource: r.moduleSource,
    definition: r.definition, state: r.state, ctx, ...(r.limits ? { limits: r.limits } : {}),
  })
  if (out.dropped > 0) out.lines.push(`(${out.dropped} more lines of output dropped)`)
  if (res.value !== undefined && !isState(res.value)) throw new EntityError('entity-failed', `${r.instance}: ${r.action} returned ${JSON.stringify(res.value)}, not a state object`)
  return { state: res.value ?? r.state, output: out.lines, noop: false, startupMs: res.startupMs, cpuMs: res.cpuMs }
}

async function webhook (r: ActionRequest, url: string, context: unknown): Promise<ActionResult> {
  const res = await request(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ definition: r.definition, state: r.state, context }) }, r.host.fetch)
  if (res.error !== undefined) throw new EntityError('entity-webhook', `${r.instance}: webhook ${r.action} failed: ${res.error}`)
  if (res.statusCode >= 300) throw new EntityError('entity-failed', `${r.instance}: webhook ${r.action} answered ${res.status}: ${res.body.slice(0, 500)}`)
  let body: unknown
  try { body = res.body.trim() === '' ? {} : JSON.parse(res.body) } catch { throw new EntityError('entity-webhook', `${r.instance}: webhook ${r.action} answered with a body that is not JSON`) }
  if (!isState(body)) throw new EntityError('entity-webhook', `${r.instance}: webhook ${r.action} answered ${JSON.stringify(body).slice(0, 200)}, expected {state, output}`)
  if (body.state !== undefined && body.state !== null && !isState(body.state)) throw new EntityError('entity-webhook', `${r.instance}: webhook ${r.action}: state must be an object`)
  const output = Array.isArray(body.output) ? body.output.map(x => typeof x === 'string' ? x : JSON.stringify(x)) : typeof body.output === 'string' ? [body.output] : []
  return { state: isState(body.state) ? body.state : r.state, output, noop: false, startupMs: 0, cpuMs: 0 }
}
