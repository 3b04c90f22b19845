// One actor system per monkd: a nact system plus what the kit adds around it: the injected logger,
// clock and randomness, the table of pending requests (correlation id → waiting asker) and the
// timers to cancel when the system stops.
import { start, stop as nactStop, type Ref } from 'nact'
import { ActorStoppedError, AskTimeoutError } from '../errors.js'
import { systemScheduler, type Scheduler, type Timer } from './clock.js'
import { Deadlines } from './deadlines.js'
import { silentLogger, type Logger } from './log.js'
import { stopTree, type ActorRecord } from './record.js'

export interface SystemOptions {
  /** Where crashes, restarts and stops are logged (pino-compatible). Default: silent. */
  readonly logger?: Logger
  /** Time source for backoff, ask timeouts and scheduled messages. Default: the real clock. */
  readonly clock?: Scheduler
  /** Uniform in [0, 1), for backoff jitter. Default: Math.random. */
  readonly random?: () => number
}

/** @internal One request waiting for its reply. */
export interface PendingRequest {
  readonly resolve: (reply: unknown) => void
  readonly reject: (error: Error) => void
  /** Asks waiting on the same target actor, so its stop can fail them at once. */
  readonly targetAsks: Set<number>
  /** For the timeout error: target path, message type, timeout. */
  readonly actor: string
  readonly type: string
  readonly timeoutMs: number
}

let systemSeq = 0

export class ActorSystem {
  /** The name given to startSystem (the nact system gets a unique one: several peers may share a process). */
  readonly name: string
  readonly logger: Logger
  readonly clock: Scheduler
  readonly random: () => number
  /** @internal */
  readonly nactRoot: Ref<never>
  /** @internal */
  readonly nactName: string
  /** @internal Correlation ids: per system, increasing, never reused (2^53 asks). */
  lastRequestId = 0
  /** @internal */
  readonly pending = new Map<number, PendingRequest>()
  /** @internal Top-level actors. */
  readonly root: { readonly children: Set<ActorRecord> } = { children: new Set() }
  /** @internal Ask timeouts. */
  readonly deadlines: Deadlines
  /** @internal Backoff sleeps and scheduled messages, cancelled by stop(). */
  readonly timers = new Set<Timer>()
  private stoppedFlag = false

  /** @internal use startSystem() */
  constructor (name: string, options: SystemOptions) {
    this.name = name
    this.logger = options.logger ?? silentLogger
    this.clock = options.clock ?? systemScheduler
    this.random = options.random ?? Math.random
    this.nactName = `${name}.${++systemSeq}`
    this.deadlines = new Deadlines(this.clock, id => {
      const p = this.take(id)
      p?.reject(new AskTimeoutError(p.actor, p.type, p.timeoutMs))
    })
    // nact's typings say start(name?) but only start({ name }) names the system (stack.md §3).
    this.nactRoot = start({ name: this.nactName })
  }

  get stopped (): boolean {
    return this.stoppedFlag
  }

  /** Asks still waiting for a reply (for tests and metrics). */
  get pendingRequests (): number {
    return this.pending.size
  }

  /**
   * Stops every actor, cancels backoff and scheduled timers, and rejects every pending ask with
   * ActorStoppedError. Idempotent.
   */
  stop (): void {
    if (this.stoppedFlag) return
    this.stoppedFlag = true
    for (const child of [...this.root.children]) stopTree(child, this.pending)
    for (const t of [...this.timers]) t.cancel()
    this.timers.clear()
    this.deadlines.clear()
    nactStop(this.nactRoot)
    for (const id of [...this.pending.keys()]) {
      this.take(id)?.reject(new ActorStoppedError(this.name, 'answer: the actor system stopped'))
    }
  }

  /** @internal Removes and returns a pending request, or undefined if it was already settled. */
  take (id: number): PendingRequest | undefined {
    const p = this.pending.get(id)
    if (p === undefined) return undefined
    this.pending.delete(id)
    p.targetAsks.delete(id)
    return p
  }

  /** @internal A timer that stop() cancels. */
  schedule (ms: number, fn: () => void): Timer {
    const timer: Timer = {
      cancel: () => { inner.cancel(); this.timers.delete(timer) },
    }
    const inner = this.clock.setTimeout(() => { this.timers.delete(timer); fn() }, ms)
    this.timers.add(timer)
    return timer
  }
}

/** Starts an actor system. `name` is for logs and paths; it need not be unique in the process. */
export function startSystem (name: string, options: SystemOptions = {}): ActorSystem {
  return new ActorSystem(name, options)
}
