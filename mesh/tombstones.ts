// Safe purge of tombstones (DESIGN §3, mesh README "Tombstones"): a tombstone is forgotten only
// once every peer that counts (every peer ever known, left and dead ones included) has completed an
// anti-entropy exchange that started after the tombstone was applied here (so that peer holds it
// or something newer), or once it is older than the hard TTL.
import type { Clock } from './clock.js'
import type { Entry } from './entry.js'
import { compareHlc } from './hlc.js'
import type { Replica } from './replica.js'

export interface TombstoneInit {
  replica: Replica
  clock: Clock
  /** Peers whose acknowledgement is required: every peer ever known (dead and left ones included). */
  requiredPeers: () => string[]
  /** Keep every tombstone at least this long (ms). */
  minAgeMs: number
  /** Purge regardless of acknowledgements after this long (ms). */
  ttlMs: number
}

export class TombstoneCollector {
  private readonly init: TombstoneInit
  /** Per peer: monotonic ms at which an exchange it completed with us began. */
  private readonly acks = new Map<string, number>()
  /** Tombstones purged here lately (key → HLC wall/counter/writer, monotonic ms of the purge). */
  private readonly purged = new Map<string, { entry: Entry; at: number }>()

  constructor (init: TombstoneInit) {
    this.init = init
  }

  /** Records that `peer` holds everything this replica held at monotonic time `since`. */
  ack (peer: string, since: number): void {
    if ((this.acks.get(peer) ?? -Infinity) < since) this.acks.set(peer, since)
  }

  /**
   * Remembers purged tombstones for `keepMs`: a peer that has not purged its copy yet would
   * otherwise send it back at the next exchange, and the two would trade it forever.
   */
  removed (entries: readonly Entry[], keepMs: number): void {
    const now = this.init.clock.monotonic()
    for (const [key, p] of this.purged) if (now - p.at > keepMs) this.purged.delete(key)
    for (const e of entries) this.purged.set(e.key, { entry: e, at: now })
  }

  /** True when `entry` is a tombstone this peer purged lately (the same delete, not a newer one). */
  purgedLately (entry: Entry): boolean {
    const p = this.purged.get(entry.key)
    return entry.value === undefined && p !== undefined && compareHlc(p.entry.hlc, entry.hlc) === 0
  }

  /**
   * The peers of `candidates` (live, reachable) whose acknowledgement holds back the purge of a
   * tombstone old enough to go. The mesh syncs with one of them at once: left to random anti-entropy
   * partners, a peer needs ~N·ln N rounds to hear from all N others, so a peer that came back (or
   * healed) kept tombstones the others had purged, and the replicas differed, for minutes.
   */
  laggards (candidates: Iterable<string>): string[] {
    const now = this.init.clock.monotonic()
    let newest = -Infinity
    for (const { appliedAt } of this.init.replica.tombstones()) {
      const age = now - appliedAt
      if (age >= this.init.minAgeMs && age < this.init.ttlMs) newest = Math.max(newest, appliedAt)
    }
    if (newest === -Infinity) return []
    const required = new Set(this.init.requiredPeers())
    return [...candidates].filter(p => required.has(p) && (this.acks.get(p) ?? -Infinity) <= newest)
  }

  /** Tombstones that may be purged now. Pure with respect to the replica: does not remove them. */
  purgeable (): Entry[] { return this.select().entries }

  /**
   * Tombstones that may be purged now, and `horizon`: the greatest HLC wall among those purged by
   * TTL while some required peer had not acknowledged them (0 if none). A peer that missed them
   * may come back holding the deleted keys; the mesh refuses such keys from sync (screen.ts).
   * Pure with respect to the replica: does not remove them.
   */
  select (): { entries: Entry[]; horizon: number } {
    const now = this.init.clock.monotonic()
    const required = this.init.requiredPeers()
    // the oldest acknowledgement among required peers bounds what all of them hold
    let acked = Infinity
    for (const p of required) acked = Math.min(acked, this.acks.get(p) ?? -Infinity)
    const entries: Entry[] = []
    let horizon = 0
    for (const { entry, appliedAt } of this.init.replica.tombstones()) {
      const age = now - appliedAt
      if (age >= this.init.minAgeMs && appliedAt < acked) entries.push(entry)
      else if (age >= this.init.ttlMs) {
        entries.push(entry)
        horizon = Math.max(horizon, entry.hlc.wall)
      }
    }
    return { entries, horizon }
  }
}
