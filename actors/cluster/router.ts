// Location transparency for runnable messages: describe and actions answer from the local
// replica; action, exec and log pages run in the owner's actor — here when this peer owns the
// instance, else forwarded to the owner over `/monk/actor/1`; logs stream from wherever they live.
import type { ArrowValue } from '../../grammar/arrow/index.js'
import type { Mesh } from '../../mesh/mesh.js'
import type { Scheduler } from '../kit/clock.js'
import { isGroupKind, type GroupActors } from '../group/actor.js'
import type { Handlers } from '../messages/index.js'
import type { LogItem } from '../messages/runnable.js'
import { normalisePath } from '../paths.js'
import { didYouMean } from '../suggest.js'
import { decodeStatus, decodeTpl, decodeWant, keys, wantAt, type WantRecord } from '../state.js'
import { describeEntity } from '../entity/describe.js'
import { mergeLogs, pagedLogs } from './logs.js'
import { RemoteError, type RemoteActors } from './remote.js'
import { RunnableActors, type LogOptions, type OwnerReplies, type OwnerRequest } from './runnables.js'
import type { InstanceViews } from './views.js'

export class Router {
  constructor (
    private readonly mesh: Mesh,
    private readonly views: InstanceViews,
    private readonly actors: RunnableActors,
    private readonly remote: RemoteActors,
    private readonly clock: Scheduler,
    private readonly stopped: () => boolean,
    private readonly groups: () => GroupActors,
  ) {}

  /** A path that names a group template and is not itself a wanted instance: its group actor answers. */
  private groupPath (target: string): string | undefined {
    const p = normalisePath(target)
    if (decodeWant(this.mesh.get(keys.want(p)))) return undefined
    return isGroupKind(decodeTpl(this.mesh.get(keys.tpl(p)))?.kind) ? p : undefined
  }

  /** ` (did you mean ns/app?)` when a wanted instance or a group is named nearly like `path`. */
  private nearest (path: string): string {
    const names = [...this.mesh.scan('want/').map(e => e.key.slice('want/'.length)), ...this.mesh.scan('tpl/').filter(e => isGroupKind(decodeTpl(e.value)?.kind)).map(e => e.key.slice('tpl/'.length))]
    return didYouMean(path, names)
  }

  /** The want of an instance, or a `not-found` error saying how to run it. */
  private wanted (instance: string): WantRecord {
    const want = wantAt(k => this.mesh.get(k), instance)
    if (!want) throw new RemoteError('not-found', `${instance} is not running${this.nearest(instance)} (run it with monk run ${instance})`)
    return want
  }

  /** Sends an owner request to the instance's owner, wherever it is. */
  async toOwner<T extends OwnerRequest['type']> (instance: string, msg: Extract<OwnerRequest, { type: T }>): Promise<OwnerReplies[T]> {
    const inst = normalisePath(instance)
    const want = this.wanted(inst)
    const owner = this.views.ownerOf(inst)
    if (owner === null) throw new RemoteError('not-placed', `${inst} has no running owner yet`)
    if (owner !== this.mesh.peerId) return await this.remote.ask(owner, inst, msg)
    return await this.actors.request(inst, want, msg)
  }

  /** Answers a request another peer forwarded here (this peer should be the owner). */
  async serve<T extends OwnerRequest['type']> (instance: string, msg: Extract<OwnerRequest, { type: T }>): Promise<OwnerReplies[T]> {
    return await this.actors.request(instance, this.wanted(instance), msg)
  }

  /** `act` of Arrow scripts: `ns/name/action` on whichever peer runs it. */
  async act (path: string, args: Record<string, ArrowValue>): Promise<ArrowValue> {
    const p = normalisePath(path)
    const i = p.lastIndexOf('/')
    const group = this.groupPath(p.slice(0, i))
    const out = group !== undefined ? await this.groups().action(group, p.slice(i + 1), args) : await this.toOwner(p.slice(0, i), { type: 'runnable.action', action: p.slice(i + 1), args })
    return toArrow(out.output)
  }

