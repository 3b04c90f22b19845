// A peer of the mesh, assembled: store, libp2p node, replica, gossip, anti-entropy, membership,
// dialer, request/response and tombstone purge behind one small API for the daemon.
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { systemClock, systemRandom, type Clock, type Random } from './clock.js'
import { checkCluster, encodeToken, parseToken, type Cluster, type JoinToken } from './cluster.js'
import type { CodecLimits } from './codec.js'
import { newCounters, type MeshCounters } from './counters.js'
import { defaults, protocols, type MeshDefaults } from './defaults.js'
import { Connections } from './dialer.js'
import { RoleError, StartError, StoppedError } from './errors.js'
import { Gater } from './gater.js'
import { Gossip } from './gossip.js'
import { HlcClock, type Hlc } from './hlc.js'
import { Liveness, type DownReason, type PeerState } from './liveness.js'
import { Membership } from './membership.js'
import { swimConfig } from './swim.js'
import { createNode, evictedConnections, openStream, type MeshNode } from './node.js'
import { Replica, type ChangeListener } from './replica.js'
import { Rpc, type RequestHandler } from './rpc.js'
import { screenSynced } from './screen.js'
import { EntrySigner, EntryVerifier } from './signing.js'
import { Store } from './store.js'
import { AntiEntropy } from './sync.js'
import { TombstoneCollector } from './tombstones.js'
import { acceptStream, openWithHead, type ByteStream } from './streams.js'
import { Tunnels, type TunnelAuthorizer, type TunnelEndpoint, type TunnelRoute } from './tunnel.js'
import { guardClock, type ClockGuard } from './clock-guard.js'
import type { Entry } from './entry.js'
import { connectionViews, type ConnectionView } from './diagnose.js'
import { mayWrite } from './keys.js'
import type { Value } from './value.js'
import { admitKey, admitPrefix, Roles, type Role } from './roles.js'
import { AskAdmission, decodeAdmitRequest, encodeAdmission, encodeInvite, inviteKey, inviteSecret, redeem } from './admission.js'
import { SwitchableKey } from './protector.js'
import { clusterKeyPrefix, KeyRotation, type RotateResult, type SealOpener } from './rekey.js'

/** Tunables; every field defaults to defaults.ts. */
export type MeshConfig = { [K in keyof MeshDefaults]: number }


