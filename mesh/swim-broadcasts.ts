// The queue of membership updates a peer still has to spread, piggybacked on its probes and acks
// and sent in gossip messages while not empty. Each update is sent at most `limit` times
// (λ·log(N+1), SWIM's infection-style dissemination); the least-sent go first; a newer update
// about a peer replaces older ones (except confirmations of a suspicion, which spread side by side).
import type { Update } from './swim-codec.js'

interface Item { update: Update; sent: number; order: number }

export class BroadcastQueue {
  private readonly items = new Map<string, Item>()
  private order = 0

  get size (): number { return this.items.size }

  /** Queues `u`, dropping what it supersedes. */
  enqueue (u: Update): void {
    if (u.kind !== 'suspect') {
      for (const [key, item] of this.items) if (item.update.peer === u.peer) this.items.delete(key)
    }
    const key = u.kind === 'suspect' ? `${u.peer}/${u.from}` : u.peer
    this.items.set(key, { update: u, sent: 0, order: this.order++ })
  }

  /** Up to `max` updates to send now to `copies` peers (least sent first, then newest); each is dropped after `limit` transmissions. */
  take (max: number, limit: number, copies = 1): Update[] {
    if (this.items.size === 0 || max <= 0) return []
    const picked = [...this.items].sort((a, b) => a[1].sent - b[1].sent || b[1].order - a[1].order).slice(0, max)
    const out: Update[] = []
    for (const [key, item] of picked) {
      out.push(item.update)
      if ((item.sent += copies) >= limit) this.items.delete(key)
    }
    return out
  }

  /** Updates queued about `peer` (tests). */
  about (peer: string): Update[] {
    return [...this.items.values()].filter(i => i.update.peer === peer).map(i => i.update)
  }
}
