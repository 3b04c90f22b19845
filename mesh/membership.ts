// The libp2p shell of SWIM membership (DESIGN §4): runs the pure machine (swim.ts) on real time,
// carries its messages as length-prefixed CBOR frames (swim-codec.ts) on direct streams
// /monk/<clusterId>/swim/1, and feeds it what the network shows: members from the replica's
// `peer/<id>` records, connections that close and dials that fail (hints: probe now), dials that
// are refused (near-certain death).
//
// One outbound stream per peer we talk to, kept open: a probe costs one frame each way (~45 bytes
// on the wire), not a stream negotiation. Connections come from the pool (dialer.ts): need()
// dials on demand, touch() keeps a connection we use from being closed for idleness.
import type { Stream } from '@libp2p/interface'
import type { Clock, Random } from './clock.js'
import { countRejection, type MeshCounters } from './counters.js'
import { advertised, DialBusyError } from './dialer.js'
import { DecodeError, ProtocolError } from './errors.js'
import { FrameReader, FrameWriter } from './framing.js'
import type { Liveness } from './liveness.js'
import { openStream, type MeshNode } from './node.js'
import type { Replica } from './replica.js'
import { Swim, type SendKind, type SwimConfig, type SwimEvent } from './swim.js'
import { decodeSwim, encodeSwim, maxSwimMessageBytes, type SwimMessage } from './swim-codec.js'
import { RingTopology } from './swim-ring.js'

/** What membership needs from the connection pool. */
export interface ProbeConnections {
  /**
   * Ensures a connection to `peer` (dials now if needed); rejects with the dial's error. `bounded`:
   * when too many dials are in flight, rejects at once with a DialBusyError instead of dialing.
   */
  need (peer: string, opts?: { signal?: AbortSignal; bounded?: boolean }): Promise<void>
  /** Marks the connection to `peer` as in use. */
  touch (peer: string): void
  /** Whether a connection to `peer` is open now. */
  isConnected (peer: string): boolean
  /** Calls `fn(peer)` when a connection ends that nobody announced as an idle close. */
  onClosed (fn: (peer: string) => void): () => void
  /** Calls `fn(peer, err)` when a dial to `peer` fails (the pool's own dials included). */
  onDialFailed (fn: (peer: string, err: unknown) => void): () => void
}

export interface MembershipInit {
  node: MeshNode
  protocol: string
  self: string
  replica: Replica
  connections: ProbeConnections
  liveness: Liveness
  counters: MeshCounters
  clock: Clock
  random: Random
  config: SwimConfig
  rings: number
  /** Opening a stream (including the dial) to a peer gives up after this long. */
  openTimeoutMs: number
}

/** The counter of each kind of SWIM send. */
const sentCounter: Record<SendKind, keyof MeshCounters> = {
  probe: 'swimSentProbe',
  confirm: 'swimSentConfirm',
  ack: 'swimSentAck',
  'ping-req': 'swimSentPingReq',
  relay: 'swimSentRelay',
  'relay-ack': 'swimSentRelayAck',
  nack: 'swimSentNack',
  'dead-ping': 'swimSentDeadPing',
  tell: 'swimSentTell',
  refute: 'swimSentRefute',
  suspect: 'swimSentSuspect',
  gossip: 'swimSentGossip',
  view: 'swimSentView',
  leave: 'swimSentLeave',
  announce: 'swimSentAnnounce',
}

interface Outbound { writer: FrameWriter | undefined; queue: Uint8Array[]; stream: Stream | undefined }

// frames queued to a peer whose stream is still opening, or that stopped reading; more are dropped
const maxQueued = 32
// an armed timer that would fire this much or more before the machine's next deadline is moved to it
const rearmSlackMs = 20
// a hinted peer's probe dials unbounded for this long after the hint
const urgentMs = 5000
// MONK_SWIM_TRACE=1: one stderr line per suspicion this peer raises, with the failed probe's kind (diagnosis of false suspicions)
const trace = process.env.MONK_SWIM_TRACE === '1'

