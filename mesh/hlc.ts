// Hybrid logical clock (wall ms, counter, peer id): a total order of writes that every peer computes
// the same way; the peer id breaks ties so LWW picks one winner everywhere.
import type { Clock } from './clock.js'
import { DecodeError } from './errors.js'

/** One timestamp. Unique per write: a peer never issues the same (wall, counter) twice. */
export interface Hlc {
  /** Physical part: wall-clock ms of the writer, pushed forward by what it has observed. */
  readonly wall: number
  /** Logical part: orders writes within one wall ms. */
  readonly counter: number
  /** Peer id of the writer. */
  readonly peer: string
}

/** Total order: wall, then counter, then peer id (plain code-unit comparison, locale-independent). */
export function compareHlc (a: Hlc, b: Hlc): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1
  if (a.peer === b.peer) return 0
  return a.peer < b.peer ? -1 : 1
}

/** The (wall, counter) pair a peer must stay above across restarts. */
export interface HighWater { wall: number; counter: number }

/** The clock of one peer. Not shared between peers. */
export class HlcClock {
  private wall = 0
  private counter = 0
  readonly peer: string
  private readonly clock: Clock
  private readonly maxSkewMs: number

  constructor (peer: string, clock: Clock, maxSkewMs: number) {
    this.peer = peer
    this.clock = clock
    this.maxSkewMs = maxSkewMs
  }

  /** A new timestamp, greater than every one issued or observed before. */
  now (): Hlc {
    const physical = this.clock.now()
    if (physical > this.wall) {
      this.wall = physical
      this.counter = 0
    } else {
      this.counter++
    }
    return { wall: this.wall, counter: this.counter, peer: this.peer }
  }

  /**
   * Takes a remote timestamp into account so later local writes order after it. Never throws:
   * received timestamps are checked with checkSkew() before anything of their message is applied.
   */
  observe (remote: Hlc): void {
    if (remote.wall > this.wall || (remote.wall === this.wall && remote.counter > this.counter)) {
      this.wall = remote.wall
      this.counter = remote.counter
    }
  }

  /**
   * Throws DecodeError('skew') if `remote` is further ahead of our wall clock than allowed (one
   * peer with a broken clock must not drag every HLC into the future); the caller drops the message.
   */
  checkSkew (remote: Hlc): void {
    const limit = this.clock.now() + this.maxSkewMs
    if (remote.wall > limit) {
      throw new DecodeError('skew', `HLC of peer ${remote.peer} is ${remote.wall - this.clock.now()} ms ahead of this peer's clock (limit ${this.maxSkewMs} ms)`)
    }
  }

  /** What to persist so a restarted peer never reissues an old timestamp. */
  highWater (): HighWater { return { wall: this.wall, counter: this.counter } }

  /** Restores a persisted high-water mark (only ever moves forward). */
  restore (hw: HighWater): void {
    if (hw.wall > this.wall || (hw.wall === this.wall && hw.counter > this.counter)) {
      this.wall = hw.wall
      this.counter = hw.counter
    }
  }
}
