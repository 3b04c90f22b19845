// A peer of the mesh, assembled: store, libp2p node, replica, gossip, anti-entropy, membership,
// dialer, request/response and tombstone purge behind one small API for the daemon.
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { systemClock, systemRandom, type Clock, type Random } from './clock.js'
import { checkCluster, encodeToken, parseToken, type Cluster, type JoinToken } from './cluster.js'
import type { CodecLimits } from './codec.js'
import { newCounters, type MeshCounters } from './counters.js'
import { defaults, protocols, type MeshDefaults } from './defaults.js'
import { advertised, Connections } from './dialer.js'
import { StartError, StoppedError } from './errors.js'
import { Gater } from './gater.js'
import { Gossip } from './gossip.js'
import { HlcClock, type Hlc } from './hlc.js'
import { Liveness, type DownReason, type PeerState } from './liveness.js'
import { Membership } from './membership.js'
import type { SwimConfig } from './swim.js'
import { createNode, type MeshNode } from './node.js'
import { Replica, type ChangeListener } from './replica.js'
import { Rpc, type RequestHandler } from './rpc.js'
import { Store } from './store.js'
import { AntiEntropy } from './sync.js'
import { TombstoneCollector } from './tombstones.js'
import type { Value } from './value.js'

/** Tunables; every field defaults to defaults.ts. */
export type MeshConfig = { [K in keyof MeshDefaults]: number }

export interface MeshOptions {
  /** Home of this peer; the store lives in `<home>/data`. One running mesh per home. */
  home: string
  /** Multiaddrs to listen on, e.g. ['/ip4/0.0.0.0/tcp/7946'] (tests: ['/ip4/127.0.0.1/tcp/0']). */
  listen: string[]
  /** Join an existing cluster (token text or parsed). */
  token?: string | JoinToken
  /** Found a cluster (from createCluster()). Without token and cluster, the home's stored cluster is used. */
  cluster?: Cluster
  /** Human name of this peer (published in `peer/<id>`). */
  name?: string
  /** Tags of this peer (published in `peer/<id>`). */
  tags?: string[]
  clock?: Clock
  random?: Random
  /** Overrides of defaults.ts (tests use shorter intervals). */
  config?: Partial<MeshConfig>
}

/** A peer as this peer sees it. */
export interface PeerInfo {
  id: string
  /** 'alive', 'dead' or 'left' from membership (a suspect counts as alive); 'unknown' for a peer only known from its entry. */
  state: PeerState | 'unknown'
  self: boolean
  /** Currently connected at the transport. */
  connected: boolean
  /** Alive but suspected: it missed probes and is declared dead unless it refutes. */
  suspect: boolean
  /** Why it went down, when dead or left. */
  reason: DownReason | undefined
  /** Its `peer/<id>` entry, if replicated yet. */
  record: Value | undefined
}

export type PeerUpListener = (peer: string) => void
export type PeerDownListener = (peer: string, reason: DownReason) => void

/** Starts a peer. Throws StartError (no cluster, cluster mismatch, cannot listen), StoreError, TokenError. */
export async function startMesh (options: MeshOptions): Promise<Mesh> {
  const config: MeshConfig = { ...defaults, ...options.config }
  const clock = options.clock ?? systemClock
  const random = options.random ?? systemRandom
  const store = await Store.open(options.home)
  try {
    const cluster = await resolveCluster(store, options)
    const privateKey = await store.identity()
    const self = peerIdFromPrivateKey(privateKey).toString()
    const hlc = new HlcClock(self, clock, config.maxClockSkewMs)
    const hw = await store.loadHighWater()
    if (hw) hlc.restore(hw)
    const limits: CodecLimits = {
      maxKeyBytes: config.maxKeyBytes,
      maxEntryBytes: config.maxEntryBytes,
      maxDeltaBytes: config.maxDeltaBytes,
      maxDeltaEntries: config.maxDeltaEntries,
      maxValueDepth: config.maxValueDepth,
    }
    const counters = newCounters()
    const replica = new Replica({ self, hlc, clock, limits, buckets: config.syncBuckets, onListenerError: () => { counters.listenerErrors++ } })
    replica.load(await store.loadEntries(limits))
    store.trackHighWater(() => hlc.highWater())
    const gater = new Gater()
    let node: MeshNode
    try {
      node = await createNode({ privateKey, listen: options.listen, clusterKey: cluster.key, gater: gater.libp2p, maxDeltaBytes: config.maxDeltaBytes })
    } catch (err) {
      throw new StartError(`peer ${self} cannot start its libp2p node on ${options.listen.join(', ')}: ${(err as Error).message}`, { cause: err })
    }
    gater.attach(async peer => { await node.hangUp(peerIdFromString(peer)) })
    const mesh = new Mesh({ options, config, clock, random, store, cluster, self, hlc, limits, counters, replica, gater, node })
    try {
      await mesh.begin()
    } catch (err) {
      await mesh.stop().catch(() => {})
      throw new StartError(`peer ${self} failed to start: ${(err as Error).message}`, { cause: err })
    }
    return mesh
  } catch (err) {
    await store.close().catch(() => {})
    throw err
  }
}

