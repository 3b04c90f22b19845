// Lifeguard's dynamic suspicion timeout (as in memberlist): a suspicion starts with a long timeout
// that shrinks, on a log scale, as independent peers confirm it, down to a floor. Pure: times are
// plain monotonic milliseconds passed in.

export interface SuspicionInit {
  /** Monotonic ms when this peer started suspecting. */
  start: number
  /** Floor of the timeout, reached with `expected` confirmations. */
  minMs: number
  /** Timeout with no confirmation. */
  maxMs: number
  /** Confirmations that bring the timeout down to `minMs` (0: the timeout is `minMs` at once). */
  expected: number
  /** Who raised the suspicion first; never counts as a confirmation. */
  from: string
}

export class Suspicion {
  private readonly init: SuspicionInit
  private readonly confirmers = new Set<string>()
  private due: number

  constructor (init: SuspicionInit) {
    this.init = init
    this.confirmers.add(init.from)
    this.due = init.start + suspicionTimeout(init.minMs, init.maxMs, init.expected, 0)
  }

  /** Independent confirmations so far (the first suspector not counted). */
  get confirmations (): number { return this.confirmers.size - 1 }

  /** Records that `from` also suspects; true when it is a new, independent confirmation. */
  confirm (from: string): boolean {
    if (this.confirmers.has(from)) return false
    this.confirmers.add(from)
    this.due = this.init.start + suspicionTimeout(this.init.minMs, this.init.maxMs, this.init.expected, this.confirmations)
    return true
  }

  /** Monotonic ms at which the suspected peer is declared dead, given the confirmations so far. */
  deadline (): number { return this.due }
}

/** max(min, max − (max − min) · log(c + 1) / log(k + 1)): memberlist's formula. */
export function suspicionTimeout (minMs: number, maxMs: number, expected: number, confirmations: number): number {
  if (expected < 1) return minMs
  const frac = Math.log(confirmations + 1) / Math.log(expected + 1)
  return Math.max(minMs, Math.floor(maxMs - (maxMs - minMs) * frac))
}
