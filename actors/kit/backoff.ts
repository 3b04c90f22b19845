// The one exponential backoff of actors/: actor restarts (supervision.ts), runnable restarts
// (runnable/decide.ts), cloud retries (node.ts) and supervised processes (runtime/restart.ts).

export interface Backoff {
  /** Delay of the first attempt. */
  readonly initialMs: number
  /** Multiplier for each further attempt in a row. */
  readonly factor: number
  /** Upper bound of the delay. */
  readonly maxMs: number
}

/** Delay before attempt number `attempt` (1 = the first retry), with up to `jitter` × `random` extra. */
export function backoffMs (b: Backoff, attempt: number, jitter = 0, random = 0): number {
  const base = Math.min(b.maxMs, b.initialMs * b.factor ** Math.max(0, attempt - 1))
  return Math.round(base * (1 + jitter * random))
}

/** The delay after `previousMs` (0 = none yet): the first one, or the previous grown by the factor. */
export function nextBackoffMs (b: Backoff, previousMs: number): number {
  return previousMs <= 0 ? b.initialMs : Math.min(previousMs * b.factor, b.maxMs)
}