/** The SWIM parameters out of the mesh config. */
function swimConfig (c: MeshConfig): SwimConfig {
  return {
    probeIntervalMs: c.swimProbeIntervalMs,
    probeTimeoutMs: c.swimProbeTimeoutMs,
    indirectChecks: c.swimIndirectChecks,
    suspicionMinMs: c.swimSuspicionMinMs,
    suspicionMaxMult: c.swimSuspicionMaxMult,
    refusedSuspicionMs: c.swimRefusedSuspicionMs,
    awarenessMax: c.swimAwarenessMax,
    gossipIntervalMs: c.swimGossipIntervalMs,
    gossipFanout: c.swimGossipFanout,
    retransmitMult: c.swimRetransmitMult,
    maxPiggyback: c.swimMaxPiggyback,
    lateTickMs: c.swimLateTickMs,
  }
}

async function resolveCluster (store: Store, options: MeshOptions): Promise<JoinToken> {
  const stored = await store.cluster()
  let given: JoinToken | undefined
  if (options.token !== undefined) given = typeof options.token === 'string' ? parseToken(options.token) : options.token
  else if (options.cluster) given = { ...options.cluster, bootstrap: [] }
  if (given) checkCluster(given)
  if (given && stored && stored.id !== given.id) {
    throw new StartError(`home ${options.home} belongs to cluster ${stored.id}, not ${given.id}; use another home to join a different cluster`)
  }
  const cluster = given ?? stored
  if (!cluster) throw new StartError(`home ${options.home} has no cluster: pass a join token or a cluster from createCluster()`)
  const merged: JoinToken = { id: cluster.id, key: cluster.key, bootstrap: [...new Set([...(stored?.bootstrap ?? []), ...cluster.bootstrap])] }
  await store.saveCluster(merged)
  return merged
}

interface Parts {
  options: MeshOptions
  config: MeshConfig
  clock: Clock
  random: Random
  store: Store
  cluster: JoinToken
  self: string
  hlc: HlcClock
  limits: CodecLimits
  counters: MeshCounters
  replica: Replica
  gater: Gater
  node: MeshNode
}

/**
 * One running peer. Reads are synchronous and local; writes are applied locally at once, durable
 * when their promise resolves, and replicated by gossip within milliseconds (anti-entropy repairs
 * whatever gossip loses). Listener callbacks run synchronously on the mesh's event loop turn and
 * must not block.
 */
export class Mesh {
  /** This peer's libp2p peer id (stable across restarts of the same home). */
  readonly peerId: string
  /** Id of the cluster this peer belongs to. */
  readonly clusterId: string
  /** The transport gater: block(peers) cuts this peer off from them (tests, chaos tools). */
  readonly gater: Gater
  /** Hooks for tests only. */
  readonly testing: {
    /** Fraction of received gossip deltas silently dropped (anti-entropy must repair). */
    setGossipDropRate: (rate: number) => void
    /** Publishes raw bytes on the state topic (to test other peers' validation). */
    publishRaw: (bytes: Uint8Array) => Promise<void>
    /** Runs one anti-entropy exchange with `peer` now; resolves true when it completed. */
    syncWith: (peer: string) => Promise<boolean>
    /** Root hash of the replica digest (equal roots = equal replicas). */
    digestRoot: () => string
  }

