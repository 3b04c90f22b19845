// The peer: one per monkd, the root of its actor tree. It wires the cluster actor's parts —
// membership view (cluster/membership.ts), placement loop (cluster/placement-loop.ts), runnable
// actors (cluster/runnables.ts), routing to local or remote actors (cluster/router.ts over
// cluster/remote.ts), the replica read model (cluster/views.ts) — and the message handlers
// (handlers/*) that the table in messages/index.ts names. It owns no logic of its own.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Mesh } from '../mesh/mesh.js'
import { Membership, UNKNOWN_GRACE_MS } from './cluster/membership.js'
import { PlacementLoop } from './cluster/placement-loop.js'
import { RemoteActors, type RemoteStats } from './cluster/remote.js'
import { Router } from './cluster/router.js'
import { RunnableActors } from './cluster/runnables.js'
import { Overlay } from './cluster/overlay.js'
import { OperatorStreams } from './cluster/sessions.js'
import { InstanceViews } from './cluster/views.js'
import { GroupActors } from './group/actor.js'
import { groupHandlers } from './group/handlers.js'
import { clusterHandlers, type ClusterExtras } from './handlers/cluster.js'
import { secretHandlers } from './handlers/secrets.js'
import { templateHandlers } from './handlers/templates.js'
import { HubSyncer, type HubOptions } from './hub/syncer.js'
import { workloadHandlers } from './handlers/workloads.js'
import { startSystem, systemScheduler, type ActorSystem, type Scheduler, type Logger, type Timer } from './kit/index.js'
import type { AllHandlers, Handlers } from './messages/index.js'
import { LABEL_INSTANCE, LABEL_PEER, type Runtime } from './runtime/runtime.js'
import { SealKey } from './cloud/credentials.js'
import { SecretKeeper } from './secret-keeper.js'
import { SecretKeys, secretGrantPrefix } from './secret-keys.js'
import { readWants } from './state.js'

/** How often every runnable re-reads its containers (crash detection, status refresh). */
const TICK_MS = 1000

export interface PeerOptions {
  home: string
  name: string
  tags: string[]
  mesh: Mesh
  runtime: Runtime
  log: Logger
  clock?: Scheduler
  /** What this peer offers to resource requests (cpu in cores, memory in bytes); published in its record. Absent: no capacity is published (requests fit nowhere). */
  capacity?: { cpu: number, memory: number }
  /** Hub sync settings (absent: no default sources, no timer; syncs on add and on request only). */
  hub?: Omit<HubOptions, 'home'>
}

export class Peer {
  readonly id: string
  private readonly clock: Scheduler
  private readonly system: ActorSystem
  private readonly members: Membership
  private readonly views: InstanceViews
  private readonly actors: RunnableActors
  private readonly remote: RemoteActors
  private readonly router: Router
  private readonly placement: PlacementLoop
  private readonly groups: GroupActors
  private readonly overlay: Overlay
  /** Shells and port forwards into instances, wherever they run (cluster/sessions.ts). */
  readonly operator: OperatorStreams
  /** Seals and opens secrets under the data keys this peer holds (secret-keys.ts). */
  readonly secrets: SecretKeys
  private readonly keeper: SecretKeeper
  private readonly hub: HubSyncer
  private readonly timers: Timer[] = []
  private readonly unsubscribe: Array<() => void> = []
  private stopped = false

  private constructor (private readonly o: PeerOptions) {
    const mesh = o.mesh
    this.id = mesh.peerId
    this.clock = o.clock ?? systemScheduler
    this.system = startSystem(`monkd-${this.id.slice(-8)}`, { logger: o.log })
    this.secrets = new SecretKeys(mesh, SealKey.open(o.home))
    this.keeper = new SecretKeeper(mesh, this.secrets, o.log, Date.now, () => this.placement.secretHolders())
    this.members = new Membership(mesh, this.clock)
    this.views = new InstanceViews(mesh, this.members, inst => this.placement.unplaced(inst), inst => this.placement.unplaceable(inst))
    this.remote = new RemoteActors(mesh)
    this.overlay = new Overlay(mesh, o.log, this.clock, o.runtime.endpointHost)
    this.operator = new OperatorStreams(mesh, inst => this.views.ownerOf(inst), o.runtime, o.log)
    this.actors = new RunnableActors({
      system: this.system, mesh, name: o.name, home: o.home, runtime: o.runtime, log: o.log, secrets: this.secrets, clock: this.clock,
      hostOf: id => this.members.hostOf(id),
      act: (path, args) => this.router.act(path, args),
      overlay: this.overlay,
    })
    this.router = new Router(mesh, this.views, this.actors, this.remote, this.clock, () => this.stopped, () => this.groups)
    this.placement = new PlacementLoop(mesh, this.members, this.actors, this.clock)
    this.hub = new HubSyncer(mesh, this.clock, o.log, { home: o.home, autoupdateMs: 0, defaults: false, ...o.hub })
    this.groups = new GroupActors(this.system, {
      runnable: this.actors.deps(),
      describe: inst => this.views.describe(inst),
      logs: (inst, opts, signal) => this.router.logs(inst, opts, signal),
    })
  }

