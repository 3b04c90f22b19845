// The membership view the rest of the mesh and the daemon read: who is alive, dead or gone, and
// listeners for changes. Fed by the SWIM machine (swim.ts) through membership.ts; a suspected
// peer still counts as alive here (it may refute), as in memberlist.
import type { DownReason, MemberView, SwimEvent } from './swim.js'

export type { DownReason } from './swim.js'

/** State of a remote peer in this peer's view. */
export type PeerState = 'alive' | 'dead' | 'left'

export interface PeerLiveness {
  id: string
  state: PeerState
  /** Alive but suspected: it has missed probes and will be declared dead unless it refutes. */
  suspect: boolean
  /** Its incarnation as last heard (raised by each refutation and restart). */
  incarnation: number
  /** Monotonic ms of the last state change. */
  since: number
  /** Set when state is dead or left. */
  reason: DownReason | undefined
}

export type UpListener = (peer: string) => void
export type DownListener = (peer: string, reason: DownReason) => void

/** Where the view comes from: the SWIM machine's member list. */
export interface MemberSource { list(): MemberView[]; member(id: string): MemberView | undefined }

export class Liveness {
  private source: MemberSource = { list: () => [], member: () => undefined }
  private readonly up = new Set<UpListener>()
  private readonly down = new Set<DownListener>()

  /** Membership-internal: the machine whose members this view shows. */
  bind (source: MemberSource): void { this.source = source }

  /** Membership-internal: forwards a machine event to the listeners. */
  emit (e: SwimEvent): void {
    if (e.type === 'up') for (const fn of this.up) call(() => fn(e.peer))
    else if (e.type === 'down') for (const fn of this.down) call(() => fn(e.peer, e.reason))
  }

  /** Ids of peers currently alive or suspect (not including this peer), sorted. */
  alive (): string[] {
    return this.list().filter(l => l.state === 'alive').map(l => l.id)
  }

  isAlive (peer: string): boolean { return this.state(peer) === 'alive' }

  /** State of `peer`; undefined while it is only known from its record (not heard yet). */
  state (peer: string): PeerState | undefined {
    const m = this.source.member(peer)
    return m === undefined ? undefined : m.state === 'suspect' ? 'alive' : m.state
  }

  /** Every peer heard of, with its state, sorted by id. */
  list (): PeerLiveness[] {
    return this.source.list().map(m => ({
      id: m.id,
      state: m.state === 'suspect' ? 'alive' as const : m.state,
      suspect: m.state === 'suspect',
      incarnation: m.inc,
      since: m.since,
      reason: m.reason,
    })).sort((a, b) => a.id < b.id ? -1 : 1)
  }

  /** Listener for peers coming up; returns an unsubscribe function. */
  onUp (fn: UpListener): () => void { this.up.add(fn); return () => { this.up.delete(fn) } }

  /** Listener for peers going down; returns an unsubscribe function. */
  onDown (fn: DownListener): () => void { this.down.add(fn); return () => { this.down.delete(fn) } }
}

// a throwing listener must not stop the others nor the protocol; listeners report their own errors
function call (fn: () => void): void {
  try { fn() } catch {}
}
