// Defaults of the CLI commands, each with the reason for its value.

/** How long run/update/restart wait for instances to run: image pulls on a slow link plus readiness checks. */
export const WAIT_TIMEOUT_S = 300

/** How long stop/purge wait for containers to go: stop grace periods (10 s in Docker) plus slack. */
export const STOP_TIMEOUT_S = 60

/** Poll period while waiting for instances: 4 polls a second is cheap for monkd and feels immediate. */
export const POLL_MS = 250

/** How long `daemon start` waits for a new monkd to answer: start-up opens the store and libp2p (a few seconds on a busy machine). */
export const DAEMON_START_TIMEOUT_MS = 60_000

/** How long `daemon stop` waits for the socket to go: monkd leaves its cluster cleanly first. */
export const DAEMON_STOP_TIMEOUT_MS = 30_000

/** Default `logs --last` (spec §4.5: 10 lines, as Monk does). */
export const LOG_LAST = 10

/** How long `version` waits for the daemon's version: it must stay fast when monkd hangs. */
export const VERSION_PING_TIMEOUT_MS = 2_000

/** How long `cluster peers` (and a join) wait to hear from peers known only from their records before printing. */
export const PEERS_SETTLE_MS = 10_000
