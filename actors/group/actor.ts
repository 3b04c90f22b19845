// The group actor `group:<path>`, one per wanted group or process-group: its members (recursively,
// nested groups flattened), their start order from `depends`, its own status aggregated from the
// members' rows in the local replica, its actions (run here, in the group's scope), and describe and
// logs of the whole group. Requests are answered beside the actor, so a slow action or a followed
// log blocks nothing.
import { ask, isAlive, spawnActor, stopActor, type ActorRef, type ActorSystem } from '../kit/index.js'
import type { GroupDescribe, GroupLogItem, GroupMember, GroupMsg, GroupStatus } from '../messages/group.js'
import type { ActionInfo, LogItem } from '../messages/runnable.js'
import type { Describe } from '../messages/workload.js'
import { normalisePath } from '../paths.js'
import { actionArguments, actionInfos, actionOf, runActionCode } from '../runnable/actions.js'
import { InstanceContext, type RunnableDeps } from '../runnable/context.js'
import { RunnableError } from '../runnable/errors.js'
import { runnableHost } from '../runnable/host.js'
import { decodeTpl, keys, specOf, type WantRecord } from '../state.js'
import { mergeMembers } from './logs.js'
import { aggregate, startOrder, type MemberDecl } from './status.js'

export interface GroupDeps {
  /** The peer's services, for the Arrow host of group actions (secrets, act, replica reads). */
  runnable: RunnableDeps
  /** An instance as the cluster describes it (from the local replica). */
  describe: (instance: string) => Describe
  /** An instance's logs, wherever its owner is. */
  logs: (instance: string, opts: { follow: boolean, tail?: number }, signal: AbortSignal) => Promise<AsyncIterable<LogItem>>
}

/** How long a group request may take (an action can be slow). */
const REQUEST_TIMEOUT_MS = 120_000

export const isGroupKind = (kind: string | undefined): boolean => kind === 'group' || kind === 'process-group'

/** The runnable and entity-instance members of a group, recursively (nested groups flattened), each once, in list order. */
export function groupMembers (get: (key: string) => unknown, path: string): MemberDecl[] {
  const out: MemberDecl[] = []
  const seen = new Set<string>([path])
  const walk = (g: string): void => {
    for (const m of decodeTpl(get(keys.tpl(g)))?.members ?? []) {
      if (seen.has(m)) continue
      seen.add(m)
      const t = decodeTpl(get(keys.tpl(m)))
      if (t?.kind === 'runnable' || t?.kind === 'entity-instance') out.push({ path: m, depends: specOf(t).depends.runnables })
      else if (isGroupKind(t?.kind)) walk(m)
    }
  }
  walk(path)
  return out
}

class Group {
  private readonly ctx: InstanceContext

  constructor (readonly path: string, private readonly d: GroupDeps, clock: InstanceContext['clock']) {
    this.ctx = new InstanceContext(path, d.runnable, clock)
  }

  private template (): NonNullable<ReturnType<InstanceContext['template']>> {
    const t = this.ctx.template(this.path)
    if (!t) throw new RunnableError('not-found', `no template "${this.path}" is loaded (monk load it first)`)
    if (!isGroupKind(t.tpl.kind)) throw new RunnableError('not-group', `${this.path} is a ${t.tpl.kind}, not a group or process-group`)
    return t
  }

  status (): GroupStatus {
    this.template()
    const decls = groupMembers(this.d.runnable.get, this.path)
    const { order, cycles } = startOrder(decls)
    const members: GroupMember[] = decls.map(m => {
      const r = this.d.describe(m.path)
      return { instance: r.instance, status: r.status, ready: r.ready, peerName: r.peerName, waiting: r.waiting, error: r.error }
    })
    return aggregate(this.path, members, order, cycles)
  }

  describe (): GroupDescribe {
    const t = this.template()
    const status = this.status()
    return { path: this.path, kind: t.tpl.kind, status, members: status.order.map(m => this.d.describe(m)), actions: this.actions() }
  }

  actions (): ActionInfo[] {
    return actionInfos(this.template().spec)
  }