  private readonly p: Parts
  private readonly liveness: Liveness
  private readonly gossip: Gossip
  private readonly sync: AntiEntropy
  private readonly membership: Membership
  private readonly pool: Connections
  private readonly rpc: Rpc
  private readonly tombstones: TombstoneCollector
  private readonly startedAt: number
  private isSynced = false
  private syncedWaiters: Array<() => void> = []
  private syncTimer: NodeJS.Timeout | undefined
  private purgeTimer: NodeJS.Timeout | undefined
  private state: 'running' | 'stopping' | 'stopped' = 'running'
  private readonly onConnect = (e: CustomEvent<{ toString(): string }>): void => { this.syncOnContact(e.detail.toString(), 'connect') }

  /** Use startMesh(). */
  constructor (parts: Parts) {
    this.p = parts
    const { config, clock, random, replica, hlc, limits, counters, node, self, cluster, gater } = parts
    this.peerId = self
    this.clusterId = cluster.id
    this.gater = gater
    this.startedAt = clock.now()
    this.liveness = new Liveness()
    this.gossip = new Gossip({ pubsub: node.services.pubsub, topic: protocols.stateTopic(cluster.id), replica, hlc, limits, counters, random, batchMs: config.gossipBatchMs })
    this.tombstones = new TombstoneCollector({ replica, clock, requiredPeers: () => this.requiredPeers(), minAgeMs: config.tombstoneMinAgeMs, ttlMs: config.tombstoneTtlMs })
    this.pool = new Connections({
      node, replica, gater, clock, random, self,
      bootstrap: cluster.bootstrap,
      protocol: protocols.conn(cluster.id),
      topic: protocols.stateTopic(cluster.id),
      isDown: peer => { const s = this.liveness.state(peer); return s === 'dead' || s === 'left' },
      intervalMs: config.dialIntervalMs,
      target: config.connTarget,
      max: config.connMax,
      idleMs: config.connIdleMs,
      downRetryMs: config.connDownRetryMs,
      backoffMinMs: config.dialBackoffMinMs,
      backoffMaxMs: config.dialBackoffMaxMs,
      dialTimeoutMs: config.connDialTimeoutMs,
    })
    this.sync = new AntiEntropy({
      node, replica, hlc, limits, counters, clock,
      connect: async (peer, signal) => { await this.pool.need(peer, { signal }) },
      touch: peer => { this.pool.touch(peer) },
      timeoutMs: config.syncTimeoutMs,
      maxFrameBytes: config.maxSyncFrameBytes,
      chunkBytes: config.syncChunkBytes,
      onComplete: (peer, _role, since) => {
        this.tombstones.ack(peer, since)
        this.markSynced()
      },
    })
    this.membership = new Membership({
      node, self, replica, counters, clock, random,
      protocol: protocols.swim(cluster.id),
      connections: this.pool,
      liveness: this.liveness,
      config: swimConfig(config),
      rings: config.swimRings,
      openTimeoutMs: config.connDialTimeoutMs,
    })
    this.pool.prefer(() => this.membership.neighbours())
    this.rpc = new Rpc({ node, maxBytes: config.maxRequestBytes, defaultTimeoutMs: config.requestTimeoutMs, reserved: [protocols.sync, protocols.swim(cluster.id), protocols.conn(cluster.id)] })
    this.testing = {
      setGossipDropRate: rate => { this.gossip.setDropRate(rate) },
      publishRaw: async bytes => { await this.gossip.publishRaw(bytes) },
      syncWith: async peer => await this.sync.syncWith(peer),
      digestRoot: () => Buffer.from(replica.digest.rootHash()).toString('hex'),
    }
  }

