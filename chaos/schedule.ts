// The fault schedule of a chaos run, computed from the seed alone before the run starts: the same
// seed, peer count and rounds give the same schedule (scheduleHash proves it), whatever the
// cluster does meanwhile.
import { createHash } from 'node:crypto'
import { Rng } from './random.js'

export const FAULT_KINDS = ['kill', 'pause', 'partition', 'restart', 'skew', 'disk'] as const
export type FaultKind = typeof FAULT_KINDS[number]

export type FaultPlan =
  /** SIGKILL, stay down `holdMs`, start again from the same home. */
  | { kind: 'kill', peer: number, holdMs: number }
  /** SIGSTOP for `holdMs`, then SIGCONT. */
  | { kind: 'pause', peer: number, holdMs: number }
  /** Two sides that cannot reach each other for `holdMs`. */
  | { kind: 'partition', sides: [number[], number[]], holdMs: number }
  /** SIGTERM (a clean leave; away for `holdMs`) or SIGKILL (started again at once), then a start from the same home. */
  | { kind: 'restart', peer: number, signal: 'SIGTERM' | 'SIGKILL', holdMs: number }
  /** The peer's wall clock off by `offsetMs` for `holdMs`. */
  | { kind: 'skew', peer: number, offsetMs: number, holdMs: number }
  /** The peer's home (a small tmpfs) full for `holdMs`. */
  | { kind: 'disk', peer: number, holdMs: number }

export interface RoundPlan {
  index: number
  fault: FaultPlan
  /** Client operations issued while the fault holds. */
  ops: number
}

export interface ScheduleOptions {
  seed: number
  peers: number
  rounds: number
  /** Kinds to draw from (default all). */
  kinds?: readonly FaultKind[]
  /** Hold times are drawn in [holdMs/2, holdMs*1.5]. */
  holdMs?: number
  /** Largest |clock offset| of a skew fault. */
  maxSkewMs?: number
  /** Operations per round, drawn in [1, opsPerRound*2-1]. */
  opsPerRound?: number
}

export function schedule (o: ScheduleOptions): RoundPlan[] {
  if (o.peers < 2) throw new Error('a chaos run needs at least 2 peers')
  const kinds = o.kinds ?? FAULT_KINDS
  const hold = o.holdMs ?? 3000
  const maxSkew = o.maxSkewMs ?? 20_000
  const perRound = o.opsPerRound ?? 3
  const rng = new Rng(o.seed, 'faults')
  const out: RoundPlan[] = []
  // Kinds come in shuffled blocks of every kind, so a short run still sees each one.
  let block: FaultKind[] = []
  for (let index = 0; index < o.rounds; index++) {
    if (block.length === 0) block = rng.shuffle(kinds)
    const kind = block.shift() as FaultKind
    const holdMs = rng.int(Math.round(hold / 2), Math.round(hold * 1.5))
    const peer = rng.int(0, o.peers - 1)
    let fault: FaultPlan
    switch (kind) {
      case 'kill': fault = { kind, peer, holdMs }; break
      case 'pause': fault = { kind, peer, holdMs }; break
      case 'restart': fault = { kind, peer, signal: rng.chance(0.5) ? 'SIGTERM' : 'SIGKILL', holdMs }; break
      case 'skew': fault = { kind, peer, offsetMs: (rng.chance(0.5) ? 1 : -1) * rng.int(Math.round(maxSkew / 10), maxSkew), holdMs }; break
      case 'disk': fault = { kind, peer, holdMs }; break
      case 'partition': {
        const order = rng.shuffle([...Array(o.peers).keys()])
        const cut = rng.int(1, o.peers - 1)
        fault = { kind, sides: [order.slice(0, cut).sort(), order.slice(cut).sort()], holdMs }
        break
      }
    }
    out.push({ index, fault, ops: rng.int(1, Math.max(1, perRound * 2 - 1)) })
  }
  return out
}

/** sha256 of the schedule: equal hashes, equal schedules. */
export function scheduleHash (plans: readonly RoundPlan[]): string {
  return createHash('sha256').update(JSON.stringify(plans)).digest('hex').slice(0, 16)
}