export type { ConnectionView }

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
  /** Repair a damaged store instead of refusing to start (Store.open, loadEntries): `monkd --repair`. */
  repair?: boolean
  /**
   * Enforce admission and roles (roles.ts): only the founders and peers an operator admitted write
   * anything others apply. The daemon always enforces; off (the default) every peer counts as an
   * operator, as before roles (mesh-level tests of other concerns).
   */
  admission?: boolean
  /** Told what start-up found wrong and did about it (repairs, a clock far ahead); the daemon logs it. */
  onWarning?: (message: string) => void
  /**
   * This peer's X25519 seal key: published in `peer/<id>` (sealKey), it opens the cluster keys
   * operators rotate (rekey.ts). Without it this peer cannot follow a rotation.
   */
  seal?: SealOpener
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
  const warn = options.onWarning ?? (() => {})
  const store = await Store.open(options.home, { repair: options.repair === true, onWarning: warn })
  try {
    const privateKey = await store.identity()
    const self = peerIdFromPrivateKey(privateKey).toString()
    const cluster = await resolveCluster(store, options, self)
    const signer = new EntrySigner(privateKey, self)
    const hlc = new HlcClock(self, clock, config.maxClockSkewMs)
    const hw = await store.loadHighWater()
    const limits: CodecLimits = {
      maxKeyBytes: config.maxKeyBytes,
      maxEntryBytes: config.maxEntryBytes,
      maxDeltaBytes: config.maxDeltaBytes,
      maxDeltaEntries: config.maxDeltaEntries,
      maxValueDepth: config.maxValueDepth,
    }
    const counters = newCounters()
    const replica = new Replica({
      self, hlc, clock, limits, buckets: config.syncBuckets,
      quota: { entries: config.maxWriterEntries, bytes: config.maxWriterBytes },
      onOverQuota: () => { counters.rejectedQuota++ },
      onListenerError: () => { counters.listenerErrors++ },
    })
    if (options.admission === true && cluster.founders === undefined) {
      throw new StartError(`cluster ${cluster.id} names no founders (its token or home was made by a monk before roles): make a new token with monk cluster token on an operator`)
    }
    const roles = new Roles({ replica, founders: cluster.founders ?? [], enforce: options.admission === true, maxPending: config.maxHeldEntries, maxPendingBytes: config.maxHeldBytes })
    const loaded = await store.loadEntries(limits, options.repair === true ? { onWarning: warn } : undefined)
    const future = guardClock(loaded, hw, self, clock.now(), config.maxClockSkewMs)
    if (future.warning) warn(future.warning)
    if (hw && future.adoptHighWater) hlc.restore(hw)
    // a store written before entries were signed: this peer signs its own again (others' stay
    // unsigned here, and peers refuse them if relayed; their writers' signed copies replace them
    // only when newer)
    const resigned: Entry[] = []
    replica.load(future.kept.map(e => {
      if (e.sig !== undefined || e.hlc.peer !== self) return e
      const signed = signer.sign(e)
      resigned.push(signed)
      return signed
    }))
    if (resigned.length) await store.write(resigned, true)
    const horizon = await store.loadHorizon()
    store.trackHighWater(() => hlc.highWater())
    const gater = new Gater()
    const protector = new SwitchableKey(cluster.key)
    let node: MeshNode
    try {
      node = await createNode({ privateKey, listen: options.listen, clusterKey: cluster.key, protector, gater: gater.libp2p, maxDeltaBytes: config.maxDeltaBytes })
    } catch (err) {
      throw new StartError(`peer ${self} cannot start its libp2p node on ${options.listen.join(', ')}: ${(err as Error).message}`, { cause: err })
    }
    gater.attach(async peer => { await node.hangUp(peerIdFromString(peer)) })
    const mesh = new Mesh({ options, config, clock, random, store, cluster, self, hlc, limits, counters, replica, gater, node, horizon, future, signer, verifier: new EntryVerifier(), roles, protector })
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

async function resolveCluster (store: Store, options: MeshOptions, self: string): Promise<JoinToken> {
  const stored = await store.cluster()
  let given: JoinToken | undefined
  if (options.token !== undefined) given = typeof options.token === 'string' ? parseToken(options.token) : options.token
  else if (options.cluster) given = { ...options.cluster, bootstrap: [], founders: [self] }
  if (given) checkCluster(given)
  if (given && stored && stored.id !== given.id) {
    throw new StartError(`home ${options.home} belongs to cluster ${stored.id}, not ${given.id}; use another home to join a different cluster`)
  }
  const cluster = given ?? stored
  if (!cluster) throw new StartError(`home ${options.home} has no cluster: pass a join token or a cluster from createCluster()`)
  // the founders a home first learned stay its trust root (a later token cannot change them)
  const founders = stored?.founders ?? cluster.founders
  const merged: JoinToken = { id: cluster.id, key: cluster.key, bootstrap: [...new Set([...(stored?.bootstrap ?? []), ...cluster.bootstrap])], ...(founders ? { founders } : {}) }
  await store.saveCluster(merged)
  return given?.invite ? { ...merged, invite: given.invite } : merged
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
  /** Purge horizon from the store (tombstones.ts select()). */
  horizon: number
  /** Entries found stamped far in the future at start (clock-guard.ts). */
  future: ClockGuard
  /** Signs every entry this peer writes; checks received ones (signing.ts). */
  signer: EntrySigner
  verifier: EntryVerifier
  /** Who may write what (roles.ts). */
  roles: Roles
  /** The cluster key new connections use; rotations change it (rekey.ts). */
  protector: SwitchableKey
}

/**
 * One running peer. Reads are synchronous and local; a write is persisted (fsynced) first, then
 * applied locally and replicated by gossip within milliseconds (anti-entropy repairs whatever
 * gossip loses); a write the disk refuses takes effect nowhere. Listener callbacks run synchronously on the mesh's event loop turn and
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
    /** Every libp2p connection this peer holds, with its streams (diagnosis of stuck connections). */
    connections: () => ConnectionView[]
    /**
     * Marks every connection to `peer` closed without telling libp2p: the state a missed close
     * notice leaves (status closed, still tracked; seen in chaos runs).
     */
    strandConnections: (peer: string) => void
    /** The stored entry of `key` as it goes on the wire (signature included). */
    entry: (key: string) => Entry | undefined
    /** Writes, signs and gossips `key` without this peer's role check: a patched peer (rogue tests). */
    writeUnchecked: (key: string, value: Value | undefined) => Promise<void>
    /** Entries held here while their writers' admissions have not arrived (of one writer, or in all). */
    held: (writer?: string) => number
  }

  private readonly p: Parts
  private readonly liveness: Liveness
  private readonly gossip: Gossip
  private readonly sync: AntiEntropy
  private readonly membership: Membership
  private readonly pool: Connections
  private readonly rpc: Rpc
  /** TCP tunnels over the mesh (tunnel.ts): serving side and local endpoints. */
  readonly tunnels: Tunnels
  private readonly tombstones: TombstoneCollector
  private readonly rekey: KeyRotation
  private readonly startedAt: number
  private isSynced = false
  private purgeHorizon: number
  private syncedWaiters: Array<() => void> = []
  private selfRecord: Record<string, Value> | undefined
  private syncTimer: NodeJS.Timeout | undefined
  private asking: AskAdmission | undefined
  private purgeTimer: NodeJS.Timeout | undefined
  private state: 'running' | 'stopping' | 'stopped' = 'running'
  private readonly onConnect = (e: CustomEvent<{ toString(): string }>): void => { this.syncOnContact(e.detail.toString(), 'connect') }

  /** Use startMesh(). */
  constructor (parts: Parts) {
    this.p = parts
    const { config, clock, random, replica, hlc, limits, counters, node, self, cluster, gater, verifier, roles } = parts
    this.peerId = self
    this.clusterId = cluster.id
    this.gater = gater
    this.startedAt = clock.now()
    this.purgeHorizon = parts.horizon
    this.liveness = new Liveness()
    this.gossip = new Gossip({ pubsub: node.services.pubsub, topic: protocols.stateTopic(cluster.id), replica, hlc, limits, counters, random, batchMs: config.gossipBatchMs, verifier, roles })
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
      counters,
    })
    this.sync = new AntiEntropy({
      node, replica, hlc, limits, counters, clock,
      connect: async (peer, signal) => { await this.pool.need(peer, { signal }) },
      touch: peer => { this.pool.touch(peer) },
      timeoutMs: config.syncTimeoutMs,
      maxFrameBytes: config.maxSyncFrameBytes,
      chunkBytes: config.syncChunkBytes,
      maxExchangeEntries: config.maxSyncExchangeEntries,
      onComplete: (peer, _role, since) => {
        this.tombstones.ack(peer, since)
        this.markSynced()
      },
      screen: (received, peer) => screenSynced(received, peer, {
        self, hlc, replica, counters, verifier, roles,
        checkOwnWrites: parts.options.repair !== true,
        horizon: () => this.purgeHorizon,
        purgedLately: e => this.tombstones.purgedLately(e),
        onForged: entries => { void this.reassert(entries) },
        onStale: entries => { void this.retombstone(entries) },
      }),
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
    // subjects only: each probe pair then has one natural dialer (the observer), and the two sides
    // do not dial each other at once, which leaves two connections between them
    this.pool.prefer(() => this.membership.subjects())
    this.rpc = new Rpc({ node, counters, maxOpenPerPeer: config.maxOpenRequestsPerPeer, maxOpen: config.maxOpenRequests, maxBytes: config.maxRequestBytes, defaultTimeoutMs: config.requestTimeoutMs, reserved: [protocols.sync, protocols.swim(cluster.id), protocols.conn(cluster.id), protocols.tunnel] })
    this.tunnels = new Tunnels({
      node, self, protocol: protocols.tunnel,
      connect: async (peer, signal) => { await this.pool.need(peer, { signal }) },
      touch: peer => { this.pool.touch(peer) },
      openTimeoutMs: config.connDialTimeoutMs + config.requestTimeoutMs,
      rawDialMs: config.tunnelRawDialMs,
    })
    this.rekey = new KeyRotation({
      self, seal: parts.options.seal, now: () => clock.now(),
      scan: prefix => replica.scan(prefix), get: key => replica.get(key),
      admitted: peer => roles.roleOf(peer) !== undefined,
      current: () => parts.protector.current,
      save: async key => {
        const stored = await parts.store.cluster()
        if (stored) await parts.store.saveCluster({ ...stored, key })
      },
      switchTo: async key => { await this.switchKey(key) },
      write: async (key, value) => await this.write(key, value),
      warn: m => { parts.options.onWarning?.(m) },
    })
    this.testing = {
      setGossipDropRate: rate => { this.gossip.setDropRate(rate) },
      publishRaw: async bytes => { await this.gossip.publishRaw(bytes) },
      syncWith: async peer => await this.sync.syncWith(peer),
      digestRoot: () => Buffer.from(replica.digest.rootHash()).toString('hex'),
      connections: () => connectionViews(node),
      strandConnections: peer => { for (const c of node.getConnections(peerIdFromString(peer))) (c as { status: string }).status = 'closed' },
      entry: key => replica.entry(key),
      writeUnchecked: async (key, value) => { await this.commit({ key, hlc: hlc.now(), value }) },
      held: writer => roles.held(writer),
    }
  }

  /** Mesh-internal: wires the parts and starts them. */
  async begin (): Promise<void> {
    const { replica, store, counters, node, roles } = this.p
    replica.onApply((entries, origin) => {
      if (origin === 'remote') store.write(entries, false).catch(() => { counters.storeErrors++ })
    })
    // an admission arrived: the entries its peer wrote meanwhile, held, are merged now
    replica.onChange(admitPrefix, () => {
      const released = roles.release()
      if (released.length) counters.remoteEntriesApplied += replica.merge(released).length
    })
    replica.onChange(clusterKeyPrefix, () => { this.rekey.check() })
    this.rekey.check()
    if (roles.enforced) {
      await this.rpc.handle(protocols.admit, async (bytes, ctx) => {
        const role = await redeem(ctx.peer, decodeAdmitRequest(bytes), {
          self: this.peerId, roles, now: () => this.p.clock.now(),
          get: k => replica.get(k), put: async (k, v) => await this.write(k, v), del: async k => await this.write(k, undefined),
        })
        return new TextEncoder().encode(role)
      })
    }
    this.gossip.start()
    await this.sync.start()
    await this.membership.start()
    this.liveness.onUp(peer => { this.syncOnContact(peer, 'up') })
    node.addEventListener('peer:connect', this.onConnect)
    // `synced: false` until the first exchange: placement gives such a peer no new work
    await this.writeSelf({ synced: false, ...(this.p.options.seal ? { sealKey: this.p.options.seal.publicRaw } : {}) }, true)
    await this.settleFuture()
    // the founder of a cluster, or a peer that knows no other, has nothing to sync with
    if (this.p.cluster.bootstrap.length === 0 && this.pool.known().size === 0) this.markSynced()
    await this.pool.start()
    this.scheduleSync()
    this.purgeTimer = setInterval(() => { void this.purge() }, this.p.config.purgeIntervalMs)
    const { invite, bootstrap } = this.p.cluster
    if (roles.enforced && invite && roles.roleOf(this.peerId) === undefined) {
      this.asking = new AskAdmission({
        self: this.peerId, bootstrap, secret: invite, retryMs: this.p.config.admitRetryMs,
        admitted: () => roles.roleOf(this.peerId) !== undefined,
        request: async (peer, bytes) => await this.request(peer, protocols.admit, bytes),
        warn: m => { this.p.options.onWarning?.(m) },
      })
      this.asking.start()
    }
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
   * Writes `value` under `key`: fsynced, then applied locally (listeners fire) before the promise
   * resolves with the write's HLC, gossiped within `gossipBatchMs`. A newer write of the same key
   * that arrived meanwhile stays the value (last writer wins). On StoreError nothing was applied or sent. Rejects
   * with KeyError, OwnershipError, ValueError, StoreError or StoppedError.
   */
  async put (key: string, value: Value): Promise<Hlc | undefined> {
    return await this.write(key, value)
  }

  /** Deletes `key` (a tombstone replicated like a write). Same guarantees and errors as put(). */
  async delete (key: string): Promise<Hlc | undefined> {
    return await this.write(key, undefined)
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

  // ---- tunnels ----

  /** Serves `/monk/tunnel/1`: `authorize` decides, per request, whether the opener may reach a target and where it listens. */
  async serveTunnels (authorize: TunnelAuthorizer): Promise<void> {
    this.checkRunning()
    await this.tunnels.serve(authorize)
  }

  /** Opens a local TCP endpoint whose sockets go wherever `route` says at connect time. */
  async openEndpoint (opts: { host: string, port: number, route: () => TunnelRoute }): Promise<TunnelEndpoint> {
    this.checkRunning()
    return await this.tunnels.listen(opts)
  }

  // ---- extra streams (streams.ts) ----

  /** Serves `protocol`: each inbound stream's head goes to `decide` (see acceptStream). */
  async serveStreams (protocol: string, decide: (peer: string, head: unknown) => Promise<{ accept: (s: ByteStream) => Promise<void> } | { code: string, message: string }>): Promise<void> {
    this.checkRunning()
    const timeoutMs = this.p.config.connDialTimeoutMs + this.p.config.requestTimeoutMs
    await this.p.node.handle(protocol, ({ stream, connection }) => {
      const peer = connection.remotePeer.toString()
      void acceptStream(stream, timeoutMs, async head => await decide(peer, head))
    }, { maxInboundStreams: 256 })
  }

  /** Opens a stream to `peer` on `protocol` with `head`; resolves once the peer accepted it. */
  async openStream (peer: string, protocol: string, head: unknown): Promise<ByteStream> {
    this.checkRunning()
    const signal = AbortSignal.timeout(this.p.config.connDialTimeoutMs + this.p.config.requestTimeoutMs)
    await this.pool.need(peer, { signal })
    const stream = await openStream(this.p.node, peer, protocol, { signal })
    return await openWithHead(stream, head, signal)
  }

  /** Marks the connection to `peer` used (a long session keeps it from the idle close). */
  touch (peer: string): void { this.pool.touch(peer) }

  // ---- cluster ----

  /** Multiaddrs this peer is reachable at (with /p2p/<id>). */
  addresses (): string[] {
    return this.p.node.getMultiaddrs().map(a => a.toString())
  }

  /** A join token for this cluster with this peer as bootstrap, and `invite`'s secret if given. Contains the cluster key: secret. */
  token (invite?: Uint8Array): string {
    const { id, founders } = this.p.cluster
    return encodeToken({ id, key: this.p.protector.current, bootstrap: this.addresses(), founders: founders ?? [], ...(invite ? { invite } : {}) })
  }

  // ---- admission (roles.ts, admission.ts) ----

  /** The role of `peer` in this replica; undefined when it is not admitted (or was removed). */
  roleOf (peer: string): Role | undefined { return this.p.roles.roleOf(peer) }

  /** True when admission is enforced (MeshOptions.admission). */
  get admissionEnforced (): boolean { return this.p.roles.enforced }

  /**
   * Makes an invite for `role` (operators only): `uses` redemptions (null: any number) until
   * `ttlMs` from now (0: never). Returns a join token that carries it.
   */
  async invite (opts: { role: Role, uses: number | null, ttlMs: number }): Promise<string> {
    const secret = inviteSecret()
    const now = this.p.clock.now()
    await this.write(inviteKey(secret), encodeInvite({ role: opts.role, uses: opts.uses, expires: opts.ttlMs > 0 ? now + opts.ttlMs : 0, by: this.peerId, at: now }))
    return this.token(secret)
  }

  /** Admits `peer` with `role`, or revokes its admission ('removed'). Operators only. */
  async admit (peer: string, role: Role | 'removed'): Promise<void> {
    await this.write(admitKey(peer), encodeAdmission({ role, by: this.peerId, at: this.p.clock.now() }))
  }

  // ---- cluster key rotation (rekey.ts) ----

  /**
   * Makes a new cluster key, sealed for every admitted peer that publishes a seal key (operators
   * only: others get RoleError); every such peer, this one included, switches to it at
   * `switchAt` (after `switchMs`) and closes its old-key connections.
   */
  async rotateKey (opts: { switchMs?: number } = {}): Promise<RotateResult> {
    this.checkRunning()
    const problem = this.p.roles.localProblem(`${clusterKeyPrefix}0`, this.peerId)
    if (problem !== undefined) throw new RoleError(`cannot rotate the cluster key: ${problem}`)
    return await this.rekey.rotate(opts.switchMs)
  }

  /** Epoch of the newest key rotation this replica holds (0: none). */
  get keyEpoch (): number { return this.rekey.latest()?.epoch ?? 0 }

  /** Protects new connections with `key` and closes every open one (made with the old key). */
  private async switchKey (key: Uint8Array): Promise<void> {
    if (this.state !== 'running') return
    this.p.protector.set(key)
    this.p.counters.keySwitches++
    await Promise.all(this.p.node.getConnections().map(async c => {
      try {
        await c.close({ signal: AbortSignal.timeout(1000) })
      } catch (err) {
        c.abort(err as Error)
      }
    }))
  }

  /** Counters since start, plus gauges of the current state. */
  counters (): MeshCounters & { entries: number; liveKeys: number; connections: number; alive: number; closedConnectionsEvicted: number } {
    return {
      ...this.p.counters,
      closedConnectionsEvicted: evictedConnections(this.p.node),
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
    // leftInc: the incarnation the leave goes out with; a restart comes back above it (membership.ts recordLeft)
    await this.writeSelf({ leftAt: this.p.clock.now(), leftInc: this.membership.incarnation + 1 }).catch(() => {})
    await this.gossip.flush()
    await this.membership.leave()
    await this.stop()
  }

  /** Stops this peer without a leave notice (others detect it as failed). Idempotent. */
  async stop (): Promise<void> {
    if (this.state !== 'running') return
    this.state = 'stopping'
    clearTimeout(this.syncTimer)
    this.asking?.stop()
    this.rekey.stop()
    clearInterval(this.purgeTimer)
    this.p.node.removeEventListener('peer:connect', this.onConnect)
    await this.pool.stop()
    await this.gossip.stop()
    await this.membership.stop()
    await this.sync.stop()
    await this.rpc.stop()
    await this.tunnels.stop()
    await this.p.node.stop()
    await this.p.store.close()
    this.state = 'stopped'
  }

  // ---- internals ----

  /** A local write: persisted (fsynced) first, then applied and gossiped; a failed store write leaves no trace. */
  /** Resolves with the write's HLC once it is on disk (undefined: deleting what is absent, a no-op). */
  private async write (key: string, value: Value | undefined): Promise<Hlc | undefined> {
    this.checkRunning()
    const problem = this.p.roles.localProblem(key, this.peerId)
    if (problem !== undefined) throw new RoleError(`cannot write ${key}: ${problem}`)
    const entry = this.p.replica.stamp(key, value)
    if (!entry) return undefined
    await this.commit(entry)
    return entry.hlc
  }

  private async commit (unsigned: Entry): Promise<void> {
    const entry = this.p.signer.sign(unsigned)
    await this.p.store.write([entry], true)
    // a newer version may have arrived while the disk wrote; it stays (and is persisted after ours)
    if (!this.p.replica.applyLocal(entry)) return
    this.p.counters.localWrites++
    if (this.state === 'running') this.gossip.enqueue([entry])
  }

  /** Writes this peer's future-stamped entries again with the current HLC; forgets the others' (clock-guard.ts). */
  private async settleFuture (): Promise<void> {
    const { restamp, dropped } = this.p.future
    if (dropped.length) await this.p.store.remove(dropped.map(e => e.key))
    for (const e of restamp) {
      if (e.key === `peer/${this.peerId}`) continue // rewritten by writeSelf already
      await this.commit({ key: e.key, hlc: this.p.hlc.now(), value: e.value })
    }
  }

  /** Sync brought entries forged in this peer's name: write the true value again, above the forgery. */
  private async reassert (forged: Entry[]): Promise<void> {
    for (const f of forged) {
      if (this.state !== 'running') return
      this.p.hlc.observe(f.hlc)
      const current = this.p.replica.entry(f.key)
      const entry: Entry = { key: f.key, hlc: this.p.hlc.now(), value: current?.value }
      await this.commit(entry).catch(() => { this.p.counters.storeErrors++ })
    }
  }

  /**
   * Sync brought keys older than the purge horizon that this peer lacks: deleted and purged here
   * while the sender was away. A tombstone just above each (same wall, next counter) removes it
   * from the sender's replica too, and loses to any real write made after it.
   */
  private async retombstone (stale: Entry[]): Promise<void> {
    for (const e of stale) {
      if (this.state !== 'running' || !mayWrite(e.key, this.peerId) || this.p.replica.entry(e.key)) continue
      const entry: Entry = { key: e.key, hlc: { wall: e.hlc.wall, counter: e.hlc.counter + 1, peer: this.peerId }, value: undefined }
      await this.commit(entry).catch(() => { this.p.counters.storeErrors++ })
    }
  }

  /** Writes `peer/<self>`: the current record + `fields`; addresses and startedAt always the mesh's own. */
  private async writeSelf (fields: Record<string, Value>, initial = false): Promise<void> {
    const key = `peer/${this.peerId}`
    // the record this peer last wrote, even if its write is still on its way to disk: a write is
    // applied only once persisted, so two overlapping writeSelf calls (markSynced's `synced: true`
    // and the daemon's announce) must not each start from the replica's older value and drop the other's field
    const current = this.selfRecord ?? this.p.replica.get(key)
    const base = (typeof current === 'object' && current !== null && !Array.isArray(current) && !(current instanceof Uint8Array) ? current : {}) as Record<string, Value>
    // a restart rewrites the record without leftAt: the peer is back
    const { leftAt: _left, leftInc: _leftInc, ...rest } = base
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
    this.selfRecord = record
    await this.write(key, record)
  }

  private markSynced (): void {
    if (this.isSynced) return
    this.isSynced = true
    if (this.state === 'running') this.writeSelf({ synced: true }).catch(() => { this.p.counters.storeErrors++ })
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
   * A random live member among membership's ring neighbours and the peers we are connected to
   * (DESIGN §3). Neighbours come from the membership list (swim-ring.ts), not from whoever happens
   * to be connected, and their connections are open anyway for probing: an idle round is one small
   * exchange (~0.5 KB on the wire) and never a dial (~3-4 KB of handshakes). The union of the K
   * rings is an expander, so state still crosses the whole cluster in O(log N) rounds.
   */
  private syncPartner (): string | undefined {
    const { random } = this.p
    const usable = (p: string): boolean => p !== this.peerId && !this.gater.isBlocked(p)
    const alive = new Set(this.liveness.alive())
    const candidates = [...new Set([...this.membership.neighbours(), ...this.pool.connected()])].filter(p => usable(p) && alive.has(p))
    if (candidates.length === 0) {
      // membership may not know anyone yet (a joiner's first rounds): any connection will do
      const any = this.pool.connected().filter(usable)
      return any[Math.floor(random.next() * any.length)]
    }
    return candidates[Math.floor(random.next() * candidates.length)]
  }

  /**
   * Peers whose acknowledgement a tombstone needs before it may be purged (mesh README,
   * Tombstones): every peer ever heard from or with a `peer/<id>` record, dead and left ones
   * included. A peer that left comes back from its old home with its old replica; if it stopped
   * counting, keys deleted meanwhile would come back with it.
   */
  private requiredPeers (): string[] {
    const out = new Set<string>()
    for (const l of this.liveness.list()) out.add(l.id)
    for (const { key } of this.p.replica.scan('peer/')) out.add(key.slice('peer/'.length))
    out.delete(this.peerId)
    return [...out]
  }

  private async purge (): Promise<void> {
    if (this.state !== 'running') return
    const { entries, horizon } = this.tombstones.select()
    if (horizon > this.purgeHorizon) {
      // recorded before anything is forgotten: a crash in between must not lose the horizon
      try {
        await this.p.store.saveHorizon(horizon)
      } catch {
        this.p.counters.storeErrors++
        return
      }
      this.purgeHorizon = horizon
    }
    // a tombstone old enough but not acknowledged by some live peers: sync with one of them now
    // (a random one: a peer whose exchanges keep failing must not starve the others)
    const lags = this.tombstones.laggards(this.liveness.alive().filter(p => !this.gater.isBlocked(p)))
    const lag = lags[Math.floor(this.p.random.next() * lags.length)]
    if (lag !== undefined) void this.sync.syncWith(lag)
    const removed = this.p.replica.purge(entries)
    const { tombstoneMinAgeMs, syncIntervalMs } = this.p.config
    this.tombstones.removed(removed, tombstoneMinAgeMs + 10 * syncIntervalMs)
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
