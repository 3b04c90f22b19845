// A small seeded PRNG (mulberry32) for the Arrow property tests: same seed, same sequence.

export class Random {
  private s: number
  constructor (seed: number) { this.s = seed >>> 0 }

  /** Uniform in [0, 1). */
  next (): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0
    let t = this.s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Integer in [0, n). */
  int (n: number): number { return Math.floor(this.next() * n) }
  /** True with probability p. */
  chance (p: number): boolean { return this.next() < p }
  pick<T> (xs: readonly T[]): T { return xs[this.int(xs.length)] as T }
}
