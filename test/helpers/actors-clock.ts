// A scheduler for tests: time moves only when the test calls advance(), firing due timers in order.
import type { Scheduler, Timer } from '../../actors/kit/clock.js'

interface Entry { at: number, seq: number, fn: () => void, live: boolean }

export class ManualScheduler implements Scheduler {
  private t: number
  private seq = 0
  private entries: Entry[] = []

  constructor (start = 1_000_000) {
    this.t = start
  }

  now = (): number => this.t

  monotonic = (): number => this.t

  setTimeout = (fn: () => void, ms: number): Timer => {
    const e: Entry = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, live: true }
    this.entries.push(e)
    return { cancel: () => { e.live = false } }
  }

  /** Moves time forward by `ms`, running every timer that falls due, earliest first. */
  advance (ms: number): void {
    const target = this.t + ms
    for (;;) {
      this.entries = this.entries.filter(e => e.live)
      const due = this.entries.filter(e => e.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (!due) break
      due.live = false
      this.t = due.at
      due.fn()
    }
    this.t = target
  }

  /** Live timers, with their delay from now. */
  timers (): number[] {
    return this.entries.filter(e => e.live).map(e => e.at - this.t).sort((a, b) => a - b)
  }
}
