// Membership on the network (DESIGN §4): a heartbeat every 500 ms on a direct stream
// /monk/<clusterId>/hb/1 to every connected peer, φ checks, a disconnect taken as a hint that
// triggers a direct ping, and clean leave. The view itself lives in liveness.ts.
//
// Heartbeats are direct, not gossiped: a gossiped heartbeat is forwarded by every mesh member
// (≈ N·D copies per beat), which at 10 peers alone is ~20 KB/s per peer; a direct frame is
// ~30 bytes per peer per beat.
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId, Stream } from '@libp2p/interface'
import type { MeshCounters } from './counters.js'
import { FrameReader, FrameWriter } from './framing.js'
import type { Liveness } from './liveness.js'
import type { MeshNode } from './node.js'

/** Heartbeat stream frames (1 byte each). Append-only. */
const BEAT = 1
const LEAVE = 2
const beatFrame = new Uint8Array([BEAT])
const leaveFrame = new Uint8Array([LEAVE])

// a stalled remote stops reading; beats queued beyond this are pointless
const maxQueuedBeats = 20
// after a failed stream open, wait this long before trying that peer again
const reopenDelayMs = 2000
// pause between direct-ping attempts after a disconnect: lets a connection being replaced settle
const probeRetryDelayMs = 200

export interface MembershipInit {
  node: MeshNode
  protocol: string
  liveness: Liveness
  counters: MeshCounters
  intervalMs: number
  tickMs: number
  probeTimeoutMs: number
  probeAttempts: number
}

interface Outbound {
  stream: Stream
  writer: FrameWriter
}

export class Membership {
  private readonly init: MembershipInit
  private readonly outbound = new Map<string, Outbound>()
  private readonly opening = new Map<string, number>()
  private readonly probing = new Set<string>()
  private beatTimer: NodeJS.Timeout | undefined
  private tickTimer: NodeJS.Timeout | undefined
  private stopped = false
  private unsubscribeDown: (() => void) | undefined
  private readonly onConnect = (e: CustomEvent<PeerId>): void => { this.open(e.detail.toString()) }
  private readonly onDisconnect = (e: CustomEvent<PeerId>): void => { void this.hint(e.detail.toString()) }

  constructor (init: MembershipInit) {
    this.init = init
  }

  async start (): Promise<void> {
    const { node, protocol } = this.init
    await node.handle(protocol, ({ stream, connection }) => {
      void this.receive(stream, connection.remotePeer.toString())
    }, { maxInboundStreams: 4 })
    node.addEventListener('peer:connect', this.onConnect)
    node.addEventListener('peer:disconnect', this.onDisconnect)
    for (const p of node.getPeers()) this.open(p.toString())
    // a peer declared dead by φ may still hold a half-open connection: close it, so that when it
    // comes back it does so through a fresh connection (and its heartbeats are heard again)
    this.unsubscribeDown = this.init.liveness.onDown((peer, reason) => {
      if (reason === 'failed') void node.hangUp(peerIdFromString(peer)).catch(() => {})
    })
    this.beatTimer = setInterval(() => { this.beat() }, this.init.intervalMs)
    this.tickTimer = setInterval(() => { this.init.liveness.check() }, this.init.tickMs)
  }

  /** Sends a leave notice to every connected peer and waits (bounded) for it to be written. */
  async leave (timeoutMs = 1000): Promise<void> {
    const sends = [...this.outbound.values()].map(o => {
      o.writer.write(leaveFrame)
      o.writer.end()
      return o.writer.done.catch(() => {})
    })
    await Promise.race([Promise.all(sends), new Promise(resolve => setTimeout(resolve, timeoutMs))])
  }

  async stop (): Promise<void> {
    this.stopped = true
    clearInterval(this.beatTimer)
    clearInterval(this.tickTimer)
    this.unsubscribeDown?.()
    const { node } = this.init
    node.removeEventListener('peer:connect', this.onConnect)
    node.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const o of this.outbound.values()) o.writer.end()
    this.outbound.clear()
    await node.unhandle(this.init.protocol).catch(() => {})
  }

  /** One heartbeat to every connected peer; (re)opens missing streams. */
  private beat (): void {
    for (const p of this.init.node.getPeers()) {
      const peer = p.toString()
      const o = this.outbound.get(peer)
      if (!o) { this.open(peer); continue }
      if (o.writer.pending >= maxQueuedBeats) continue
      o.writer.write(beatFrame)
      this.init.counters.heartbeatsSent++
    }
  }

  /** Opens the outbound heartbeat stream to `peer` unless one exists or an attempt is recent. */
  private open (peer: string): void {
    if (this.stopped || this.outbound.has(peer)) return
    const last = this.opening.get(peer)
    if (last !== undefined && Date.now() - last < reopenDelayMs) return
    this.opening.set(peer, Date.now())
    this.init.node.dialProtocol(peerIdFromString(peer), this.init.protocol, { signal: AbortSignal.timeout(this.init.probeTimeoutMs) })
      .then(stream => {
        if (this.stopped || this.outbound.has(peer)) { stream.abort(new Error('not needed')); return }
        const writer = new FrameWriter(stream)
        this.outbound.set(peer, { stream, writer })
        this.opening.delete(peer)
        // first beat at once so a new peer is seen alive without waiting a full interval
        writer.write(beatFrame)
        this.init.counters.heartbeatsSent++
        writer.done.catch(() => {}).finally(() => {
          if (this.outbound.get(peer)?.stream === stream) this.outbound.delete(peer)
        })
      })
      .catch(() => {})
  }

  /** Reads beats and leave notices from `peer` until the stream ends. */
  private async receive (stream: Stream, peer: string): Promise<void> {
    const { liveness, counters } = this.init
    const reader = new FrameReader(stream.source, 16)
    try {
      for (;;) {
        const f = await reader.next()
        if (!f) break
        if (f.length === 1 && f[0] === BEAT) {
          counters.heartbeatsReceived++
          liveness.beat(peer)
        } else if (f.length === 1 && f[0] === LEAVE) {
          liveness.leave(peer)
        }
        // unknown frames are ignored: kinds are append-only, a newer peer may send more
      }
    } catch {
      // a reset stream is not a verdict; the disconnect hint and φ decide
    } finally {
      stream.abort(new Error('heartbeat stream closed'))
    }
  }

  /**
   * A libp2p disconnect: not a verdict. If the peer was alive, ping it directly (which dials);
   * only if every attempt fails, and it has not been heard from meanwhile, is it declared dead.
   */
  private async hint (peer: string): Promise<void> {
    const { liveness, node, counters } = this.init
    this.outbound.get(peer)?.writer.end()
    this.outbound.delete(peer)
    if (this.stopped || !liveness.isAlive(peer) || this.probing.has(peer)) return
    this.probing.add(peer)
    try {
      const heardBefore = liveness.lastHeard(peer)
      for (let attempt = 0; attempt < this.init.probeAttempts; attempt++) {
        if (this.stopped || !liveness.isAlive(peer)) return
        counters.probes++
        try {
          await node.services.ping.ping(peerIdFromString(peer), { signal: AbortSignal.timeout(this.init.probeTimeoutMs) })
          return
        } catch {
          counters.probesFailed++
        }
        if (attempt + 1 < this.init.probeAttempts) await new Promise(resolve => setTimeout(resolve, probeRetryDelayMs))
      }
      const heardAfter = liveness.lastHeard(peer)
      if (this.stopped || node.getConnections(peerIdFromString(peer)).length > 0 || heardAfter !== heardBefore) return
      liveness.unreachable(peer)
    } finally {
      this.probing.delete(peer)
    }
  }
}
