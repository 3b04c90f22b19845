// Defaults of the control API, each with the reason for its value.

/** Socket file name inside $MONK_HOME. */
export const SOCKET_NAME = 'monkd.sock'

/** Largest request body: `monk load` sends whole kits (YAML plus embedded files); 16 MiB is ample. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024

/** Client timeout for one request: long enough for `monk run` waiting on readiness checks. */
export const REQUEST_TIMEOUT_MS = 120_000

/** Client timeout until a stream's headers arrive; after that a stream may stay quiet for ever. */
export const STREAM_OPEN_TIMEOUT_MS = 10_000

/** How long start-up waits for a connection to an existing socket before calling it stale. */
export const SOCKET_PROBE_TIMEOUT_MS = 1_000

/** Host of the optional TCP listener: loopback only unless the operator says otherwise. */
export const TCP_HOST = '127.0.0.1'

/** On close, how long open streams get to write their last frame before connections are cut. */
export const CLOSE_GRACE_MS = 1_000
