// Message vocabulary of every actor: a discriminated union per actor, with dotted type names
// (`runnable.start` commands in the imperative, `runnable.started` facts in the past tense).
// A request carries `replyTo`, the function its handler calls exactly once with the answer.

/** A dotted message type: `<actor kind>.<verb or fact>`. */
export type MessageType = `${string}.${string}`

/** Every message an actor handles has a dotted `type`. */
export interface Message {
  readonly type: MessageType
}

/**
 * Where a request's answer goes. Call it with the reply, or `fail(error)` to make the asker's
 * promise reject with that error. Returns false when nobody waits any more (timed out, answered
 * already, or the system stopped), so a late answer is simply dropped.
 */
export interface ReplyTo<R> {
  (reply: R): boolean
  fail: (error: Error) => boolean
  /** Correlation id, unique and increasing within one actor system. */
  readonly requestId: number
}

/** A request message: `{ type, replyTo, ...fields }`. */
export type Request<T extends MessageType, R, Fields extends object = object> = { readonly type: T, readonly replyTo: ReplyTo<R> } & Fields

/** The reply type of a request message type. */
export type ReplyOf<M> = M extends { readonly replyTo: ReplyTo<infer R> } ? R : never
