// The runnable actor's one error kind, with a stable `code` the control API and tests match on.

export class RunnableError extends Error {
  override readonly name = 'RunnableError'
  constructor (readonly code: string, message: string, options?: { cause?: unknown }) { super(message, options) }
}
