// Supervision policy: what happens when an actor's handler throws. The default restarts the actor
// (fresh state from its init, children stopped) after an exponential backoff, and the kit logs
// every crash with the reason. Nothing here stops an actor silently (nact's default does).
import { backoffMs } from './backoff.js'
import {
  RESTART_FACTOR, RESTART_INITIAL_DELAY_MS, RESTART_JITTER, RESTART_MAX_DELAY_MS, RESTART_RESET_AFTER_MS,
} from '../defaults.js'

/** `restart`: fresh state after the backoff. `resume`: keep the state, skip the message, after the backoff. `stop`: stop for good (logged as an error). */
export type CrashDecision = 'restart' | 'resume' | 'stop'

export interface CrashInfo<Msg> {
  /** Path of the crashed actor. */
  readonly actor: string
  readonly error: unknown
  /** The message being handled, or undefined if the crash happened while (re)initialising. */
  readonly message: Msg | undefined
  /** Crashes in a row so far, including this one (resets after a quiet period). */
  readonly crashes: number
}

/** Chooses what to do about one crash. Throwing from here counts as `restart`. */
export type OnCrash<Msg> = (info: CrashInfo<Msg>) => CrashDecision

export interface RestartPolicy {
  /** Delay before the first restart. */
  readonly initialDelayMs: number
  /** Multiplier for each further crash in a row. */
  readonly factor: number
  /** Upper bound of the delay. */
  readonly maxDelayMs: number
  /** A crash this long after the previous restart starts the count again. */
  readonly resetAfterMs: number
  /** Random extra fraction of the delay (0.2 = up to +20%); 0 for exact delays in tests. */
  readonly jitter: number
}

export const defaultRestartPolicy: RestartPolicy = {
  initialDelayMs: RESTART_INITIAL_DELAY_MS,
  factor: RESTART_FACTOR,
  maxDelayMs: RESTART_MAX_DELAY_MS,
  resetAfterMs: RESTART_RESET_AFTER_MS,
  jitter: RESTART_JITTER,
}

/** Delay before restart number `crashes` (1 = first crash in a row); `random` in [0, 1). */
export function backoffDelay (policy: RestartPolicy, crashes: number, random: number): number {
  return backoffMs({ initialMs: policy.initialDelayMs, factor: policy.factor, maxMs: policy.maxDelayMs }, crashes, policy.jitter, random)
}

/** Counts crashes in a row for one actor; pure apart from the times it is given. */
export class CrashCounter {
  private crashes = 0
  private restartedAt = Number.NEGATIVE_INFINITY

  constructor (private readonly policy: RestartPolicy) {}

  /** Records a crash at `now`; returns how many in a row and the delay before the restart. */
  crashed (now: number, random: number): { crashes: number, delayMs: number } {
    if (now - this.restartedAt >= this.policy.resetAfterMs) this.crashes = 0
    this.crashes++
    const delayMs = backoffDelay(this.policy, this.crashes, random)
    this.restartedAt = now + delayMs
    return { crashes: this.crashes, delayMs }
  }
}