  /** Runs a group action here, in the group's own scope (its variables, then enclosing groups'). */
  async action (name: string, given: Readonly<Record<string, unknown>>): Promise<{ output: unknown }> {
    const t = this.template()
    const action = actionOf(t, name)
    const args = actionArguments(this.path, action, given)
    const want: WantRecord = { template: this.path, state: 'run', root: this.path, set: {}, tags: [], peer: null, forceMove: 0, generation: 0, updatedAt: 0 }
    const vars = this.ctx.vars(want, t, runnableHost(this.ctx, t), args)
    return { output: await runActionCode(this.path, action, vars) }
  }

  /** Every member's logs merged, each line with its member; members not running are skipped. */
  async logs (o: { follow: boolean, tail?: number, signal: AbortSignal }): Promise<AsyncIterable<GroupLogItem>> {
    const status = this.status()
    const sources: Array<{ member: string, lines: AsyncIterable<LogItem> }> = []
    for (const m of status.members) {
      if (m.status === null || m.status === 'not placed') continue
      try {
        sources.push({ member: m.instance, lines: await this.d.logs(m.instance, { follow: o.follow, ...(o.tail !== undefined ? { tail: o.tail } : {}) }, o.signal) })
      } catch (err) {
        this.d.runnable.log.debug({ group: this.path, member: m.instance, err }, `no logs of ${m.instance}`)
      }
    }
    return mergeMembers(sources, o.signal)
  }
}

/** The group actors of one peer, spawned when a group is wanted or asked about. */
export class GroupActors {
  private readonly actors = new Map<string, ActorRef<GroupMsg>>()

  constructor (private readonly system: ActorSystem, private readonly d: GroupDeps) {}

  /** Keeps one actor per path in `wanted` (the group roots of the wants), stopping the others. */
  sync (wanted: Iterable<string>): void {
    const keep = new Set([...wanted].map(normalisePath))
    for (const p of keep) this.ref(p)
    for (const [p, ref] of this.actors) if (!keep.has(p)) { stopActor(ref); this.actors.delete(p) }
  }

  names (): string[] { return [...this.actors.keys()] }

  async status (path: string): Promise<GroupStatus> { return await ask(this.ref(path), replyTo => ({ type: 'group.status' as const, replyTo }), REQUEST_TIMEOUT_MS) }
  async describe (path: string): Promise<GroupDescribe> { return await ask(this.ref(path), replyTo => ({ type: 'group.describe' as const, replyTo }), REQUEST_TIMEOUT_MS) }
  async actions (path: string): Promise<ActionInfo[]> { return await ask(this.ref(path), replyTo => ({ type: 'group.actions' as const, replyTo }), REQUEST_TIMEOUT_MS) }
  async action (path: string, action: string, args: Readonly<Record<string, unknown>> = {}): Promise<{ output: unknown }> {
    return await ask(this.ref(path), replyTo => ({ type: 'group.action' as const, action, args, replyTo }), REQUEST_TIMEOUT_MS)
  }

  async logs (path: string, o: { follow?: boolean | undefined, tail?: number | undefined }, signal: AbortSignal): Promise<AsyncIterable<GroupLogItem>> {
    return await ask(this.ref(path), replyTo => ({ type: 'group.logs' as const, follow: o.follow === true, ...(o.tail !== undefined ? { tail: o.tail } : {}), signal, replyTo }), REQUEST_TIMEOUT_MS)
  }

  private ref (path: string): ActorRef<GroupMsg> {
    const p = normalisePath(path)
    const have = this.actors.get(p)
    if (have && isAlive(have)) return have
    const d = this.d
    const ref = spawnActor<Group, GroupMsg>(this.system, `group:${p}`, {
      init: ctx => new Group(p, d, ctx.clock),
      handle: (g, msg) => {
        const fail = (err: unknown): void => { msg.replyTo.fail(err instanceof Error ? err : new Error(String(err))) }
        const answer = async (): Promise<void> => {
          switch (msg.type) {
            case 'group.status': msg.replyTo(g.status()); return
            case 'group.describe': msg.replyTo(g.describe()); return
            case 'group.actions': msg.replyTo(g.actions()); return
            case 'group.action': msg.replyTo(await g.action(msg.action, msg.args)); return
            case 'group.logs': msg.replyTo(await g.logs(msg))
          }
        }
        answer().catch(fail)
        return g
      },
    })
    this.actors.set(p, ref)
    return ref
  }
}
