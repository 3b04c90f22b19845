// Defaults of the runtimes, each with the reason for its value.
import { homedir } from 'node:os'
import { join } from 'node:path'

/** Docker's own default socket; DOCKER_HOST overrides it (Podman's compatible socket works too). */
export const DOCKER_SOCKET = '/var/run/docker.sock'

/** Docker's default stop grace period (`docker stop -t 10`): long enough for a clean shutdown. */
export const STOP_TIMEOUT_MS = 10_000

/** `auto` selection pings the engine: a local socket answers in milliseconds, a hung one should not delay the daemon's start by more than this. */
export const ENGINE_PING_TIMEOUT_MS = 2_000

/** Docker restarts after 100 ms, doubling each time; the process runtime follows the same curve. */
export const RESTART_BACKOFF_INITIAL_MS = 100
/** Docker caps its restart delay at one minute; 10 s keeps a flapping workload visible without hammering the machine. */
export const RESTART_BACKOFF_MAX_MS = 10_000
/** A run that lasted this long was healthy: the next failure restarts from the initial delay (Docker uses 10 s too). */
export const RESTART_BACKOFF_RESET_MS = 10_000

/** Docker's json-file driver rotates nothing by default; 10 MiB x 3 bounds a chatty workload to 40 MiB of logs. */
export const LOG_MAX_BYTES = 10 * 1024 * 1024
/** Rotated files kept besides the current one. */
export const LOG_MAX_FILES = 3
/** Docker splits log lines longer than 16 KiB; so do we, so one runaway line cannot grow memory without bound. */
export const LOG_MAX_LINE_BYTES = 16 * 1024

/** Exec output kept in memory per stream; a command printing more is truncated (streaming it via `stdout` still gets everything). */
export const EXEC_CAPTURE_BYTES = 16 * 1024 * 1024

/** How often an adopted process (not our child, so no exit event) is checked for liveness. */
export const ADOPTED_POLL_MS = 250

/** After the main process exits, how long to wait for its output pipes to drain before closing them (a daemonised grandchild may hold them open). */
export const DRAIN_TIMEOUT_MS = 1_000

/** Host environment passed to process-runtime workloads (the daemon's other variables, tokens included, are not). */
export const PASS_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'LOGNAME', 'SHELL']

/** The process runtime's state (records, log files, pipes) lives with the rest of monk's state. */
export function defaultProcessStateDir (): string {
  return join(process.env['MONK_HOME'] ?? join(homedir(), '.monk'), 'runtime', 'process')
}

/** Docker events stream: reconnect delay after it ends (dockerd restarted). */
export const EVENTS_RECONNECT_MS = 500
