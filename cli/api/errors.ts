// Error kinds of the control API, shared by the server and the CLI client (so this file imports
// nothing). Each has a stable `code`; the CLI matches on codes, never on messages.

/** The daemon answered with an error body `{error: {code, message, field?}}`. */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError'
  readonly code: string
  readonly status: number
  readonly field: string | undefined
  constructor (code: string, status: number, message: string, field?: string) {
    super(message)
    this.code = code
    this.status = status
    this.field = field
  }
}

/** Nothing listens on the control socket (or the TCP address). */
export class DaemonDownError extends Error {
  override readonly name = 'DaemonDownError'
  readonly code = 'daemon-down'
  readonly address: string
  constructor (address: string, options?: { cause?: unknown }) {
    super('monkd is not running: start it with `monk daemon start`', options)
    this.address = address
  }
}

/** Another daemon already answers on the socket this one wanted. */
export class DaemonRunningError extends Error {
  override readonly name = 'DaemonRunningError'
  readonly code = 'daemon-running'
  readonly address: string
  constructor (address: string, options?: { cause?: unknown }) {
    super(`another monkd is already running on ${address}; stop it first (monk daemon stop)`, options)
    this.address = address
  }
}

/** The control socket path exists but is not a socket, or cannot be used. */
export class SocketPathError extends Error {
  override readonly name = 'SocketPathError'
  readonly code = 'socket-path'
  readonly path: string
  constructor (path: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.path = path
  }
}

/** No (complete) answer within the client's timeout. */
export class ApiTimeoutError extends Error {
  override readonly name = 'ApiTimeoutError'
  readonly code = 'timeout'
  readonly timeoutMs: number
  constructor (what: string, timeoutMs: number) {
    super(`monkd did not answer ${what} within ${timeoutMs} ms`)
    this.timeoutMs = timeoutMs
  }
}

/** The connection failed for another reason than "nobody listens" (permissions, reset...). */
export class ApiConnectionError extends Error {
  override readonly name = 'ApiConnectionError'
  readonly code = 'connection-failed'
  constructor (address: string, options: { cause: unknown }) {
    const why = options.cause instanceof Error ? options.cause.message : String(options.cause)
    super(`cannot talk to monkd at ${address}: ${why}`, options)
  }
}

/** The daemon's answer does not follow the protocol (bad JSON, a stream cut short). */
export class ApiProtocolError extends Error {
  override readonly name = 'ApiProtocolError'
  readonly code: 'bad-response' | 'stream-interrupted'
  constructor (code: 'bad-response' | 'stream-interrupted', message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** Bad server options (e.g. a TCP listener without a token, or on a non-loopback host). */
export class ApiConfigError extends Error {
  override readonly name = 'ApiConfigError'
  readonly code = 'api-config'
}
