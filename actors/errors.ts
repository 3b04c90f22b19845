// Error kinds of the control plane (actors/): one class per kind, each with a stable `code`.
// Tests and the control API match on `code`, never on the message text.

/** A placement input that breaks the contract of `place()` (duplicate keys, bad numbers). */
export class PlacementError extends Error {
  override readonly name = 'PlacementError'
  readonly code = 'placement-input'
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** An `ask` got no reply within its timeout. */
export class AskTimeoutError extends Error {
  override readonly name = 'AskTimeoutError'
  readonly code = 'ask-timeout'
  readonly actor: string
  readonly messageType: string
  readonly timeoutMs: number
  constructor (actor: string, messageType: string, timeoutMs: number) {
    super(`no reply from actor ${actor} to ${messageType} within ${timeoutMs} ms`)
    this.actor = actor
    this.messageType = messageType
    this.timeoutMs = timeoutMs
  }
}

/** The target actor (or its parent, when spawning) is stopped or never existed. */
export class ActorStoppedError extends Error {
  override readonly name = 'ActorStoppedError'
  readonly code = 'actor-stopped'
  readonly actor: string
  constructor (actor: string, what: string, options?: { cause?: unknown }) {
    super(`actor ${actor} is stopped or never existed: cannot ${what}`, options)
    this.actor = actor
  }
}

/** The actor crashed while handling the message this request was waiting on. */
export class ActorCrashedError extends Error {
  override readonly name = 'ActorCrashedError'
  readonly code = 'actor-crashed'
  readonly actor: string
  readonly messageType: string
  constructor (actor: string, messageType: string, options?: { cause?: unknown }) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : ''
    super(`actor ${actor} crashed while handling ${messageType}${why}`, options)
    this.actor = actor
    this.messageType = messageType
  }
}

/** A child actor could not be spawned (a sibling already has that name, or the name is empty). */
export class ActorSpawnError extends Error {
  override readonly name = 'ActorSpawnError'
  readonly code: 'actor-exists' | 'actor-name'
  readonly actor: string
  constructor (code: 'actor-exists' | 'actor-name', actor: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.actor = actor
  }
}