  /** Mesh-internal: wires the parts and starts them. */
  async begin (): Promise<void> {
    const { replica, store, counters, node } = this.p
    replica.onApply((entries, origin) => {
      if (origin === 'remote') store.write(entries, false).catch(() => { counters.storeErrors++ })
    })
    this.gossip.start()
    await this.sync.start()
    await this.membership.start()
    this.liveness.onUp(peer => { this.syncOnContact(peer, 'up') })
    node.addEventListener('peer:connect', this.onConnect)
    await this.writeSelf({}, true)
    // the founder of a cluster, or a peer that knows no other, has nothing to sync with
    if (this.p.cluster.bootstrap.length === 0 && this.pool.known().size === 0) this.markSynced()
    await this.pool.start()
    this.scheduleSync()
    this.purgeTimer = setInterval(() => { void this.purge() }, this.p.config.purgeIntervalMs)
  }

  // ---- replica ----

  /** Current value of `key`, or undefined if absent or deleted. */
  get (key: string): Value | undefined { return this.p.replica.get(key) }

  /** Value with its HLC (tombstones included, value undefined). */
  entry (key: string): { value: Value | undefined; hlc: Hlc } | undefined {
    const e = this.p.replica.entry(key)
    return e && { value: e.value, hlc: e.hlc }
  }

  /** Live keys under `prefix` (a plain string prefix), sorted by key. */
  scan (prefix: string): Array<{ key: string; value: Value }> { return this.p.replica.scan(prefix) }

  /**
   * Writes `value` under `key`. Applied locally at once (listeners fire), durable (fsynced) when
   * the promise resolves, gossiped within `gossipBatchMs`. Rejects with KeyError, OwnershipError,
   * ValueError, StoreError or StoppedError.
   */
  async put (key: string, value: Value): Promise<void> {
    await this.write(key, value)
  }

  /** Deletes `key` (a tombstone replicated like a write). Same guarantees and errors as put(). */
  async delete (key: string): Promise<void> {
    await this.write(key, undefined)
  }

  /**
   * Calls `fn` for every change (local or remote) of a key starting with `prefix`; synchronous,
   * after the batch it belongs to is applied. A throwing listener is counted and ignored.
   * Returns an unsubscribe function.
   */
  onChange (prefix: string, fn: ChangeListener): () => void { return this.p.replica.onChange(prefix, fn) }

  /** Merges `fields` into this peer's `peer/<id>` record (may change name and tags; addrs and startedAt stay the mesh's). */
  async announce (fields: Record<string, Value>): Promise<void> {
    await this.writeSelf(fields)
  }

  /** True once this peer completed its first anti-entropy exchange (or founded the cluster). */
  get synced (): boolean { return this.isSynced }

  /** Resolves when synced (at once if already). */
  whenSynced (): Promise<void> {
    if (this.isSynced) return Promise.resolve()
    return new Promise(resolve => { this.syncedWaiters.push(resolve) })
  }

  // ---- membership ----

  /** Ids of live peers, this peer included, sorted. */
  alive (): string[] {
    return [...new Set([this.peerId, ...this.liveness.alive()])].sort()
  }

  /** Every peer known from membership or from its `peer/<id>` entry, this one included. */
  peers (): PeerInfo[] {
    const { replica, node } = this.p
    const connected = new Set(node.getPeers().map(p => p.toString()))
    const byId = new Map<string, PeerInfo>()
    for (const { key, value } of replica.scan('peer/')) {
      const id = key.slice('peer/'.length)
      byId.set(id, { id, state: 'unknown', self: id === this.peerId, connected: connected.has(id), suspect: false, reason: undefined, record: value })
    }
    for (const l of this.liveness.list()) {
      const info = byId.get(l.id) ?? { id: l.id, state: 'unknown', self: false, connected: connected.has(l.id), suspect: false, reason: undefined, record: undefined }
      byId.set(l.id, { ...info, state: l.state, suspect: l.suspect, reason: l.reason })
    }
    const me = byId.get(this.peerId)
    byId.set(this.peerId, { id: this.peerId, state: 'alive', self: true, connected: false, suspect: false, reason: undefined, record: me?.record })
    return [...byId.values()].sort((a, b) => a.id < b.id ? -1 : 1)
  }

