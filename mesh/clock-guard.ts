// Start-up check of the persisted clock (DESIGN §3, mesh README "Clock"): a high-water mark or
// entries far ahead of this machine's clock come from a boot with a wrong clock. Adopting them
// would stamp every new write in the future, which every other peer refuses (skew), so the peer
// would never sync again. Instead the mark is not adopted (reported loudly), this peer's own
// future entries are written again with the current time (their values kept, so no acknowledged
// write is lost), and other peers' future entries are dropped (peers resync what they still hold).
import type { Entry } from './entry.js'
import type { HighWater } from './hlc.js'

export interface ClockGuard {
  /** Entries to load as they are. */
  kept: Entry[]
  /** This peer's entries stamped in the future: to be written again with a current HLC. */
  restamp: Entry[]
  /** Other peers' entries stamped in the future: to be removed from the store. */
  dropped: Entry[]
  /** Whether the persisted high-water mark may be restored. */
  adoptHighWater: boolean
  /** What was wrong, for the log; undefined when nothing was. */
  warning: string | undefined
}

/** Splits what the store holds by whether it is more than `boundMs` ahead of `now` (wall ms). */
export function guardClock (entries: readonly Entry[], hw: HighWater | undefined, self: string, now: number, boundMs: number): ClockGuard {
  const limit = now + boundMs
  const kept: Entry[] = []
  const restamp: Entry[] = []
  const dropped: Entry[] = []
  for (const e of entries) {
    if (e.hlc.wall <= limit) kept.push(e)
    else if (e.hlc.peer === self) restamp.push(e)
    else dropped.push(e)
  }
  const adoptHighWater = hw === undefined || hw.wall <= limit
  if (adoptHighWater && restamp.length === 0 && dropped.length === 0) return { kept, restamp, dropped, adoptHighWater, warning: undefined }
  const ahead = Math.max(hw?.wall ?? 0, ...restamp.map(e => e.hlc.wall), ...dropped.map(e => e.hlc.wall)) - now
  const warning = `the stored clock of this peer is ${describe(ahead)} ahead of this machine's clock (${new Date(now).toISOString()}): ` +
    'a previous start ran with a wrong clock. Not adopting it; ' +
    `${restamp.length} entr${restamp.length === 1 ? 'y' : 'ies'} written then ${restamp.length === 1 ? 'is' : 'are'} written again with the current time, ` +
    `${dropped.length} received from other peers ${dropped.length === 1 ? 'is' : 'are'} dropped and resynced. Check this machine's time source (NTP).`
  return { kept, restamp, dropped, adoptHighWater, warning }
}

function describe (ms: number): string {
  const days = ms / 86_400_000
  if (days >= 2) return `${Math.round(days)} days`
  const hours = ms / 3_600_000
  if (hours >= 2) return `${Math.round(hours)} hours`
  return `${Math.round(ms / 1000)} s`
}