  /** The mesh this peer runs on. */
  get mesh (): Mesh { return this.o.mesh }

  static async start (o: PeerOptions): Promise<Peer> {
    const p = new Peer(o)
    await p.begin()
    return p
  }

  private async begin (): Promise<void> {
    const m = this.o.mesh
    mkdirSync(join(this.o.home, 'volumes'), { recursive: true })
    await m.announce({ name: this.o.name, tags: this.o.tags, runtime: this.o.runtime.kind, ...(this.o.capacity ? { capacity: { ...this.o.capacity } } : {}) })
    await this.remote.listen((instance, msg) => this.router.serve(instance, msg))
    await this.overlay.start()
    await this.keeper.start()
    await this.operator.start()
    const place = (): void => this.placement.schedule()
    for (const prefix of ['want/', 'claim/', 'tpl/', 'peer/']) this.unsubscribe.push(m.onChange(prefix, place))
    // one group actor per wanted group root (a want's `root` that is not the instance itself)
    const syncGroups = (): void => { this.groups.sync(new Set([...readWants(m.scan('want/'))].filter(([i, w]) => w.root !== i).map(([, w]) => w.root))) }
    this.unsubscribe.push(m.onChange('want/', syncGroups))
    syncGroups()
    this.unsubscribe.push(m.onPeerUp(place), m.onPeerDown(place))
    // a grant to this peer arrived or changed: an instance waiting for it starts now, not after its backoff
    this.unsubscribe.push(m.onChange(`${secretGrantPrefix}${this.id}/`, () => { this.actors.nudgeAll() }))
    // Containers this peer ran before a restart: give each an actor so it is adopted or stopped.
    for (const c of await this.o.runtime.list({ [LABEL_PEER]: this.id })) {
      const inst = c.labels[LABEL_INSTANCE]
      if (inst) this.actors.ensure(inst)
    }
    void m.whenSynced().then(place)
    this.hub.start()
    // Place again when the grace for unheard peers ends (their instances may have to move then).
    this.timers.push(this.clock.setTimeout(place, UNKNOWN_GRACE_MS + 50))
    const tick = (): void => {
      if (this.stopped) return
      this.actors.tickAll()
      this.timers.push(this.clock.setTimeout(tick, TICK_MS))
    }
    this.timers.push(this.clock.setTimeout(tick, TICK_MS))
  }

  /** The handlers this peer serves (all but the cloud's, which the daemon adds). */
  handlers (extras: ClusterExtras = {}): Omit<AllHandlers, 'cloud'> {
    const m = this.o.mesh
    return {
      cluster: clusterHandlers(m, this.members, { name: this.o.name, tags: this.o.tags, runtime: this.o.runtime.kind }, { ...extras, reserved: id => this.views.reserved(id) }),
      templates: templateHandlers(m, this.clock, this.hub),
      workloads: workloadHandlers(m, this.views, this.clock),
      secrets: secretHandlers(m, this.secrets),
      runnable: this.router.handlers(),
      group: groupHandlers(this.groups),
    }
  }

  /** The runnable handlers alone (tests drive describe/action/logs through them). */
  runnableHandlers (): Handlers<'runnable'> { return this.router.handlers() }

  /** Counters of the `/monk/actor/1` protocol (malformed requests are counted here). */
  get remoteStats (): RemoteStats { return this.remote.stats }

  /**
   * Before a clean leave: remove this peer's containers and claims so the remaining peers take the
   * work at once (they see the leave and the claims gone).
   */
  async handOver (): Promise<void> {
    await this.stop()
    const mine = new Set<string>()
    for (const c of await this.o.runtime.list({ [LABEL_PEER]: this.id })) {
      const inst = c.labels[LABEL_INSTANCE]
      if (inst) mine.add(inst)
      await this.o.runtime.remove(c.id, { force: true }).catch(() => {})
    }
    for (const { key } of this.o.mesh.scan('claim/')) if (key.endsWith(`/${this.id}`)) await this.o.mesh.delete(key)
    for (const { key } of this.o.mesh.scan('status/')) if (key.endsWith(`/${this.id}`)) await this.o.mesh.delete(key)
    this.o.log.info({ instances: [...mine] }, `handed over ${mine.size} instance(s)`)
  }

  /** Leaves containers running (a restarted daemon adopts them) and stops the actors. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.placement.stop()
    this.hub.stop()
    this.keeper.stop()
    for (const t of this.timers) t.cancel()
    for (const u of this.unsubscribe) u()
    await this.overlay.stop()
    this.system.stop()
  }
}
