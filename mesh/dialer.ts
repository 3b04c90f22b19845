// The connection pool of a peer (DESIGN §4, "connections are bounded"). A peer does not connect to
// every other. It keeps:
//   - at least `target` connections to random members (so gossipsub can hold its mesh of D..Dhi),
//     refilled from the membership list and the addresses peers publish in `peer/<id>`;
//   - whatever probes, anti-entropy and requests use right now: `need(peer)` dials on demand,
//     `touch(peer)` marks a connection as used;
// and closes connections above `max` that are unused for `idleMs` (outside the gossipsub mesh first).
// Before closing, it tells the other side on /monk/<cid>/conn/1 ("idle bye"), so neither side
// takes the close for a crash: `onClosed` fires only for closes nobody announced (the membership's
// accelerator). Peers believed down are retried one at a time, so a healed partition reconnects.
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { shuffle, type Clock, type Random } from './clock.js'
import { FrameReader, FrameWriter } from './framing.js'
import type { Gater } from './gater.js'
import { evictClosed, openStream, type MeshNode } from './node.js'
import type { Replica } from './replica.js'
import type { MeshCounters } from './counters.js'

export interface ConnectionsInit {
  node: MeshNode
  replica: Replica
  gater: Gater
  clock: Clock
  random: Random
  self: string
  bootstrap: readonly string[]
  /** Protocol of idle-bye notices (protocols.conn). */
  protocol: string
  /** Gossipsub topic whose mesh peers are never closed for idleness. */
  topic: string
  /** Whether the membership believes `peer` is down (dead or left). Unknown peers are not down. */
  isDown: (peer: string) => boolean
  intervalMs: number
  target: number
  max: number
  idleMs: number
  downRetryMs: number
  backoffMinMs: number
  backoffMaxMs: number
  dialTimeoutMs: number
  /** Dials started, failed and refused for being over the bound are counted here. */
  counters?: MeshCounters
}

export type PeerListener = (peer: string) => void
export type DialFailedListener = (peer: string, err: unknown) => void

interface Backoff { next: number; delay: number }

// at most this many background dials in flight: a cluster of 100 must not open 99 handshakes at once
const maxParallelDials = 4
// at most this many dials in flight in all before a bounded need() (membership's probes) fails at
// once: on a starved host more handshakes only make each slower, past the probe's timeout, and
// each failure became a suspicion (issue 11's 50-peer dial storm)
const maxDials = 8

/** A bounded need() found too many dials in flight: no verdict on the peer, try again later. */
export class DialBusyError extends Error {
  constructor (peer: string) {
    super(`dial to ${peer} not started: ${maxDials} dials already in flight`)
    this.name = 'DialBusyError'
  }
}
// a disconnect within this long after an idle bye (either way) is an announced close, not a hint
const byeGraceMs = 5000
const BYE = 1

/** The addresses a `peer/<id>` value advertises, and whether the peer has left. */
export function advertised (value: unknown): { addrs: string[]; left: boolean } {
  if (typeof value !== 'object' || value === null) return { addrs: [], left: false }
  const v = value as { addrs?: unknown; leftAt?: unknown }
  const addrs = Array.isArray(v.addrs) ? v.addrs.filter((a): a is string => typeof a === 'string') : []
  return { addrs, left: typeof v.leftAt === 'number' }
}

export class Connections {
  private readonly init: ConnectionsInit
  private readonly backoff = new Map<string, Backoff>()
  private readonly dialing = new Map<string, Promise<void>>()
  private readonly bootstrap = new Map<string, Multiaddr[]>()
  private readonly lastUsed = new Map<string, number>()
  private readonly byeAt = new Map<string, number>()
  private readonly closing = new Set<string>()
  private readonly closedListeners = new Set<PeerListener>()
  private readonly dialFailedListeners = new Set<DialFailedListener>()
  private preferred: () => readonly string[] = () => []
  private lastDownRetry = 0
  // known() parses every `peer/` record's multiaddrs: cached until a `peer/` key changes, so an
  // idle pass costs nothing per member
  private knownCache: Map<string, Multiaddr[]> | undefined
  private timer: NodeJS.Timeout | undefined
  private soon: NodeJS.Timeout | undefined
  private unsubscribe: (() => void) | undefined
  private stopped = false
  private readonly onDisconnect = (e: CustomEvent<PeerId>): void => { this.disconnected(e.detail.toString()) }
  private readonly onConnect = (e: CustomEvent<PeerId>): void => { this.lastUsed.set(e.detail.toString(), this.init.clock.monotonic()) }