export class Membership {
  private readonly init: MembershipInit
  readonly swim: Swim
  private topology: RingTopology
  private readonly extra = new Set<string>()
  private readonly outbound = new Map<string, Outbound>()
  private timer: NodeJS.Timeout | undefined
  private timerAt = Infinity
  private stopped = false
  private readonly unsubscribe: Array<() => void> = []
  /** Peers whose connection just closed without a bye, or whose dial was refused: their probe's dial is never refused as busy (the SIGKILL accelerator must not wait). */
  private readonly urgent = new Map<string, number>()

  constructor (init: MembershipInit) {
    this.init = init
    this.topology = new RingTopology([init.self], init.rings)
    this.swim = new Swim({
      self: init.self,
      // wall-clock seconds: a restarted peer comes back with a higher incarnation than it died with
      incarnation: Math.floor(init.clock.now() / 1000),
      config: init.config,
      random: init.random,
      now: init.clock.monotonic(),
      topology: () => this.topology,
      transport: { send: (to, msg, why) => this.send(to, msg, why) },
      onEvent: e => { this.event(e) },
    })
    init.liveness.bind(this.swim)
  }

  async start (): Promise<void> {
    const { node, protocol, replica, connections } = this.init
    await node.handle(protocol, ({ stream, connection }) => {
      void this.receive(stream, connection.remotePeer.toString())
    }, { maxInboundStreams: 4 })
    this.unsubscribe.push(connections.onClosed(peer => {
      this.urgent.set(peer, this.init.clock.monotonic())
      this.dropOutbound(peer)
      this.call(now => { this.swim.hint(peer, now) })
    }))
    // a refused dial (ours or the pool's) is a hint too: the probe it starts finds out for itself.
    // Only a refused one: a dial that timed out says more about a loaded host than about the peer,
    // and the probe it started dialed again, timed out again and raised suspicions (a dial storm
    // at 50 peers on 2 starved cores)
    this.unsubscribe.push(connections.onDialFailed((peer, err) => {
      if (isRefused(err) && this.swim.state(peer) === 'alive') {
        this.urgent.set(peer, this.init.clock.monotonic())
        this.call(now => { this.swim.hint(peer, now) })
      }
    }))
    // a connection with a peer held dead: tell it now, so it refutes (swim.contact)
    const onConnect = (e: CustomEvent<{ toString: () => string }>): void => {
      const peer = e.detail.toString()
      if (this.swim.state(peer) === 'dead') this.call(now => { this.swim.contact(peer, now) })
    }
    node.addEventListener('peer:connect', onConnect)
    this.unsubscribe.push(() => { node.removeEventListener('peer:connect', onConnect) })
    this.unsubscribe.push(replica.onChange('peer/', () => { this.refreshMembers() }))
    this.refreshMembers()
    // our own record is in the replica already: this is a restart from our home, and the others
    // may hold us dead. Tell each member we know that we are back (swim.announce)
    if (replica.get(`peer/${this.init.self}`) !== undefined) {
      this.call(now => { this.swim.announce([...this.topology.ids], now) })
    }
    this.schedule()
  }

  /** Announces a clean leave to the neighbours and waits (bounded) for the frames to be written. */
  async leave (timeoutMs = 1000): Promise<void> {
    this.call(now => { this.swim.leave(now) })
    const writes = [...this.outbound.values()].map(async o => {
      const deadline = Date.now() + timeoutMs
      while (o.writer === undefined && o.queue.length > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
      o.writer?.end()
      await o.writer?.done.catch(() => {})
    })
    await Promise.race([Promise.all(writes), new Promise(resolve => setTimeout(resolve, timeoutMs))])
  }

  async stop (): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    for (const u of this.unsubscribe) u()
    for (const o of this.outbound.values()) o.writer?.end()
    this.outbound.clear()
    await this.init.node.unhandle(this.init.protocol).catch(() => {})
  }

  /** This peer's current incarnation (a leave raises it by one). */
  get incarnation (): number { return this.swim.incarnation }

  /** The peers membership probes or is probed by: the connections it keeps in use. */
  neighbours (): string[] { return this.swim.neighbours() }