  /** Peer ids with an open transport connection. */
  connections (): string[] {
    return this.p.node.getPeers().map(p => p.toString()).sort()
  }

  /** Calls `fn(peerId)` when a peer comes up (first heard from, or back after dead/left). */
  onPeerUp (fn: PeerUpListener): () => void {
    return this.liveness.onUp(peer => { this.guard(() => fn(peer)) })
  }

  /** Calls `fn(peerId, reason)` when a peer is declared dead ('failed': its suspicion timed out; 'unreachable': a dial to it was refused) or leaves ('left'). */
  onPeerDown (fn: PeerDownListener): () => void {
    return this.liveness.onDown((peer, reason) => { this.guard(() => fn(peer, reason)) })
  }

  // ---- extra protocols ----

  /** Serves request/response on `protocol` (must start with /monk/). */
  async handle (protocol: string, handler: RequestHandler): Promise<void> { await this.rpc.handle(protocol, handler) }

  async unhandle (protocol: string): Promise<void> { await this.rpc.unhandle(protocol) }

  /** One request to `peer` on `protocol`; resolves with the response. Rejects with RequestError. */
  async request (peer: string, protocol: string, bytes: Uint8Array, opts: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    this.checkRunning()
    await this.pool.need(peer).catch(() => {}) // the request reports the failure with its own error
    try {
      return await this.rpc.request(peer, protocol, bytes, opts)
    } finally {
      this.pool.touch(peer)
    }
  }

  // ---- cluster ----

  /** Multiaddrs this peer is reachable at (with /p2p/<id>). */
  addresses (): string[] {
    return this.p.node.getMultiaddrs().map(a => a.toString())
  }

  /** A join token for this cluster with this peer as bootstrap. Contains the cluster key: secret. */
  token (): string {
    return encodeToken({ id: this.p.cluster.id, key: this.p.cluster.key, bootstrap: this.addresses() })
  }

  /** Counters since start, plus gauges of the current state. */
  counters (): MeshCounters & { entries: number; liveKeys: number; connections: number; alive: number } {
    return {
      ...this.p.counters,
      entries: this.p.replica.entryCount,
      liveKeys: this.p.replica.size,
      connections: this.p.node.getPeers().length,
      alive: this.liveness.alive().length,
    }
  }

  // ---- lifecycle ----

  /**
   * Leaves the cluster cleanly: marks `peer/<id>` as left, tells every connected peer (they remove
   * it at once instead of waiting for the failure detector), then stops.
   */
  async leave (): Promise<void> {
    if (this.state !== 'running') return
    await this.writeSelf({ leftAt: this.p.clock.now() }).catch(() => {})
    await this.gossip.flush()
    await this.membership.leave()
    await this.stop()
  }

  /** Stops this peer without a leave notice (others detect it as failed). Idempotent. */
  async stop (): Promise<void> {
    if (this.state !== 'running') return
    this.state = 'stopping'
    clearTimeout(this.syncTimer)
    clearInterval(this.purgeTimer)
    this.p.node.removeEventListener('peer:connect', this.onConnect)
    await this.pool.stop()
    await this.gossip.stop()
    await this.membership.stop()
    await this.sync.stop()
    await this.rpc.stop()
    await this.p.node.stop()
    await this.p.store.close()
    this.state = 'stopped'
  }

  // ---- internals ----

  private async write (key: string, value: Value | undefined): Promise<void> {
    this.checkRunning()
    const entry = this.p.replica.write(key, value)
    if (!entry) return
    this.p.counters.localWrites++
    this.gossip.enqueue([entry])
    await this.p.store.write([entry], true)
  }

