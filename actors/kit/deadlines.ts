// Timeouts for many concurrent requests with one clock timer per distinct timeout length, instead
// of one timer per request (200,000 pending asks with their own timers spent more time in the
// garbage collector than in the actors). Entries of one length expire in the order they were added.
import type { Scheduler, Timer } from './clock.js'

interface Bucket {
  ids: number[]
  at: number[]
  head: number
  timer: Timer | undefined
}

export class Deadlines {
  private readonly buckets = new Map<number, Bucket>()

  /** `expire(id)` is called once per id whose deadline passed; it must ignore ids already settled. */
  constructor (private readonly clock: Scheduler, private readonly expire: (id: number) => void) {}

  /**
   * Adds a deadline `timeoutMs` from now. There is no removal: a settled id simply expires as a
   * no-op. If the clock steps backwards, a bucket's later entries wait for its head (by the step).
   */
  add (id: number, timeoutMs: number): void {
    let b = this.buckets.get(timeoutMs)
    if (b === undefined) {
      b = { ids: [], at: [], head: 0, timer: undefined }
      this.buckets.set(timeoutMs, b)
    }
    b.ids.push(id)
    b.at.push(this.clock.now() + timeoutMs)
    if (b.timer === undefined) this.arm(timeoutMs, b)
  }

  /** Cancels every timer; nothing expires afterwards. */
  clear (): void {
    for (const b of this.buckets.values()) b.timer?.cancel()
    this.buckets.clear()
  }

  private arm (timeoutMs: number, b: Bucket): void {
    const wait = Math.max(0, b.at[b.head]! - this.clock.now())
    b.timer = this.clock.setTimeout(() => this.fire(timeoutMs, b), wait)
  }

  private fire (timeoutMs: number, b: Bucket): void {
    b.timer = undefined
    const now = this.clock.now()
    while (b.head < b.ids.length && b.at[b.head]! <= now) {
      const id = b.ids[b.head]!
      b.head++
      this.expire(id)
    }
    if (b.timer !== undefined) return // an expire callback added to this bucket and armed it
    if (b.head === b.ids.length) {
      this.buckets.delete(timeoutMs)
      return
    }
    if (b.head > 1024 && b.head * 2 > b.ids.length) {
      b.ids = b.ids.slice(b.head)
      b.at = b.at.slice(b.head)
      b.head = 0
    }
    this.arm(timeoutMs, b)
  }
}
