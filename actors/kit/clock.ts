// Time as a dependency: actors, backoff and ask timeouts read the clock and set timers through
// this interface, so tests can drive time by hand instead of sleeping. It is mesh's one `Clock`
// (now, monotonic) plus timers; whatever takes a Scheduler can hand it to mesh as its Clock.
import type { Clock } from '../../mesh/clock.js'

/** A pending timer; cancelling an already fired or cancelled timer does nothing. */
export interface Timer {
  cancel: () => void
}

/** The clock with timers: `now` and `monotonic` from mesh's Clock, and `setTimeout`. */
export interface Scheduler extends Clock {
  /** Calls `fn` once, `ms` milliseconds from now. */
  setTimeout: (fn: () => void, ms: number) => Timer
}

/** The real scheduler: Date.now, performance.now and the Node timer queue. */
export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    return { cancel: () => clearTimeout(t) }
  },
}
