// Who probes whom: a Rapid-style monitoring overlay of K hash rings over the member ids. In each
// ring a peer probes its predecessor (its "subject") and is probed by its successor (its
// "observer"), skipping members it believes gone. Every peer computes the same rings from the same
// ids, so each member has ~K observers that together probe it about once per period, as in SWIM's
// round-robin over all members, but each peer talks to ~2K others instead of all N: the probe
// connections stay few and stable (a fresh libp2p connection costs ~3 KB of handshakes, more than
// a peer's whole idle budget). The union of K random rings is an expander, so gossip over it
// reaches N members in O(log N) rounds. Pure; one instance may be shared by many simulated peers.

/** Ids a peer should not probe nor count as neighbours (dead or left in its own view). */
export type Gone = (id: string) => boolean

export class RingTopology {
  private readonly rings: string[][] = []
  private readonly positions: Array<Map<string, number>> = []
  readonly ids: ReadonlySet<string>

  /** `ids`: every member, this peer included. `k`: number of rings. */
  constructor (ids: Iterable<string>, k: number) {
    const all = [...new Set(ids)]
    this.ids = new Set(all)
    for (let r = 0; r < k; r++) {
      const keyed = all.map(id => ({ id, h: ringHash(r, id) }))
      keyed.sort((a, b) => a.h - b.h || (a.id < b.id ? -1 : 1))
      const ring = keyed.map(x => x.id)
      this.rings.push(ring)
      this.positions.push(new Map(ring.map((id, i) => [id, i])))
    }
  }

  /** Number of members (this peer included). */
  get size (): number { return this.ids.size }

  /** The members `self` probes: its nearest non-gone predecessor in each ring (distinct). */
  subjects (self: string, gone: Gone): string[] { return this.walk(self, gone, -1) }

  /** The members that probe `self`: its nearest non-gone successor in each ring. */
  observers (self: string, gone: Gone): string[] { return this.walk(self, gone, 1) }

  /** Subjects and observers: the peers `self` talks to when idle, and gossips to. */
  neighbours (self: string, gone: Gone): string[] {
    return [...new Set([...this.subjects(self, gone), ...this.observers(self, gone)])]
  }

  private walk (self: string, gone: Gone, step: 1 | -1): string[] {
    const out = new Set<string>()
    for (let r = 0; r < this.rings.length; r++) {
      const ring = this.rings[r]!
      const at = this.positions[r]!.get(self)
      if (at === undefined) continue
      const n = ring.length
      for (let i = 1; i < n; i++) {
        const id = ring[(((at + step * i) % n) + n) % n]!
        if (!gone(id)) { out.add(id); break }
      }
    }
    return [...out]
  }
}

/** FNV-1a of `ring:id`, then a murmur finalizer: stable across peers and versions, well spread. */
export function ringHash (ring: number, id: string): number {
  let h = 0x811c9dc5 ^ ring
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
