// One fetch per cluster: for each hub source, the live peer that wins rendezvous on the source's
// name fetches it (git), compiles it and writes what changed into the replica; every other peer
// reads the records from its own replica. When that peer dies, the next winner takes the source's
// next sync. A sync runs when a source is added, when any peer asks (`hub/want/<name>`), and every
// `autoupdate` ms. A failing source gets its error in its status once per attempt, never a loop.
import { join } from 'node:path'
import type { Mesh } from '../../mesh/mesh.js'
import type { Logger, Scheduler, Timer } from '../kit/index.js'
import { rendezvousScore } from '../rendezvous.js'
import { isObj } from '../values.js'
import { defaultHubLimits, runSyncJob, type HubLimits } from './job.js'
import { hubSources } from './lookup.js'
import { decodeSource, decodeStatus, defaultSources, encodeSource, encodeStatus, hubKeys, type HubSource, type HubStatus } from './records.js'

export interface HubOptions {
  /** Where working copies are kept (`<home>/hub/<source>`). */
  home: string
  /** Refresh period in ms; 0: only on add and on request. */
  autoupdateMs: number
  /** Write the default monk-io sources into a cluster that never had them. */
  defaults: boolean
  /** Fetch and compile limits (size, files, time, memory, record size); the defaults otherwise. */
  limits?: Partial<HubLimits>
}

/** Hub records written at once (see sync). */
const WRITE_CHUNK = 32

export const wantOf = (v: unknown): number => isObj(v) && typeof v.req === 'number' ? v.req : 0

export class HubSyncer {
  private readonly timers: Timer[] = []
  private readonly unsubscribe: Array<() => void> = []
  private readonly queue = new Set<string>()
  private running = false
  private stopped = false
  /** Stops a sync's child process when the syncer stops. */
  private readonly abort = new AbortController()

  constructor (private readonly mesh: Mesh, private readonly clock: Scheduler, private readonly log: Logger, private readonly o: HubOptions) {}

  start (): void {
    const kick = (): void => { this.kick() }
    this.unsubscribe.push(this.mesh.onChange('hub/src/', kick), this.mesh.onChange('hub/want/', kick), this.mesh.onPeerDown(kick), this.mesh.onPeerUp(kick))
    void this.mesh.whenSynced().then(async () => {
      if (this.stopped) return
      if (this.o.defaults && this.mesh.get(hubKeys.seeded) === undefined) await this.seed()
      kick()
    })
    if (this.o.autoupdateMs > 0) {
      const every = Math.max(1000, Math.min(60_000, this.o.autoupdateMs / 4))
      const tick = (): void => {
        if (this.stopped) return
        kick()
        this.timers.push(this.clock.setTimeout(tick, every))
      }
      this.timers.push(this.clock.setTimeout(tick, every))
    }
  }

  stop (): void {
    this.stopped = true
    this.abort.abort()
    for (const t of this.timers) t.cancel()
    for (const u of this.unsubscribe) u()
  }

  private async seed (): Promise<void> {
    const now = this.clock.now()
    for (const s of defaultSources) if (this.mesh.get(hubKeys.source(s.name)) === undefined) await this.mesh.put(hubKeys.source(s.name), encodeSource({ name: s.name, url: s.url, ref: null, addedAt: now }))
    await this.mesh.put(hubKeys.seeded, now)
  }

  /** The live peer that fetches `source`. */
  fetcherOf (source: string): string {
    let best = this.mesh.peerId
    let score = -Infinity
    for (const id of this.mesh.alive()) {
      const s = rendezvousScore(`hub/${source}`, id, 1)
      if (s > score) { score = s; best = id }
    }
    return best
  }

  /** Queues every source this peer fetches and that is due. */
  kick (): void {
    if (this.stopped) return
    const now = this.clock.now()
    for (const s of hubSources(this.mesh)) {
      if (this.fetcherOf(s.name) !== this.mesh.peerId) continue
      const st = decodeStatus(this.mesh.get(hubKeys.status(s.name)))
      const asked = wantOf(this.mesh.get(hubKeys.want(s.name)))
      const due = st === undefined || st.triedAt === null || asked > st.handled || s.addedAt > st.triedAt ||
        (this.o.autoupdateMs > 0 && now - st.triedAt >= this.o.autoupdateMs)
      if (due) this.queue.add(s.name)
    }
    void this.drain()
  }

  private async drain (): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      while (!this.stopped && this.queue.size) {
        const name = this.queue.values().next().value as string
        this.queue.delete(name)
        const src = decodeSource(this.mesh.get(hubKeys.source(name)))
        if (src) await this.sync(src)
      }
    } finally { this.running = false }
  }

  private async sync (src: HubSource): Promise<void> {
    const before = decodeStatus(this.mesh.get(hubKeys.status(src.name)))
    const asked = wantOf(this.mesh.get(hubKeys.want(src.name)))
    const started = this.clock.now()
    let st: HubStatus
    try {
      // fetched and compiled in a worker thread: this thread only writes what it hands back
      const previous = this.mesh.scan(hubKeys.kitPrefix(src.name)).flatMap(e => isObj(e.value) && typeof e.value.hash === 'string'
        ? [[e.key.slice(hubKeys.kitPrefix(src.name).length), { hash: e.value.hash, kit: typeof e.value.kit === 'string' ? e.value.kit : '' }] as [string, { hash: string, kit: string }]]
        : [])
      const c = await runSyncJob({ source: src.name, url: src.url, ref: src.ref, dir: join(this.o.home, 'hub', src.name), previous, now: started, limits: { ...defaultHubLimits, ...this.o.limits } }, { signal: this.abort.signal })
      const commit = c.commit
      // the source may have been removed while it was fetched
      if (this.stopped || decodeSource(this.mesh.get(hubKeys.source(src.name))) === undefined) return
      // written in concurrent chunks: each write is fsynced, and the store commits concurrent writes together
      for (let i = 0; i < c.write.length; i += WRITE_CHUNK) await Promise.all(c.write.slice(i, i + WRITE_CHUNK).map(k => this.mesh.put(hubKeys.kit(src.name, k.path), k.value)))
      for (let i = 0; i < c.remove.length; i += WRITE_CHUNK) await Promise.all(c.remove.slice(i, i + WRITE_CHUNK).map(p => this.mesh.delete(hubKeys.kit(src.name, p))))
      st = { commit, kits: c.kits, templates: c.templates, syncedAt: this.clock.now(), triedAt: started, error: null, broken: c.broken, handled: asked, by: this.mesh.peerId, written: c.write.length, deleted: c.remove.length }
      this.log.info({ source: src.name, commit, written: c.write.length, deleted: c.remove.length, broken: c.broken.length, fetchMs: c.fetchMs, compileMs: c.compileMs, ms: this.clock.now() - started }, `hub source ${src.name} synced at ${commit.slice(0, 12)}`)
    } catch (err) {
      const error = (err as Error).message
      st = { commit: before?.commit ?? null, kits: before?.kits ?? 0, templates: before?.templates ?? 0, syncedAt: before?.syncedAt ?? null, triedAt: started, error, broken: before?.broken ?? [], handled: asked, by: this.mesh.peerId, written: 0, deleted: 0 }
      // said once: the same error again is not logged again (hub ls shows it)
      if (!this.stopped && before?.error !== error) this.log.warn({ source: src.name }, `hub source ${src.name}: ${error}`)
    }
    if (this.stopped || decodeSource(this.mesh.get(hubKeys.source(src.name))) === undefined) return
    await this.mesh.put(hubKeys.status(src.name), encodeStatus(st))
  }
}