  /** Writes `peer/<self>`: the current record + `fields`; addresses and startedAt always the mesh's own. */
  private async writeSelf (fields: Record<string, Value>, initial = false): Promise<void> {
    const key = `peer/${this.peerId}`
    const current = this.p.replica.get(key)
    const base = (typeof current === 'object' && current !== null && !Array.isArray(current) && !(current instanceof Uint8Array) ? current : {}) as Record<string, Value>
    // a restart rewrites the record without leftAt: the peer is back
    const { leftAt: _left, ...rest } = base
    const { name, tags } = this.p.options
    const record: Record<string, Value> = {
      ...rest,
      // name and tags from the start options win at start; later announce() calls may change them
      name: (initial ? name : undefined) ?? base.name ?? name ?? this.peerId.slice(-8),
      tags: (initial ? tags : undefined) ?? base.tags ?? tags ?? [],
      ...fields,
      addrs: this.p.node.getMultiaddrs().map(a => a.decapsulateCode(421).toString()),
      startedAt: this.startedAt,
    }
    await this.write(key, record)
  }

  private markSynced (): void {
    if (this.isSynced) return
    this.isSynced = true
    for (const w of this.syncedWaiters) w()
    this.syncedWaiters = []
  }

  /**
   * A full exchange on first contact, started by one side only (the smaller id) unless we are not
   * synced yet. Only when it tells something: a peer coming (back) up that we are connected to,
   * or a new connection to a peer that was not alive in our view (a joiner, a restart, the other
   * side of a healed partition). Connections opened for probes, requests or sync rounds to a peer
   * already alive do not add an exchange, and a peer learned from membership gossip is not dialed
   * just to sync (at 100 peers, a joiner would otherwise receive 99 dials).
   */
  private syncOnContact (peer: string, why: 'up' | 'connect'): void {
    if (this.state !== 'running') return
    if (!this.isSynced) { void this.sync.syncWith(peer); return }
    if (this.peerId > peer) return
    const relevant = why === 'up' ? this.pool.isConnected(peer) : this.liveness.state(peer) !== 'alive'
    if (relevant) void this.sync.syncWith(peer)
  }

  private scheduleSync (): void {
    const { syncIntervalMs, syncJitter } = this.p.config
    const delay = syncIntervalMs * (1 - syncJitter + 2 * syncJitter * this.p.random.next())
    this.syncTimer = setTimeout(() => {
      if (this.state !== 'running') return
      const peer = this.syncPartner()
      if (peer) void this.sync.syncWith(peer)
      this.scheduleSync()
    }, delay)
  }

  /**
   * A random live member (DESIGN §3). Most rounds pick among members we are connected to, so an
   * idle round is one small exchange on an open connection (~0.5 KB on the wire); one round in
   * `syncFarEvery` picks among all members, dialing if needed (a new connection costs ~3-4 KB),
   * so state also crosses between peers that are never neighbours.
   */
  private syncPartner (): string | undefined {
    const { random, config } = this.p
    const members = this.liveness.alive().filter(p => p !== this.peerId && !this.gater.isBlocked(p))
    const connected = new Set(this.pool.connected())
    const near = members.filter(p => connected.has(p))
    const far = random.next() * config.syncFarEvery < 1
    let candidates = far || near.length === 0 ? members : near
    if (candidates.length === 0) candidates = [...connected].filter(p => !this.gater.isBlocked(p))
    return candidates[Math.floor(random.next() * candidates.length)]
  }

  private requiredPeers (): string[] {
    const out = new Set<string>()
    for (const l of this.liveness.list()) if (l.state !== 'left') out.add(l.id)
    for (const { key, value } of this.p.replica.scan('peer/')) {
      const id = key.slice('peer/'.length)
      if (advertised(value).left) out.delete(id)
      else if (this.liveness.state(id) !== 'left') out.add(id)
    }
    out.delete(this.peerId)
    return [...out]
  }

  private async purge (): Promise<void> {
    if (this.state !== 'running') return
    const removed = this.p.replica.purge(this.tombstones.purgeable())
    if (removed.length === 0) return
    this.p.counters.tombstonesPurged += removed.length
    await this.p.store.remove(removed.map(e => e.key)).catch(() => { this.p.counters.storeErrors++ })
  }

  private guard (fn: () => void): void {
    try { fn() } catch { this.p.counters.listenerErrors++ }
  }

  private checkRunning (): void {
    if (this.state !== 'running') throw new StoppedError(`peer ${this.peerId} is stopped`)
  }
}
