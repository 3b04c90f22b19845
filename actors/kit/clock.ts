// Time as a dependency: actors, backoff and ask timeouts read the clock and set timers through
// this interface, so tests can drive time by hand instead of sleeping.

/** A pending timer; cancelling an already fired or cancelled timer does nothing. */
export interface Timer {
  cancel: () => void
}

export interface Clock {
  /** Milliseconds on a monotonic-enough wall clock (Date.now() in production). */
  now: () => number
  /** Calls `fn` once, `ms` milliseconds from now. */
  setTimeout: (fn: () => void, ms: number) => Timer
}

/** The real clock: Date.now and the Node timer queue. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    return { cancel: () => clearTimeout(t) }
  },
}