  constructor (init: ConnectionsInit) {
    this.init = init
    for (const a of init.bootstrap) {
      const ma = multiaddr(a)
      const id = ma.getPeerId()
      if (!id || id === init.self) continue
      const list = this.bootstrap.get(id) ?? []
      list.push(ma.decapsulateCode(421)) // 421 = p2p: keep the transport part only
      this.bootstrap.set(id, list)
    }
  }

  async start (): Promise<void> {
    const { node } = this.init
    await node.handle(this.init.protocol, ({ stream, connection }) => {
      void this.receiveBye(stream, connection.remotePeer.toString())
    }, { maxInboundStreams: 2 })
    node.addEventListener('peer:disconnect', this.onDisconnect)
    node.addEventListener('peer:connect', this.onConnect)
    this.timer = setInterval(() => { this.pass() }, this.init.intervalMs)
    // a new or changed peer entry may carry addresses of a peer we may need
    this.unsubscribe = this.init.replica.onChange('peer/', () => { this.knownCache = undefined; this.passSoon() })
    this.pass()
  }

  async stop (): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    clearTimeout(this.soon)
    this.unsubscribe?.()
    this.init.node.removeEventListener('peer:disconnect', this.onDisconnect)
    this.init.node.removeEventListener('peer:connect', this.onConnect)
    await this.init.node.unhandle(this.init.protocol).catch(() => {})
  }

  // ---- the interface for membership, anti-entropy and requests ----

  /** Ensures a connection to `peer`, dialing now if needed (ignores backoff); marks it used. Rejects if the dial fails. */
  async need (peer: string, opts: { signal?: AbortSignal; bounded?: boolean } = {}): Promise<void> {
    this.touch(peer)
    if (this.isConnected(peer)) return
    if (opts.bounded === true && !this.dialing.has(peer) && this.dialing.size >= maxDials) {
      if (this.init.counters) this.init.counters.dialsBusy++
      throw new DialBusyError(peer)
    }
    await this.dial(peer, opts.signal)
    this.touch(peer)
  }

  /** Marks the connection to `peer` as used now, so it is not closed for idleness. */
  touch (peer: string): void {
    if (peer !== this.init.self) this.lastUsed.set(peer, this.init.clock.monotonic())
  }

  isConnected (peer: string): boolean {
    try { return this.init.node.getConnections(peerIdFromString(peer)).some(c => c.status === 'open') } catch { return false }
  }

  /** Peers with an open connection, sorted. */
  connected (): string[] {
    return [...new Set(this.init.node.getConnections().filter(c => c.status === 'open').map(c => c.remotePeer.toString()))].sort()
  }

  /** Calls `fn(peer)` when a connection ends that neither side closed for idleness (a hint of failure). */
  onClosed (fn: PeerListener): () => void { this.closedListeners.add(fn); return () => { this.closedListeners.delete(fn) } }

  /** Calls `fn(peer)` when a dial to `peer` fails (refused, timed out). */
  onDialFailed (fn: DialFailedListener): () => void { this.dialFailedListeners.add(fn); return () => { this.dialFailedListeners.delete(fn) } }

  /**
   * Peers the fill dials first (membership's probe subjects): connections that are needed anyway
   * then also serve gossipsub, and the pool holds fewer in all.
   */
  prefer (fn: () => readonly string[]): void { this.preferred = fn }

  /** Forgets the backoff of `peer` so the next pass may dial it at once. */
  reset (peer: string): void {
    this.backoff.delete(peer)
    this.passSoon()
  }

  /** Peers we know addresses for (bootstrap and `peer/<id>` records, minus those that left), with those addresses. */
  known (): Map<string, Multiaddr[]> {
    this.knownCache ??= this.scanKnown()
    return this.knownCache
  }

  private scanKnown (): Map<string, Multiaddr[]> {
    const out = new Map<string, Multiaddr[]>()
    for (const [id, addrs] of this.bootstrap) out.set(id, [...addrs])
    for (const { key, value } of this.init.replica.scan('peer/')) {
      const id = key.slice('peer/'.length)
      const { addrs, left } = advertised(value)
      if (left || id === this.init.self) { if (left) out.delete(id); continue }
      const list = out.get(id) ?? []
      for (const a of addrs) {
        try { list.push(multiaddr(a)) } catch {}
      }
      out.set(id, list)
    }
    return out
  }

  // ---- maintenance ----

  private passSoon (): void {
    if (this.soon || this.stopped) return
    this.soon = setTimeout(() => { this.soon = undefined; this.pass() }, 20)
  }

  private pass (): void {
    if (this.stopped) return
    const { gater, clock, random, isDown, target } = this.init
    const now = clock.monotonic()
    const connected = new Set(this.connected())
    for (const p of connected) if (gater.isBlocked(p)) connected.delete(p)
    const dialable = (id: string, addrs: Multiaddr[]): boolean => {
      if (addrs.length === 0 || connected.has(id) || this.dialing.has(id) || gater.isBlocked(id)) return false
      const b = this.backoff.get(id)
      return !b || now >= b.next
    }
    // fill up to the target with random members that are not believed down
    let missing = target - connected.size - this.dialing.size
    if (missing > 0) {
      const first = new Set(this.preferred())
      const candidates = shuffle([...this.known()].filter(([id, addrs]) => !isDown(id) && dialable(id, addrs)), random)
        .sort((a, b) => Number(first.has(b[0])) - Number(first.has(a[0])))
      for (const [id] of candidates) {
        if (missing <= 0 || this.dialing.size >= maxParallelDials) break
        missing--
        void this.dial(id).catch(() => {})
      }
    }
    // one peer believed down, now and then: a healed partition or a restarted peer comes back
    // (half a pass of slack: timers fire a little early or late, and with downRetryMs equal to the
    // pass interval a strict bound would skip every other pass)
    if (now - this.lastDownRetry >= this.init.downRetryMs - this.init.intervalMs / 2) {
      this.lastDownRetry = now
      const down = [...this.known()].filter(([id, addrs]) => isDown(id) && dialable(id, addrs))
      const pick = down[Math.floor(random.next() * down.length)]
      if (pick) void this.dial(pick[0]).catch(() => {})
    }
    this.closeIdle(now)
  }

  /** Closes connections above `max` unused for `idleMs`: outside the gossipsub mesh first, then oldest use first. */
  private closeIdle (now: number): void {
    const { node, topic, max, idleMs } = this.init
    const conns = node.getConnections().filter(c => c.status === 'open')
    const byPeer = new Map<string, Connection[]>()
    for (const c of conns) byPeer.set(c.remotePeer.toString(), [...(byPeer.get(c.remotePeer.toString()) ?? []), c])
    const since = Date.now() - idleMs
    for (const [peer, cs] of byPeer) if (cs.some(c => inUse(c, since))) this.lastUsed.set(peer, now)
    let excess = byPeer.size - max
    if (excess <= 0) return
    // peers outside the gossipsub mesh go first; a mesh peer unused by us is closed too when the
    // others do not bring the count down: gossipsub grafts another of the peers we keep (the ones
    // probes, sync and requests use), so the mesh never pins connections above the bound
    const mesh = new Set(node.services.pubsub.getMeshPeers(topic))
    const idle = [...byPeer.keys()]
      .filter(p => !this.closing.has(p) && now - (this.lastUsed.get(p) ?? 0) >= idleMs)
      .sort((a, b) => Number(mesh.has(a)) - Number(mesh.has(b)) || (this.lastUsed.get(a) ?? 0) - (this.lastUsed.get(b) ?? 0))
    for (const peer of idle) {
      if (excess-- <= 0) break
      this.closing.add(peer)
      void this.closeWithBye(peer).finally(() => { this.closing.delete(peer) })
    }
  }

  private async closeWithBye (peer: string): Promise<void> {
    const { node, clock } = this.init
    this.byeAt.set(peer, clock.monotonic())
    const pid = peerIdFromString(peer)
    try {
      const stream = await openStream(node, peer, this.init.protocol, { signal: AbortSignal.timeout(this.init.dialTimeoutMs) })
      const writer = new FrameWriter(stream)
      writer.write(new Uint8Array([BYE]))
      writer.end()
      await writer.done
    } catch {
      // the close goes ahead; the other side may take it as a hint and probe once
    }
    // record the bye again: the dial above may have been slow
    this.byeAt.set(peer, clock.monotonic())
    await node.hangUp(pid).catch(() => {})
  }

  private async receiveBye (stream: Stream, peer: string): Promise<void> {
    const reader = new FrameReader(stream.source, 16)
    try {
      const f = await reader.next()
      if (f && f.length === 1 && f[0] === BYE) this.byeAt.set(peer, this.init.clock.monotonic())
    } catch {
      // a broken bye is just no bye
    } finally {
      stream.abort(new Error('bye read'))
    }
  }

  private disconnected (peer: string): void {
    if (this.stopped) return
    const bye = this.byeAt.get(peer)
    if (bye !== undefined && this.init.clock.monotonic() - bye <= byeGraceMs) {
      this.byeAt.delete(peer)
      return
    }
    for (const fn of this.closedListeners) {
      try { fn(peer) } catch { /* a listener's failure is its own */ }
    }
    this.passSoon()
  }

  /** Dials `peer` once (concurrent callers share the attempt); on failure backs off and tells listeners. */
  private dial (peer: string, signal?: AbortSignal): Promise<void> {
    const existing = this.dialing.get(peer)
    if (existing) return existing
    const run = this.dialOnce(peer, signal).finally(() => { this.dialing.delete(peer) })
    this.dialing.set(peer, run)
    return run
  }

  private async dialOnce (peer: string, signal?: AbortSignal): Promise<void> {
    const { node, clock, random, counters } = this.init
    const pid = peerIdFromString(peer)
    const addrs = this.known().get(peer) ?? []
    if (counters) counters.dialsStarted++
    try {
      if (addrs.length) await node.peerStore.merge(pid, { multiaddrs: addrs })
      // libp2p hands back a tracked connection to the peer, even a closed one (node.ts openStream)
      evictClosed(node, pid)
      const timeout = AbortSignal.timeout(this.init.dialTimeoutMs)
      await node.dial(pid, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout })
      this.backoff.delete(peer)
    } catch (err) {
      if (counters) counters.dialsFailed++
      const prev = this.backoff.get(peer)?.delay ?? 0
      const delay = Math.min(this.init.backoffMaxMs, Math.max(this.init.backoffMinMs, prev * 2))
      this.backoff.set(peer, { delay, next: clock.monotonic() + delay * (0.75 + 0.5 * random.next()) })
      if (!this.stopped) {
        for (const fn of this.dialFailedListeners) {
          try { fn(peer, err) } catch { /* a listener's failure is its own */ }
        }
      }
      throw err
    }
  }
}

/**
 * A connection carries a stream opened since `since` (wall ms): a sync, a request, a bye. Streams
 * that live as long as the connection (gossipsub's, membership's) are older and do not count:
 * their users say when they use the connection through touch().
 */
function inUse (c: Connection, since: number): boolean {
  return c.streams.some(s => s.timeline.open >= since)
}
