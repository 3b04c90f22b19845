// Defaults of the entity sandbox and actor, each with the reason for its value.

/** Guest heap per invocation: entity code builds JSON requests and parses answers, a few MB at most; 64 MiB leaves room without letting one entity starve the daemon. */
export const MEMORY_LIMIT_BYTES = 64 * 1024 * 1024

/** Guest stack: deep enough for real JSON and recursion, small enough to fail fast on runaway recursion. */
export const STACK_LIMIT_BYTES = 1024 * 1024

/** CPU time the guest may spend computing per invocation (time spent waiting on host calls does not count): lifecycle code is glue, seconds of pure compute means a loop that never ends. */
export const CPU_DEADLINE_MS = 5_000

/** Wall-clock cap on one invocation, host calls included: a lifecycle that polls a cloud API for long should use readiness checks instead. */
export const WALL_DEADLINE_MS = 10 * 60_000

/** `http` requests without a timeout: long enough for slow cloud APIs. */
export const HTTP_TIMEOUT_MS = 30_000

/** A `timeout` option at or below this is read as seconds (the docs say seconds, the type declarations say ms). */
export const HTTP_TIMEOUT_SECONDS_MAX = 600

/** Largest HTTP response body handed to the guest: bigger answers are cut and marked in `error`. */
export const HTTP_BODY_MAX_BYTES = 16 * 1024 * 1024

/** Lines of `cli.output`/`console` kept per invocation: enough for any honest report, bounded against a loop. */
export const OUTPUT_MAX_LINES = 1_000
