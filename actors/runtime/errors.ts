// Typed errors of the runtimes: callers branch on `code`, operators read the message.

export type RuntimeErrorCode =
  | 'not-found'
  | 'name-conflict'
  | 'is-running'
  | 'not-running'
  | 'image-not-found'
  | 'registry-unreachable'
  | 'start-failed'
  | 'invalid-spec'
  | 'engine-unreachable'
  | 'state-locked'
  | 'closed'
  | 'engine-error'
  | 'bad-network'

/** Base class: every runtime failure names the runtime and the container it concerns. */
export class RuntimeError extends Error {
  override name = 'RuntimeError'
  readonly code: RuntimeErrorCode
  /** Container id or name the failure is about, when there is one. */
  readonly container: string | undefined

  constructor (code: RuntimeErrorCode, message: string, opts: { container?: string, cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.code = code
    this.container = opts.container
  }
}

export class ContainerNotFoundError extends RuntimeError {
  override name = 'ContainerNotFoundError'
  constructor (runtime: string, ref: string, cause?: unknown) {
    super('not-found', `${runtime}: no container ${ref}`, { container: ref, cause })
  }
}

export class NameConflictError extends RuntimeError {
  override name = 'NameConflictError'
  constructor (runtime: string, name: string, cause?: unknown) {
    super('name-conflict', `${runtime}: cannot create container ${name}: the name is already in use`, { container: name, cause })
  }
}

export class ContainerRunningError extends RuntimeError {
  override name = 'ContainerRunningError'
  constructor (runtime: string, ref: string, what: string, cause?: unknown) {
    super('is-running', `${runtime}: cannot ${what} container ${ref}: it is running (stop it first or use force)`, { container: ref, cause })
  }
}

export class ContainerNotRunningError extends RuntimeError {
  override name = 'ContainerNotRunningError'
  constructor (runtime: string, ref: string, what: string, cause?: unknown) {
    super('not-running', `${runtime}: cannot ${what} in container ${ref}: it is not running`, { container: ref, cause })
  }
}

export class ImageNotFoundError extends RuntimeError {
  override name = 'ImageNotFoundError'
  readonly image: string
  constructor (runtime: string, image: string, detail: string, opts: { container?: string, cause?: unknown } = {}) {
    super('image-not-found', `${runtime}: image ${image} not found${opts.container ? ` for container ${opts.container}` : ''}: ${detail}`, opts)
    this.image = image
  }
}

export class RegistryUnreachableError extends RuntimeError {
  override name = 'RegistryUnreachableError'
  readonly image: string
  constructor (runtime: string, image: string, detail: string, cause?: unknown) {
    super('registry-unreachable', `${runtime}: cannot pull image ${image}: its registry cannot be reached (${detail})`, { cause })
    this.image = image
  }
}

export class StartFailedError extends RuntimeError {
  override name = 'StartFailedError'
  constructor (runtime: string, ref: string, detail: string, cause?: unknown) {
    super('start-failed', `${runtime}: failed to start container ${ref}: ${detail}`, { container: ref, cause })
  }
}

/** A container spec (or a MonkScript container field) that cannot be turned into a container. */
export class InvalidSpecError extends RuntimeError {
  override name = 'InvalidSpecError'
  /** Field path as the template spells it, e.g. `ports[1]`. */
  readonly field: string
  constructor (field: string, detail: string, opts: { container?: string, cause?: unknown } = {}) {
    super('invalid-spec', `invalid container field ${field}${opts.container ? ` of ${opts.container}` : ''}: ${detail}`, opts)
    this.field = field
  }
}

export class EngineUnreachableError extends RuntimeError {
  override name = 'EngineUnreachableError'
  constructor (endpoint: string, detail: string, cause?: unknown) {
    super('engine-unreachable', `no container engine answers on ${endpoint}: ${detail}`, { cause })
  }
}

/** Another live runtime object (this process or another) supervises the same process-runtime state. */
export class StateLockedError extends RuntimeError {
  override name = 'StateLockedError'
  constructor (stateDir: string, holder: number) {
    super('state-locked', `process runtime state ${stateDir} is in use by pid ${holder}${holder === process.pid ? ' (another runtime object in this process: close it first)' : ''}`)
  }
}

/** A method was called on a runtime object after close(). */
export class RuntimeClosedError extends RuntimeError {
  override name = 'RuntimeClosedError'
  constructor (runtime: string, what: string) {
    super('closed', `${runtime}: cannot ${what}: this runtime object was closed (open a new one)`)
  }
}
