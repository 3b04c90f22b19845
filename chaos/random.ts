// Seeded randomness for the chaos harness: one seed gives the same schedule every time. Separate
// streams (faults, operations) so that what the cluster does cannot shift the fault schedule.
import { SeededRandom } from '../mesh/clock.js'

/** A seed from the command line: a number, or any text (hashed to 32 bits with FNV-1a). */
export function parseSeed (text: string): number {
  if (/^\d+$/.test(text) && Number(text) <= 0xffffffff) return Number(text)
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0 }
  return h >>> 0
}

export class Rng {
  private readonly r: SeededRandom
  constructor (seed: number, stream: string) {
    this.r = new SeededRandom((seed ^ parseSeed(stream)) >>> 0)
  }

  /** [0, 1) */
  next (): number { return this.r.next() }
  /** An integer in [lo, hi]. */
  int (lo: number, hi: number): number { return lo + Math.floor(this.r.next() * (hi - lo + 1)) }
  pick<T> (items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[Math.floor(this.r.next() * items.length)] as T
  }
  chance (p: number): boolean { return this.r.next() < p }
  shuffle<T> (items: readonly T[]): T[] {
    const a = [...items]
    for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(this.r.next() * (i + 1)); [a[i], a[j]] = [a[j] as T, a[i] as T] }
    return a
  }
}
