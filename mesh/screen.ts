// What an anti-entropy exchange may apply (mesh README, "Sync and trust"). Sync relays entries
// written by third parties, so unlike gossip the writer of an entry is not the authenticated
// sender. Each entry is checked on its own and a refused one is counted and dropped (the rest of
// the exchange goes on: one bad entry must not stop repair for good):
//  - owner rule: an owned key (`peer/<id>`, `claim/…/<id>`, `status/…/<id>`) must be written by <id>;
//  - clock: no HLC more than maxClockSkewMs ahead of this peer's clock;
//  - this peer's own writes: a peer holds everything it wrote, or something newer; an entry in its
//    name that would change its replica is forged. It is refused and reported so the mesh writes
//    its true value again with a newer HLC (the owner heals what others accepted). Off after a
//    repair dropped entries (the replica may then lack own writes);
//  - stale replicas: an entry no newer than this peer's purge horizon (the newest tombstone it
//    purged by TTL without every peer's acknowledgement), for a key this peer does not hold, may
//    be a key deleted and purged here: it is refused and reported so the mesh writes a tombstone
//    just above it, which removes it from the stale replica too. The sender's own writes to its
//    own keys are exempt (nobody else can have deleted them).
//  - signature: an entry that would change this replica must carry its writer's valid signature
//    (signing.ts), so a third party cannot relay a write its writer never made;
//  - role: the writer's role in this replica allows the key (roles.ts); entries of a writer not
//    admitted yet are held until its admission arrives.
import { countRejection, type MeshCounters } from './counters.js'
import { DecodeError } from './errors.js'
import { wins, type Entry } from './entry.js'
import type { HlcClock } from './hlc.js'
import { mayWrite, ownerOf } from './keys.js'
import type { Replica } from './replica.js'
import type { Roles } from './roles.js'
import type { EntryVerifier } from './signing.js'

export interface ScreenInit {
  self: string
  hlc: HlcClock
  replica: Replica
  counters: MeshCounters
  verifier: EntryVerifier
  roles: Roles
  /** Wall ms of the newest tombstone purged here by TTL without every peer's acknowledgement (0: none). */
  horizon: () => number
  /** Whether this peer's replica holds all its own writes (false after a repair dropped entries). */
  checkOwnWrites: boolean
  /** True for a tombstone this peer purged lately: it is dropped quietly (the sender purges it soon). */
  purgedLately: (entry: Entry) => boolean
  /** Entries forged in this peer's name: the mesh re-asserts its own values. */
  onForged: (entries: Entry[]) => void
  /** Entries older than the purge horizon for keys this peer lacks: the mesh tombstones them. */
  onStale: (entries: Entry[]) => void
}

/** The entries of `received` (from sync partner `peer`, decoded) that may be merged. */
export function screenSynced (received: readonly Entry[], peer: string, init: ScreenInit): Entry[] {
  const { self, hlc, replica, counters } = init
  const horizon = init.horizon()
  const kept: Entry[] = []
  const forged: Entry[] = []
  const stale: Entry[] = []
  for (const e of received) {
    if (!mayWrite(e.key, e.hlc.peer)) { counters.rejectedOwner++; continue }
    if (replica.entry(e.key) === undefined && init.purgedLately(e)) continue
    try {
      hlc.checkSkew(e.hlc)
    } catch (err) {
      if (err instanceof DecodeError) { countRejection(counters, err.reason); continue }
      throw err
    }
    // this peer holds everything it wrote (or something newer): an entry in its name that would
    // change its replica was never written by it
    if (init.checkOwnWrites && e.hlc.peer === self && peer !== self && wins(e, replica.entry(e.key))) {
      counters.rejectedOwner++
      forged.push(e)
      continue
    }
    // older or equal versions are dropped by LWW anyway (a replay changes nothing): only an entry
    // that would win needs its signature checked
    if (wins(e, replica.entry(e.key)) && !init.verifier.verify(e)) { counters.rejectedSignature++; continue }
    if (horizon > 0 && e.hlc.wall <= horizon && replica.entry(e.key) === undefined && !(e.hlc.peer === peer && ownerOf(e.key) === peer)) {
      counters.rejectedStale++
      stale.push(e)
      continue
    }
    kept.push(e)
  }
  if (forged.length) init.onForged(forged)
  if (stale.length) init.onStale(stale)
  const { allowed, refused } = init.roles.screen(kept)
  counters.rejectedRole += refused
  return allowed
}