  /** The peers this one probes (a subset of the neighbours). */
  subjects (): string[] { return this.swim.subjects() }

  // ---- the machine on real time ----

  /** Runs `fn` on the machine with the current time, then re-arms the timer. */
  private call (fn: (now: number) => void): void {
    if (this.stopped) return
    fn(this.init.clock.monotonic())
    this.schedule()
  }

  private schedule (): void {
    if (this.stopped) return
    const at = this.swim.nextWake()
    // an armed timer for the same or an earlier deadline stays, unless the deadline it was armed for
    // is gone: an ack that arrives before the probe timeout leaves only the next probe, and a timer
    // kept for the timeout would wake the peer once per period for nothing (measured at 4 idle
    // peers: 3.9 wakes/s per peer, half of them for timeouts already answered)
    if (this.timer !== undefined && at >= this.timerAt && at - this.timerAt < rearmSlackMs) return
    clearTimeout(this.timer)
    this.timerAt = at
    // a timer, never a direct call: the event loop reads pending messages before the next tick
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.timerAt = Infinity
      this.call(now => { this.swim.tick(now) })
    }, Math.max(0, at - this.init.clock.monotonic()))
  }

  private event (e: SwimEvent): void {
    if (e.type === 'learned') {
      this.extra.add(e.peer)
      this.rebuild()
      return
    }
    if (e.type === 'raised') {
      this.init.counters.suspicionsRaised++
      if (trace) process.stderr.write(`swim ${this.init.self.slice(-6)} suspects ${e.peer.slice(-6)} (${e.why}) connected=${this.init.connections.isConnected(e.peer)}\n`)
      return
    }
    if (e.type === 'suspect') this.init.counters.suspicions++
    if (e.type === 'down') this.dropOutbound(e.peer)
    this.init.liveness.emit(e)
  }

  /** Members = this peer + every `peer/<id>` record + peers heard of; those whose record says left are left. */
  private refreshMembers (): void {
    const now = this.init.clock.monotonic()
    for (const { key, value } of this.init.replica.scan('peer/')) {
      const id = key.slice('peer/'.length)
      if (id !== this.init.self && this.swim.state(id) !== 'left' && recordLeft(value, this.swim.member(id))) this.swim.left(id, now)
    }
    this.rebuild()
    this.schedule()
  }

  private rebuild (): void {
    const ids = new Set([this.init.self, ...this.extra])
    for (const { key } of this.init.replica.scan('peer/')) ids.add(key.slice('peer/'.length))
    if (ids.size === this.topology.size && [...ids].every(id => this.topology.ids.has(id))) return
    this.topology = new RingTopology(ids, this.init.rings)
  }

  // ---- transport ----

  /** Writes `msg` to `to` on our outbound stream; false when that stream is still being opened (swim.opened() follows). */
  private send (to: string, msg: SwimMessage, why: SendKind): boolean {
    if (this.stopped) return true
    const bytes = encodeSwim(msg)
    const { counters, connections } = this.init
    counters.swimSent++
    counters[sentCounter[why]]++
    if (msg.type === 'ping') counters.probes++
    connections.touch(to)
    let o = this.outbound.get(to)
    // a stream that is no longer open, or that stopped draining (maxQueued frames waiting), delivers
    // nothing: if its end went unnoticed (no down event, no reported close) every later probe, ack
    // and refutation to that peer would be dropped for good, and the two would disagree on whether
    // the other is alive until a restart (chaos seed 2). Open a new one instead.
    if (o?.stream !== undefined && (o.stream.status !== 'open' || !['ready', 'writing'].includes(o.stream.writeStatus) || (o.writer?.pending ?? 0) >= maxQueued)) {
      this.outbound.delete(to)
      o.stream.abort(new Error('swim stream stalled or closed'))
      o = undefined
    }
    if (!o) {
      o = { writer: undefined, queue: [], stream: undefined }
      this.outbound.set(to, o)
      void this.open(to, o)
    }
    if (o.writer) {
      if (o.writer.pending < maxQueued) o.writer.write(bytes)
      else counters.swimDropped++
      return true
    }
    if (o.queue.length < maxQueued) o.queue.push(bytes)
    else counters.swimDropped++
    return false
  }

  private async open (peer: string, o: Outbound): Promise<void> {
    const { node, protocol, connections, openTimeoutMs } = this.init
    try {
      const signal = AbortSignal.timeout(openTimeoutMs)
      // bounded, except right after a hint: a refused dial is quick whatever the load, and it is
      // what declares a SIGKILLed peer in a few hundred ms
      const hintAt = this.urgent.get(peer)
      const urgent = hintAt !== undefined && this.init.clock.monotonic() - hintAt < urgentMs
      if (hintAt !== undefined && !urgent) this.urgent.delete(peer)
      await connections.need(peer, { signal, bounded: !urgent })
      const stream = await openStream(node, peer, protocol, { signal })
      if (this.stopped || this.outbound.get(peer) !== o) { stream.abort(new Error('not needed')); return }
      const writer = new FrameWriter(stream)
      o.stream = stream
      o.writer = writer
      for (const f of o.queue) writer.write(f)
      o.queue = []
      writer.done.catch(() => {}).finally(() => {
        if (this.outbound.get(peer) === o) this.outbound.delete(peer)
      })
      // probes that waited for this stream start their clocks now: opening it was no round trip
      this.call(now => { this.swim.opened(peer, now) })
    } catch (err) {
      if (this.outbound.get(peer) === o) this.outbound.delete(peer)
      if (err instanceof DialBusyError) {
        // too many dials in flight here: no verdict on the peer (our own load), the probe is dropped
        this.call(now => { this.swim.sendSkipped(peer, now) })
        return
      }
      const refused = isRefused(err)
      if (refused) this.init.counters.probesRefused++
      this.call(now => { this.swim.sendFailed(peer, refused, now) })
    }
  }

  private dropOutbound (peer: string): void {
    const o = this.outbound.get(peer)
    if (!o) return
    this.outbound.delete(peer)
    o.writer?.end()
  }

  /** Reads frames from `peer` until the stream ends; a malformed frame is counted and skipped. */
  private async receive (stream: Stream, peer: string): Promise<void> {
    const { counters, connections } = this.init
    const reader = new FrameReader(stream.source, maxSwimMessageBytes)
    try {
      for (;;) {
        const f = await reader.next()
        if (!f) break
        let msg: SwimMessage
        try {
          msg = decodeSwim(f)
        } catch (err) {
          countRejection(counters, err instanceof DecodeError && err.reason === 'oversized' ? 'oversized' : 'malformed')
          continue
        }
        counters.swimReceived++
        connections.touch(peer)
        this.call(now => { this.swim.receive(peer, msg, now) })
      }
    } catch (err) {
      // a frame over the limit is refused and ends the stream; a reset stream is no verdict on anything
      if (err instanceof ProtocolError) counters.rejectedOversized++
    } finally {
      stream.abort(new Error('swim stream closed'))
    }
  }
}

/**
 * True when a `peer/<id>` record says its peer left and membership does not know it back since: a
 * record written by `leave()` carries `leftInc`, the incarnation it left with, and a peer restarted
 * from its home is alive at a higher one. A stale record (its new one not here yet) must not mark a
 * peer that came back left again: it would stay left here, never probed nor synced with.
 */
export function recordLeft (value: unknown, known: { state: string; inc: number } | undefined): boolean {
  if (!advertised(value).left) return false
  const leftInc = (value as { leftInc?: unknown }).leftInc
  return !(typeof leftInc === 'number' && known !== undefined && known.state !== 'left' && known.inc > leftInc)
}

/** True when a dial failed because the port refused the connection (no process listens). */
export function isRefused (err: unknown, depth = 0): boolean {
  if (depth > 5 || typeof err !== 'object' || err === null) return false
  const e = err as { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown }
  if (e.code === 'ECONNREFUSED' || (typeof e.message === 'string' && e.message.includes('ECONNREFUSED'))) return true
  if (Array.isArray(e.errors) && e.errors.some(x => isRefused(x, depth + 1))) return true
  return isRefused(e.cause, depth + 1)
}
