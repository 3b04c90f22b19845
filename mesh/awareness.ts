// Lifeguard's local health awareness: a score that rises when this peer shows signs of being the
// slow one (probes that fail without the helpers' nacks, suspicions about itself, a late event
// loop) and falls with each probe that succeeds. Timeouts and the probe period are multiplied by
// score + 1, so a struggling peer waits longer before it accuses anyone.

export class Awareness {
  private readonly max: number
  private value = 0

  /** `max`: the score stays in [0, max − 1]; timeouts stretch at most `max` times. */
  constructor (max: number) { this.max = max }

  /** Current score. */
  get score (): number { return this.value }

  /** Adds `delta` (may be negative), clamped to [0, max − 1]. */
  apply (delta: number): void {
    this.value = Math.min(this.max - 1, Math.max(0, this.value + delta))
  }

  /** `ms` stretched by the current score. */
  scale (ms: number): number { return ms * (this.value + 1) }
}
