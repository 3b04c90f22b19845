// The runnable actors of one peer (`runnable:<instance>`, actors/runnable/), spawned on demand:
// placement tells each its assignment, a tick makes owners re-read their containers, and requests
// (action, exec, logs) are typed messages the actor answers. This is the seam to the runnable
// actor: everything the cluster needs from it goes through RunnableActors.
import type { ArrowValue } from '../../grammar/arrow/index.js'
import type { MapValue, Value } from '../../grammar/monkscript/index.js'
import { runnableSpec } from '../../grammar/monkscript/runnable-spec.js'
import type { Mesh } from '../../mesh/mesh.js'
import { ask, tell, type ActorRef, type ActorSystem, type Scheduler, type Logger } from '../kit/index.js'
import type { ActionInfo, ExecReply, LogItem, LogStreams, RunnableMsg, RunnableRequest } from '../messages/runnable.js'
import { actionInfos, spawnRunnable, type Assignment, type RunnableDeps } from '../runnable/index.js'
import { HostPorts } from '../runnable/ports.js'
import type { Runtime } from '../runtime/runtime.js'
import type { SecretSealer } from '../secrets.js'
import { decodeTpl, keys, type WantRecord } from '../state.js'
import { spawnEntity, type EntityDeps } from '../entity/actor.js'
import { clusterCloud } from '../entity/credentials.js'

export type { Assignment, LogStreams }

/** A request a runnable actor answers itself (on the owner). */
export type OwnerRequest = Extract<RunnableRequest, { type: 'runnable.action' | 'runnable.exec' | 'runnable.logs-page' }>

export interface OwnerReplies {
  'runnable.action': { output: unknown }
  'runnable.exec': ExecReply
  'runnable.logs-page': LogItem[]
}

export interface LogOptions { follow?: boolean | undefined, tail?: number | undefined, container?: string | undefined }

export interface RunnableHostDeps {
  system: ActorSystem
  mesh: Mesh
  name: string
  home: string
  runtime: Runtime
  log: Logger
  secrets: SecretSealer
  clock: Scheduler
  hostOf: (peerId: string) => string
  act: (path: string, args: Record<string, ArrowValue>) => Promise<ArrowValue>
  overlay?: RunnableDeps['overlay']
}

/** How long a request may run inside an actor (actions can be slow). */
const CALL_TIMEOUT_MS = 120_000

export class RunnableActors {
  private readonly actors = new Map<string, { ref: ActorRef<RunnableMsg>, last: Assignment | null }>()
  private readonly ports = new HostPorts()

  constructor (private readonly d: RunnableHostDeps) {}

  names (): string[] { return [...this.actors.keys()] }

  /** Makes sure `instance` has an actor (e.g. to adopt containers found at start). */
  ensure (instance: string): void { this.entry(instance) }

  /** Tells the actor its assignment if it changed since the last one. */
  assign (instance: string, a: Assignment): void {
    const e = this.entry(instance, this.isEntity(a))
    if (e.last && JSON.stringify(e.last) === JSON.stringify(a)) return
    e.last = a
    tell(e.ref, { type: 'runnable.assign', assignment: a })
  }

  /** Is `instance` (by its want's template) an entity instance? Its actor is then an entity actor. */
  private isEntity (a: Assignment): boolean {
    const t = a.want ? decodeTpl(this.d.mesh.get(keys.tpl(a.want.template))) : undefined
    return t?.kind === 'entity-instance'
  }

  /** Tells every actor that something it may wait for changed (a secret grant): a failed start is tried again now. */
  nudgeAll (): void {
    for (const a of this.actors.values()) tell(a.ref, { type: 'runnable.nudge' })
  }

  tickAll (): void {
    for (const a of this.actors.values()) tell(a.ref, { type: 'runnable.tick' })
  }

  /** Answers an owner request in the instance's actor. */
  async request<T extends OwnerRequest['type']> (instance: string, _want: WantRecord, msg: Extract<OwnerRequest, { type: T }>): Promise<OwnerReplies[T]> {
    const ref = this.entry(instance).ref
    const m: OwnerRequest = msg
    const reply: OwnerReplies[OwnerRequest['type']] = await (async () => {
      switch (m.type) {
        case 'runnable.action': return await ask(ref, replyTo => ({ type: 'runnable.action' as const, action: m.action, args: { ...m.args }, replyTo }), CALL_TIMEOUT_MS)
        case 'runnable.exec': return await ask(ref, replyTo => ({ type: 'runnable.exec' as const, cmd: m.cmd, ...(m.container !== undefined ? { container: m.container } : {}), ...(m.stdin !== undefined ? { stdin: m.stdin } : {}), replyTo }), CALL_TIMEOUT_MS)
        case 'runnable.logs-page': return await ask(ref, replyTo => ({ type: 'runnable.logs-page' as const, ...(m.tail !== undefined ? { tail: m.tail } : {}), ...(m.since !== undefined ? { since: m.since } : {}), ...(m.container !== undefined ? { container: m.container } : {}), replyTo }), CALL_TIMEOUT_MS)
      }
    })()
    return narrow<OwnerReplies[T]>(reply)
  }

  /** The owner's log streams of an instance, one per container. */
  async logs (instance: string, opts: LogOptions): Promise<LogStreams> {
    return await ask(this.entry(instance).ref, replyTo => ({ type: 'runnable.logs' as const, follow: opts.follow === true, ...(opts.tail !== undefined ? { tail: opts.tail } : {}), ...(opts.container !== undefined ? { container: opts.container } : {}), replyTo }), CALL_TIMEOUT_MS)
  }

  /** The actions a template declares, from its typed spec (no actor needed). */
  static actionsOf (value: MapValue | undefined): ActionInfo[] {
    return value === undefined ? [] : actionInfos(runnableSpec('', value).spec)
  }

  /** What a runnable actor needs from this peer. */
  deps (): RunnableDeps {
    const d = this.d
    return {
      peerId: d.mesh.peerId,
      peerName: d.name,
      home: d.home,
      runtime: d.runtime,
      log: d.log,
      secrets: d.secrets,
      get: k => d.mesh.get(k),
      scan: p => d.mesh.scan(p),
      put: async (k, v: Value) => { await d.mesh.put(k, v) },
      del: async k => { await d.mesh.delete(k) },
      hostOf: id => d.hostOf(id),
      act: (path, args) => d.act(path, args),
      ports: this.ports,
      assignment: inst => this.actors.get(inst)?.last ?? null,
      ...(d.overlay ? { overlay: d.overlay } : {}),
    }
  }

  /** What an entity actor needs from this peer. */
  entityDeps (): EntityDeps {
    const d = this.d
    return {
      peerId: d.mesh.peerId, log: d.log, secrets: d.secrets,
      get: k => d.mesh.get(k), scan: p => d.mesh.scan(p),
      put: async (k, v) => { await d.mesh.put(k, v) }, del: async k => { await d.mesh.delete(k) },
      act: (path, args) => d.act(path, args),
      cloud: clusterCloud(d.mesh, d.home),
    }
  }

  private entry (instance: string, entity = false): { ref: ActorRef<RunnableMsg>, last: Assignment | null } {
    const have = this.actors.get(instance)
    if (have) return have
    const entry = { ref: entity ? spawnEntity(this.d.system, instance, this.entityDeps()) : spawnRunnable(this.d.system, instance, this.deps()), last: null }
    this.actors.set(instance, entry)
    return entry
  }
}

/** The reply type of one owner request, chosen by its `type` (checked by the switch above). */
function narrow<T> (v: unknown): T {
  return v as T
}
