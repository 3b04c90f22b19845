// The entity folder's one error kind, with a stable `code` the control API and tests match on.

export type EntityErrorCode =
  | 'entity-timeout' // the guest ran past its CPU deadline
  | 'entity-memory' // the guest ran out of its memory limit
  | 'entity-failed' // the lifecycle threw (an Error or a string)
  | 'entity-no-main' // the script defines no main(definition, state, ctx)
  | 'entity-module' // require() of a module that is neither built in nor loaded
  | 'entity-not-supported' // a host module monk does not offer (cloud/azure)
  | 'entity-no-action' // the type has no lifecycle entry for the action
  | 'entity-webhook' // a webhook lifecycle answered badly
  | 'entity-bad-definition' // the instance does not fill its type's schema
  | 'entity-not-found' // no such entity instance or type

export class EntityError extends Error {
  override readonly name = 'EntityError'
  constructor (readonly code: EntityErrorCode, message: string, options?: { cause?: unknown }) { super(message, options) }
}
