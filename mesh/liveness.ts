// The membership view of one peer: who is alive, dead or gone, from heartbeats, φ, failed probes
// and leave notices. Pure logic on an injected Clock; membership.ts feeds it from the network.
import type { Clock } from './clock.js'
import { PhiAccrual, type PhiAccrualInit } from './phi-accrual.js'

/** State of a remote peer in this peer's view. */
export type PeerState = 'alive' | 'dead' | 'left'

/** Why a peer went down: φ passed the threshold, a direct ping after a disconnect failed, or it left cleanly. */
export type DownReason = 'failed' | 'unreachable' | 'left'

export interface PeerLiveness {
  id: string
  state: PeerState
  /** Current φ (0 when not alive). */
  phi: number
  /** Monotonic ms of the last heartbeat, undefined if none yet. */
  lastHeard: number | undefined
  /** Monotonic ms of the last state change. */
  since: number
  /** Set when state is dead or left. */
  reason: DownReason | undefined
}

export interface LivenessInit extends PhiAccrualInit {
  /** φ above which an alive peer is declared dead. */
  threshold: number
}

interface Record {
  state: PeerState
  detector: PhiAccrual
  since: number
  reason: DownReason | undefined
}

export type UpListener = (peer: string) => void
export type DownListener = (peer: string, reason: DownReason) => void

export class Liveness {
  private readonly init: LivenessInit
  private readonly clock: Clock
  private readonly peers = new Map<string, Record>()
  private readonly up = new Set<UpListener>()
  private readonly down = new Set<DownListener>()

  constructor (init: LivenessInit, clock: Clock) {
    this.init = init
    this.clock = clock
  }

  /** A heartbeat arrived from `peer`: an unknown, dead or departed peer comes (back) up. */
  beat (peer: string): void {
    const r = this.peers.get(peer)
    if (r && r.state === 'alive') {
      r.detector.heartbeat()
      return
    }
    const detector = new PhiAccrual(this.init, this.clock)
    detector.heartbeat()
    this.peers.set(peer, { state: 'alive', detector, since: this.clock.monotonic(), reason: undefined })
    for (const fn of this.up) call(() => fn(peer))
  }

  /** `peer` announced a clean leave. */
  leave (peer: string): void { this.markDown(peer, 'left') }

  /** A direct ping to `peer` failed after its connection dropped. */
  unreachable (peer: string): void { this.markDown(peer, 'unreachable') }

  /** Declares dead every alive peer whose φ passed the threshold. Call periodically. */
  check (): void {
    for (const [peer, r] of this.peers) {
      if (r.state === 'alive' && r.detector.phi() > this.init.threshold) this.markDown(peer, 'failed')
    }
  }

  /** Ids of peers currently alive (not including this peer). */
  alive (): string[] {
    const out: string[] = []
    for (const [peer, r] of this.peers) if (r.state === 'alive') out.push(peer)
    return out.sort()
  }

  isAlive (peer: string): boolean { return this.peers.get(peer)?.state === 'alive' }

  state (peer: string): PeerState | undefined { return this.peers.get(peer)?.state }

  /** Monotonic ms of the last heartbeat from `peer`. */
  lastHeard (peer: string): number | undefined { return this.peers.get(peer)?.detector.last }

  /** Every peer ever heard from, with its state. */
  list (): PeerLiveness[] {
    return [...this.peers].map(([id, r]) => ({
      id,
      state: r.state,
      phi: r.state === 'alive' ? r.detector.phi() : 0,
      lastHeard: r.detector.last,
      since: r.since,
      reason: r.reason,
    })).sort((a, b) => a.id < b.id ? -1 : 1)
  }

  /** Listener for peers coming up; returns an unsubscribe function. */
  onUp (fn: UpListener): () => void { this.up.add(fn); return () => { this.up.delete(fn) } }

  /** Listener for peers going down; returns an unsubscribe function. */
  onDown (fn: DownListener): () => void { this.down.add(fn); return () => { this.down.delete(fn) } }

  private markDown (peer: string, reason: DownReason): void {
    const r = this.peers.get(peer)
    if (!r || r.state !== 'alive') {
      // a leave from a peer we never heard beat is still worth remembering (no resurrection by a stale probe)
      if (!r && reason === 'left') this.peers.set(peer, { state: 'left', detector: new PhiAccrual(this.init, this.clock), since: this.clock.monotonic(), reason })
      else if (r && r.state === 'dead' && reason === 'left') { r.state = 'left'; r.reason = 'left' }
      return
    }
    r.state = reason === 'left' ? 'left' : 'dead'
    r.reason = reason
    r.since = this.clock.monotonic()
    for (const fn of this.down) call(() => fn(peer, reason))
  }
}

// a throwing listener must not stop the others nor the detector; listeners report their own errors
function call (fn: () => void): void {
  try { fn() } catch {}
}
