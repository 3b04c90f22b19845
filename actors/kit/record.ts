// The kit's own book-keeping of the actor tree. nact 7.6.2 does not stop children when a parent
// or the system stops (its stop() looks up concrete actors as if they were refs, finds nothing,
// and leaves them unreachable but alive), so the kit stops subtrees itself, deepest first.
import { stop as nactStop, type Ref } from 'nact'
import { ActorStoppedError } from '../errors.js'
import type { Timer } from './clock.js'
import type { PendingRequest } from './system.js'

/** @internal One actor as the kit tracks it. */
export interface ActorRecord {
  readonly path: string
  readonly nact: Ref<unknown>
  stopped: boolean
  /** Correlation ids of asks waiting on this actor. */
  readonly asks: Set<number>
  /** Scheduled messages and backoff sleeps, cancelled when the actor stops. */
  readonly timers: Set<Timer>
  readonly children: Set<ActorRecord>
  readonly parent: { readonly children: Set<ActorRecord> }
}

/**
 * Marks the actor stopped: cancels its timers and fails the asks waiting on it with
 * ActorStoppedError. Idempotent; does not touch nact.
 */
export function markStopped (record: ActorRecord, pending: Map<number, PendingRequest>): void {
  if (!record.stopped) {
    record.stopped = true
    record.parent.children.delete(record)
  }
  for (const t of record.timers) t.cancel()
  record.timers.clear()
  for (const id of [...record.asks]) {
    const p = pending.get(id)
    if (p === undefined) continue
    pending.delete(id)
    p.reject(new ActorStoppedError(record.path, 'answer: it stopped before replying'))
  }
  record.asks.clear()
}

/** Stops the children of `record` (deepest first), and the record itself unless `childrenOnly`. */
export function stopTree (record: ActorRecord, pending: Map<number, PendingRequest>, childrenOnly = false): void {
  for (const child of [...record.children]) stopTree(child, pending)
  if (childrenOnly) return
  markStopped(record, pending)
  nactStop(record.nact)
}
