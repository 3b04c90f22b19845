// The runnable actors of one peer (`runnable:<instance>`), spawned on demand: placement tells each
// its assignment, a tick makes owners re-read their containers, and requests (action, exec, logs)
// run inside the actor, serialised with its reconciles. This is the seam to the runnable actor
// (actors/runnable*): everything the cluster needs from it goes through RunnableActors.
import type { ArrowValue } from '../../grammar/arrow/index.js'
import type { Value } from '../../grammar/monkscript/index.js'
import type { Mesh } from '../../mesh/mesh.js'
import { ask, spawnActor, tell, type ActorRef, type ActorSystem, type Clock, type Logger, type ReplyTo } from '../kit/index.js'
import type { ActionInfo, ExecReply, LogItem, RunnableRequest } from '../messages/runnable.js'
import { Runnable, type Assignment } from '../runnable.js'
import type { Runtime } from '../runtime/runtime.js'
import type { SecretBox } from '../secrets.js'
import type { WantRecord } from '../state.js'

export type { Assignment }

/** A request a runnable actor answers itself (on the owner). */
export type OwnerRequest = Extract<RunnableRequest, { type: 'runnable.action' | 'runnable.exec' | 'runnable.logs-page' }>

export interface OwnerReplies {
  'runnable.action': { output: unknown }
  'runnable.exec': ExecReply
  'runnable.logs-page': LogItem[]
}

export type LogStreams = Awaited<ReturnType<Runnable['logs']>>
export interface LogOptions { follow?: boolean | undefined, tail?: number | undefined, container?: string | undefined }

type Call = { ok: true, value: unknown } | { ok: false, error: unknown }
type RunnableMsg =
  | { type: 'runnable.reconcile', assignment: Assignment }
  | { type: 'runnable.tick' }
  | { type: 'runnable.call', fn: (r: Runnable) => Promise<unknown>, replyTo: ReplyTo<Call> }

export interface RunnableHostDeps {
  system: ActorSystem
  mesh: Mesh
  name: string
  home: string
  runtime: Runtime
  log: Logger
  secrets: SecretBox
  clock: Clock
  hostOf: (peerId: string) => string
  act: (path: string, args: Record<string, ArrowValue>) => Promise<ArrowValue>
}

/** How long a request may run inside an actor (actions can be slow). */
const CALL_TIMEOUT_MS = 120_000

export class RunnableActors {
  private readonly actors = new Map<string, { ref: ActorRef<RunnableMsg>, last: Assignment | null }>()

  constructor (private readonly d: RunnableHostDeps) {}

  names (): string[] { return [...this.actors.keys()] }

  /** Makes sure `instance` has an actor (e.g. to adopt containers found at start). */
  ensure (instance: string): void { this.entry(instance) }

  /** Tells the actor its assignment if it changed since the last one. */
  assign (instance: string, a: Assignment): void {
    const e = this.entry(instance)
    if (e.last && JSON.stringify(e.last) === JSON.stringify(a)) return
    e.last = a
    tell(e.ref, { type: 'runnable.reconcile', assignment: a })
  }

  tickAll (): void {
    for (const a of this.actors.values()) tell(a.ref, { type: 'runnable.tick' })
  }

  /** Answers an owner request inside the instance's actor. */
  async request<T extends OwnerRequest['type']> (instance: string, want: WantRecord, msg: Extract<OwnerRequest, { type: T }>): Promise<OwnerReplies[T]> {
    const m: OwnerRequest = msg
    switch (m.type) {
      case 'runnable.action': {
        const args = { ...m.args }
        const output = await this.call(instance, r => r.action(want, m.action, args))
        return narrow<OwnerReplies[T]>({ output })
      }
      case 'runnable.exec': return narrow<OwnerReplies[T]>(await this.call(instance, r => r.exec(m.cmd, m.container)))
      case 'runnable.logs-page': {
        const o = { ...(m.tail !== undefined ? { tail: m.tail } : {}), ...(m.since !== undefined ? { since: new Date(m.since) } : {}), ...(m.container !== undefined ? { container: m.container } : {}) }
        const page = await this.call(instance, r => r.logPage(o))
        return narrow<OwnerReplies[T]>(page.map(l => ({ time: l.time, stream: l.stream === 'stderr' ? 'stderr' : 'stdout', container: l.container, text: l.text })))
      }
    }
  }

  /** The owner's log streams of an instance, one per container. */
  async logs (instance: string, opts: LogOptions): Promise<LogStreams> {
    const o = { ...(opts.follow !== undefined ? { follow: opts.follow } : {}), ...(opts.tail !== undefined ? { tail: opts.tail } : {}), ...(opts.container !== undefined ? { container: opts.container } : {}) }
    return await this.call(instance, r => r.logs(o))
  }

  /** The actions a template defines (read from its record; no actor needed). */
  static actionsOf (value: Record<string, unknown> | undefined): ActionInfo[] {
    const acts = value?.actions
    if (!acts || typeof acts !== 'object' || Array.isArray(acts)) return []
    return Object.entries(acts).map(([name, a]) => {
      const m = a !== null && typeof a === 'object' && !Array.isArray(a) ? a : {}
      const args = 'arguments' in m && m.arguments !== null && typeof m.arguments === 'object' && !Array.isArray(m.arguments) ? { ...m.arguments } : {}
      return { name, description: 'description' in m && typeof m.description === 'string' ? m.description : '', arguments: args }
    })
  }

  private async call<T> (instance: string, fn: (r: Runnable) => Promise<T>): Promise<T> {
    const r = await ask(this.entry(instance).ref, replyTo => ({ type: 'runnable.call' as const, fn, replyTo }), CALL_TIMEOUT_MS)
    if (!r.ok) throw r.error
    return narrow<T>(r.value)
  }

  private entry (instance: string): { ref: ActorRef<RunnableMsg>, last: Assignment | null } {
    const have = this.actors.get(instance)
    if (have) return have
    const d = this.d
    const runnable = new Runnable(instance, {
      peerId: d.mesh.peerId,
      peerName: d.name,
      home: d.home,
      runtime: d.runtime,
      log: d.log,
      secrets: d.secrets,
      get: k => d.mesh.get(k),
      scan: p => d.mesh.scan(p),
      put: (k, v: Value) => d.mesh.put(k, v),
      del: k => d.mesh.delete(k),
      hostOf: id => d.hostOf(id),
      act: (path, args) => d.act(path, args),
      now: () => d.clock.now(),
    })
    let last: Assignment | null = null
    const entry = {
      ref: spawnActor<null, RunnableMsg>(d.system, `runnable:${instance}`, {
        initialState: null,
        handle: async (s, msg) => {
          if (msg.type === 'runnable.reconcile') { last = msg.assignment; await runnable.reconcile(msg.assignment) } else if (msg.type === 'runnable.tick') { if (last?.owner && last.want?.state === 'run') await runnable.reconcile(last) } else {
            try { msg.replyTo({ ok: true, value: await msg.fn(runnable) }) } catch (error) { msg.replyTo({ ok: false, error }) }
          }
          return s
        },
      }),
      last: null,
    }
    this.actors.set(instance, entry)
    return entry
  }
}

/** The reply of a closure call is the closure's own result type (checked where it was made). */
function narrow<T> (v: unknown): T {
  return v as T
}
