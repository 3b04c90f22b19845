// Seeded pseudo-random numbers for property tests (mulberry32): the same seed gives the same cases.

export interface Rng {
  /** Uniform in [0, 1). */
  next: () => number
  /** Integer in [lo, hi]. */
  int: (lo: number, hi: number) => number
  pick: <T>(list: readonly T[]) => T
  chance: (p: number) => boolean
  shuffle: <T>(list: readonly T[]) => T[]
}

export function rng (seed: number): Rng {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1))
  return {
    next,
    int,
    pick: list => list[int(0, list.length - 1)]!,
    chance: p => next() < p,
    shuffle: list => {
      const out = [...list]
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i)
        const t = out[i]!
        out[i] = out[j]!
        out[j] = t
      }
      return out
    },
  }
}