  /**
   * The peer that holds an instance's logs: its owner, or for a stopped instance the peer that
   * stopped it (its containers stay there, stopped, until purge).
   */
  private logPeer (inst: string): string | null {
    const owner = this.views.ownerOf(inst)
    if (owner !== null) return owner
    let best: { peer: string, at: number } | null = null
    for (const e of this.mesh.scan(keys.statusPrefix(inst))) {
      const s = decodeStatus(e.value)
      if (s?.state === 'stopped' && (best === null || s.updatedAt > best.at)) best = { peer: e.key.slice(keys.statusPrefix(inst).length), at: s.updatedAt }
    }
    return best?.peer ?? null
  }

  /** A page of logs from the peer that holds them (see logPeer). */
  private async logPage (inst: string, msg: Extract<OwnerRequest, { type: 'runnable.logs-page' }>): Promise<LogItem[]> {
    const want = this.wanted(inst)
    const at = this.logPeer(inst)
    if (at === null) throw new RemoteError('not-placed', `${inst} has no running owner yet`)
    if (at !== this.mesh.peerId) return await this.remote.ask(at, inst, msg)
    return await this.actors.request(inst, want, msg)
  }

  async logs (instance: string, opts: LogOptions, signal: AbortSignal): Promise<AsyncIterable<LogItem>> {
    const inst = normalisePath(instance)
    this.wanted(inst)
    if (this.logPeer(inst) === this.mesh.peerId) return mergeLogs(await this.actors.logs(inst, opts), signal)
    const page = async (o: { tail?: number, since?: string }): Promise<LogItem[]> =>
      await this.logPage(inst, { type: 'runnable.logs-page', ...o, ...(opts.container !== undefined ? { container: opts.container } : {}) })
    const first = pagedLogs(page, opts, signal, this.clock, this.stopped)
    // surface a failing first page as the request's error (not as a broken stream)
    const head = await first.next()
    return (async function * () {
      if (head.done !== true) yield head.value
      yield * first
    })()
  }

  /**
   * The runnable messages. Sent to a group's path, describe, actions, action and logs are answered
   * by the group actor, so `monk describe|logs|do|actions` take a group path as they take an instance.
   */
  handlers (): Handlers<'runnable'> {
    const group = (ctx: { target: string | undefined }): string | undefined => this.groupPath(ctx.target ?? '')
    return {
      'runnable.describe': (_m, ctx) => {
        const g = group(ctx)
        if (g !== undefined) return this.groups().describe(g)
        const d = this.views.describe(ctx.target ?? '')
        if (d.state === null && d.peer === null) throw new RemoteError('not-found', `${d.instance} is not running${this.nearest(d.instance)} (run it with monk run ${d.instance})`)
        return Promise.resolve(d)
      },
      'runnable.actions': (_m, ctx) => {
        const g = group(ctx)
        if (g !== undefined) return this.groups().actions(g)
        const want = this.wanted(normalisePath(ctx.target ?? ''))
        const tpl = decodeTpl(this.mesh.get(keys.tpl(want.template)))
        if (tpl?.kind === 'entity-instance') return Promise.resolve(describeEntity(this.mesh, want.template, tpl.value).actions.map(name => ({ name, description: '', arguments: {} })))
        return Promise.resolve(RunnableActors.actionsOf(tpl?.value))
      },
      'runnable.action': (m, ctx) => {
        const g = group(ctx)
        return g !== undefined ? this.groups().action(g, m.action, m.args ?? {}) : this.toOwner(ctx.target ?? '', m)
      },
      'runnable.exec': (m, ctx) => this.toOwner(ctx.target ?? '', m),
      'runnable.logs-page': (m, ctx) => this.logPage(normalisePath(ctx.target ?? ''), m),
      'runnable.logs': (m, ctx) => {
        const g = group(ctx)
        return g !== undefined ? this.groups().logs(g, m, ctx.signal) : this.logs(ctx.target ?? '', m, ctx.signal)
      },
    }
  }
}

/** Action output (JSON from CBOR or the actor) as an Arrow value. */
function toArrow (v: unknown): ArrowValue {
  const parsed: ArrowValue = JSON.parse(JSON.stringify(v ?? null))
  return parsed
}
