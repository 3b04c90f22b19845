// Restart policy decisions of the process runtime (pure): whether an exited workload restarts and
// after how long, with Docker's semantics so both runtimes behave alike.
import { nextBackoffMs } from '../kit/backoff.js'
import type { RestartPolicy } from './runtime.js'
import { RESTART_BACKOFF_INITIAL_MS, RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_RESET_MS } from './defaults.js'

export interface ExitFacts {
  /** Exit code, 128+signal when killed; null when unknown (it exited while no supervisor watched it). */
  exitCode: number | null
  /** It exited because `stop` was called. */
  stoppedByUser: boolean
  /** Restarts already made since the last explicit start. */
  restartCount: number
}

/**
 * Docker's rules: `no` never; `always` and `unless-stopped` unless stopped by the user; `on-failure`
 * on a non-zero exit while restarts remain. An unknown exit code counts as a failure: a service
 * that crashed unseen is worse off down than one that exited cleanly is for running again.
 */
export function shouldRestart (policy: RestartPolicy, exit: ExitFacts): boolean {
  if (exit.stoppedByUser) return false
  switch (policy.name) {
    case 'no': return false
    case 'always':
    case 'unless-stopped': return true
    case 'on-failure':
      if (exit.exitCode === 0) return false
      return policy.maxRetries === undefined || exit.restartCount < policy.maxRetries
  }
}

export interface Backoff {
  initialMs: number
  maxMs: number
  /** A run at least this long resets the delay to `initialMs`. */
  resetAfterMs: number
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: RESTART_BACKOFF_INITIAL_MS, maxMs: RESTART_BACKOFF_MAX_MS, resetAfterMs: RESTART_BACKOFF_RESET_MS }

/** Delay before the next restart, given the previous delay (0 = none yet) and how long the last run lasted. */
export function nextDelay (previousMs: number, ranMs: number, b: Backoff = DEFAULT_BACKOFF): number {
  return nextBackoffMs({ initialMs: b.initialMs, factor: 2, maxMs: b.maxMs }, ranMs >= b.resetAfterMs ? 0 : previousMs)
}
