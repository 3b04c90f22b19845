// Safe purge of tombstones (DESIGN §3, mesh README "Tombstones"): a tombstone is forgotten only
// once every peer that counts (every peer ever known, left and dead ones included) has completed an
// anti-entropy exchange that started after the tombstone was applied here (so that peer holds it
// or something newer), or once it is older than the hard TTL.
import type { Clock } from './clock.js'
import type { Entry } from './entry.js'
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

  constructor (init: TombstoneInit) {
    this.init = init
  }

  /** Records that `peer` holds everything this replica held at monotonic time `since`. */
  ack (peer: string, since: number): void {
    if ((this.acks.get(peer) ?? -Infinity) < since) this.acks.set(peer, since)
  }

  /** Tombstones that may be purged now. Pure with respect to the replica: does not remove them. */
  purgeable (): Entry[] {
    const now = this.init.clock.monotonic()
    const required = this.init.requiredPeers()
    // the oldest acknowledgement among required peers bounds what all of them hold
    let horizon = Infinity
    for (const p of required) horizon = Math.min(horizon, this.acks.get(p) ?? -Infinity)
    const out: Entry[] = []
    for (const { entry, appliedAt } of this.init.replica.tombstones()) {
      const age = now - appliedAt
      if (age >= this.init.ttlMs || (age >= this.init.minAgeMs && appliedAt < horizon)) out.push(entry)
    }
    return out
  }
}
