// Injected time and randomness: the failure detector, HLC and sync choices read these, so tests
// advance a fake clock instead of sleeping.

/** Source of time. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (HLC physical part). May jump. */
  now(): number
  /** Monotonic milliseconds from an arbitrary origin (intervals, φ). Never goes back. */
  monotonic(): number
}

/** Source of randomness in [0, 1). */
export interface Random {
  next(): number
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
}

export const systemRandom: Random = { next: () => Math.random() }

/** A clock that only moves when told to; for tests. */
export class ManualClock implements Clock {
  private wall: number
  private mono = 0
  constructor (wall = 1_700_000_000_000) { this.wall = wall }
  now (): number { return this.wall }
  monotonic (): number { return this.mono }
  /** Moves both clocks forward by `ms`. */
  advance (ms: number): void { this.wall += ms; this.mono += ms }
  /** Sets the wall clock only (to simulate a jump or skew). */
  setWall (wall: number): void { this.wall = wall }
}

/** Deterministic pseudo-random numbers (mulberry32) for tests and reproducible benchmarks. */
export class SeededRandom implements Random {
  private state: number
  constructor (seed: number) { this.state = seed >>> 0 }
  next (): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Shuffles `xs` in place (Fisher–Yates) with `random`; returns it. */
export function shuffle<T> (xs: T[], random: Random): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1))
    const t = xs[i]!
    xs[i] = xs[j]!
    xs[j] = t
  }
  return xs
}
