// Request/reply between actors without nact's query(): nact names each query with a 32-bit random
// id, and concurrent ids collide (stack.md §3: 5-7 spurious timeouts per 200,000). Here each ask
// gets the next correlation id of its system and a `replyTo` function that settles exactly that
// entry of the pending table; nothing can collide.
import { dispatch } from 'nact'
import { ASK_TIMEOUT_MS } from '../defaults.js'
import { ActorStoppedError } from '../errors.js'
import { isAlive, type ActorRef } from './actor.js'
import type { Message, ReplyOf, ReplyTo } from './messages.js'
import type { ActorSystem } from './system.js'

/**
 * Sends the request built by `make(replyTo)` and resolves with the reply the handler passes to
 * `replyTo`. Rejects with AskTimeoutError (`ask-timeout`) after `timeoutMs`, with ActorStoppedError
 * (`actor-stopped`) at once if the actor is stopped or stops before replying, with
 * ActorCrashedError (`actor-crashed`) if the handler throws, or with the error given to `replyTo.fail`.
 *
 *     const n = await ask(counter, replyTo => ({ type: 'counter.get', replyTo }), 500)
 */
// `ReplyTo<any>` only constrains M to request messages; with `never` TypeScript stops inferring
// the reply type from the message union.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function ask<Msg extends Message, M extends Msg & { readonly replyTo: ReplyTo<any> }> (
  ref: ActorRef<Msg>,
  make: (replyTo: ReplyTo<ReplyOf<M>>) => M,
  timeoutMs: number = ASK_TIMEOUT_MS
): Promise<ReplyOf<M>> {
  const system = ref.system
  const id = ++system.lastRequestId
  return new Promise<ReplyOf<M>>((resolve, reject) => {
    let msg: M
    try {
      msg = make(replyToFor<ReplyOf<M>>(system, id))
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e)))
      return
    }
    if (!isAlive(ref)) {
      reject(new ActorStoppedError(ref.path, `answer ${msg.type}`))
      return
    }
    const targetAsks = ref.record.asks
    system.pending.set(id, { resolve: resolve as (r: unknown) => void, reject, targetAsks, actor: ref.path, type: msg.type, timeoutMs })
    targetAsks.add(id)
    system.deadlines.add(id, timeoutMs)
    dispatch(ref.nact, msg) // liveness was just checked; tell() would check it again
  })
}

function replyToFor<R> (system: ActorSystem, id: number): ReplyTo<R> {
  const replyTo = (reply: R): boolean => {
    const p = system.take(id)
    p?.resolve(reply)
    return p !== undefined
  }
  replyTo.fail = (error: Error): boolean => {
    const p = system.take(id)
    p?.reject(error)
    return p !== undefined
  }
  replyTo.requestId = id
  return replyTo
}
