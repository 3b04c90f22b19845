// φ-accrual failure detector (Hayashibara et al.): turns heartbeat inter-arrival times into a
// suspicion level φ = -log10(P(a heartbeat arrives later than now)). Time comes from the Clock.
import type { Clock } from './clock.js'

export interface PhiAccrualInit {
  /** Inter-arrival samples kept (sliding window). */
  window: number
  /** Floor of the standard deviation, ms. */
  minStdDevMs: number
  /** Extra pause added to the mean that is still considered normal, ms. */
  acceptablePauseMs: number
  /** Expected heartbeat interval, used until real samples exist. */
  expectedIntervalMs: number
}

export class PhiAccrual {
  private readonly init: PhiAccrualInit
  private readonly clock: Clock
  private readonly samples: number[] = []
  private next = 0
  private sum = 0
  private sumSq = 0
  private lastAt: number | undefined

  constructor (init: PhiAccrualInit, clock: Clock) {
    this.init = init
    this.clock = clock
    // seed with the expected interval so φ is meaningful after the very first heartbeat
    const e = init.expectedIntervalMs
    this.add(e - e / 4)
    this.add(e + e / 4)
  }

  /** Records a heartbeat arrival now. */
  heartbeat (): void {
    const now = this.clock.monotonic()
    if (this.lastAt !== undefined) this.add(now - this.lastAt)
    this.lastAt = now
  }

  /** Monotonic time of the last heartbeat, undefined before the first. */
  get last (): number | undefined { return this.lastAt }

  /** Current suspicion; 0 before the first heartbeat. */
  phi (): number {
    if (this.lastAt === undefined) return 0
    const elapsed = this.clock.monotonic() - this.lastAt
    const n = this.samples.length
    const mean = this.sum / n
    const variance = Math.max(0, this.sumSq / n - mean * mean)
    const std = Math.max(Math.sqrt(variance), this.init.minStdDevMs)
    return phiOf(elapsed, mean + this.init.acceptablePauseMs, std)
  }

  private add (interval: number): void {
    if (this.samples.length < this.init.window) {
      this.samples.push(interval)
    } else {
      const old = this.samples[this.next]!
      this.sum -= old
      this.sumSq -= old * old
      this.samples[this.next] = interval
      this.next = (this.next + 1) % this.init.window
    }
    this.sum += interval
    this.sumSq += interval * interval
  }
}

/**
 * φ for `elapsed` ms of silence given a normal distribution of intervals, using the logistic
 * approximation of the normal CDF (error < 1.4e-4), computed so that large φ do not lose precision.
 */
export function phiOf (elapsed: number, mean: number, std: number): number {
  const y = (elapsed - mean) / std
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y))
  // P(later) = e / (1 + e) when elapsed > mean, else 1 - 1 / (1 + e)
  return elapsed > mean ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e))
}
