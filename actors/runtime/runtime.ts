// The Runtime contract: what the control plane asks of a container engine (docker) or of the
// embedded process supervisor (process). Implementations: docker.ts, process.ts.
import type { Writable } from 'node:stream'

/** Labels every monk container carries, so a restarted daemon can find and adopt its containers. */
export const LABEL_INSTANCE = 'monk.instance'
export const LABEL_CONTAINER = 'monk.container'
export const LABEL_PEER = 'monk.peer'

export type Labels = Record<string, string>
export type RuntimeKind = 'docker' | 'process'

/** A host port publishing: `8080`, `8080:80`, `127.0.0.1:8080:80`, `4545:4445/udp`. */
export interface PortMapping {
  /** Host address to bind; undefined = all addresses. */
  hostIp?: string
  hostPort: number
  containerPort: number
  protocol: 'tcp' | 'udp'
}

/** A bind mount `host:container[:ro]`. */
export interface Mount {
  hostPath: string
  containerPath: string
  readOnly: boolean
}

/** Docker/Podman restart semantics. `on-failure` counts restarts against `maxRetries` (undefined = unlimited). */
export type RestartPolicy =
  | { name: 'no' }
  | { name: 'always' }
  | { name: 'unless-stopped' }
  | { name: 'on-failure', maxRetries?: number }

export interface Ulimit {
  /** Linux resource name as Docker spells it: nofile, nproc, core, memlock, stack, ... */
  name: string
  soft: number
  hard: number
}

/**
 * Everything a runtime needs to create one container. Built from MonkScript container fields by
 * `spec.ts`; every field here is one a runtime may honour, and a runtime that cannot honour one
 * reports it in `CreateResult.unsupported` (never silently).
 */
export interface ContainerSpec {
  /** Runtime-unique name, `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. */
  name: string
  /** Full image reference with its tag (`busybox:1`, `docker.io/library/redis:7`). */
  image: string
  /** Replaces the image entrypoint when set. */
  entrypoint?: string[]
  /** Replaces the image command when set. */
  cmd?: string[]
  env: Record<string, string>
  /**
   * Variables whose values carry resolved secrets, kept apart from `env` so a runtime that writes
   * its container config to disk keeps them out of it (docker.ts: a tmpfs file the container's
   * shell reads before it runs the command). Absent: none.
   */
  secretEnv?: Record<string, string>
  /** Absolute working directory; created when missing. */
  workdir?: string
  /** `uid`, `uid:gid`, `name` or `name:group`. */
  user?: string
  /** `host`: the container shares the host's network (ports are its own). `bridge`: ports are published. */
  network: 'host' | 'bridge'
  ports: PortMapping[]
  mounts: Mount[]
  restart: RestartPolicy
  capAdd: string[]
  ulimits: Ulimit[]
  labels: Labels
}

/** A spec field a runtime (or the spec builder) could not honour, with the reason, for the operator. */
export interface FieldNote {
  /** Field path as the template spells it: `ports[1]`, `cap-add`, `resources`. */
  field: string
  reason: string
}

export type ContainerState = 'created' | 'running' | 'restarting' | 'paused' | 'exited' | 'removing' | 'dead'

export interface ContainerSummary {
  id: string
  name: string
  image: string
  labels: Labels
  state: ContainerState
  running: boolean
}

export interface ContainerInfo extends ContainerSummary {
  /** Main process id on the host, when running. */
  pid: number | null
  /** Exit code of the last run; null when it never ran or the code is unknown (process exited while no supervisor watched it). */
  exitCode: number | null
  /** Restarts made by the restart policy since the last explicit start. */
  restartCount: number
  createdAt: Date
  startedAt: Date | null
  finishedAt: Date | null
  network: 'host' | 'bridge'
  ports: PortMapping[]
  restart: RestartPolicy
}

export interface CreateResult {
  id: string
  name: string
  /** Fields of the spec this runtime does not honour (also emitted once as a `warning` event). */
  unsupported: FieldNote[]
}

export interface PullProgress {
  image: string
  /** Engine's status text: `Pulling fs layer`, `Downloading`, `Pull complete`, ... */
  status: string
  layer?: string
  current?: number
  total?: number
}

export interface EnsureImageResult {
  image: string
  /** `present`: already there; `pulled`: fetched now; `not-used`: this runtime does not use images. */
  status: 'present' | 'pulled' | 'not-used'
}

export interface LogLine {
  time: Date
  stream: 'stdout' | 'stderr'
  /** One line without its trailing newline. */
  text: string
}

export interface LogOptions {
  /** Keep the stream open and deliver new lines until the container's run ends or `close()` is called. */
  follow?: boolean
  /** Only the last N lines (both streams together) of what is already there. */
  tail?: number
  /** Only lines written at or after this time. */
  since?: Date
}

/** How an interactive command starts (`monk shell`, `monk exec -it`). */
export interface SessionOptions {
  /** A pseudo-terminal: output comes as one stream, Ctrl-C and the window size reach the program. */
  tty: boolean
  cols?: number
  rows?: number
  /** Added to the container's environment (TERM for a terminal). */
  env?: Record<string, string>
}

/** A running interactive command: input in, output out as it comes, its exit code at the end. */
export interface ExecSession {
  /** Output as it arrives; with a tty everything comes as stdout. */
  onOutput: (fn: (stream: 'stdout' | 'stderr', data: Uint8Array) => void) => void
  write: (data: Uint8Array) => void
  /** End of input (pipes); a terminal gets ^D from the client instead. */
  endInput: () => void
  resize: (cols: number, rows: number) => void
  /** Its exit code once it ended (128 + n for a signal). */
  readonly exited: Promise<number>
  /** Ends it (the client went away). */
  kill: () => void
}

export interface ExecOptions {
  /** Added to (and overriding) the container's environment. */
  env?: Record<string, string>
  /** Working directory; default: the container's. */
  workdir?: string
  /** User; default: the container's. */
  user?: string
  /** The command's whole input, closed after it; without it the command's stdin is empty. */
  stdin?: string | Buffer
  /** Output is also written here as it arrives (it is still captured in the result). */
  stdout?: Writable
  stderr?: Writable
  /** Aborting kills the command (process) or stops waiting for it (docker). */
  signal?: AbortSignal
}

export interface ExecResult {
  exitCode: number
  stdout: string
  stderr: string
}

export type RuntimeEventType = 'created' | 'started' | 'died' | 'stopped' | 'removed' | 'oom' | 'warning'

/** A fact about a container (or, for `warning`, about the runtime), in the order the runtime saw it. */
export interface RuntimeEvent {
  type: RuntimeEventType
  /** Container id; empty for runtime-wide warnings. */
  id: string
  name: string
  labels: Labels
  time: Date
  /** `died`: the exit code. */
  exitCode?: number
  /** `warning`: what could not be honoured and why. */
  message?: string
  notes?: FieldNote[]
}

/** An open stream; iterate it with `for await`, end it early with `close()` (or `break`). */
export interface Stream<T> extends AsyncIterable<T> {
  close (): void
}

export interface StopOptions {
  /** Grace period between SIGTERM and SIGKILL. */
  timeoutMs?: number
}

/**
 * A container runtime. Every method takes a container id or name (`ref`), is safe to call
 * concurrently for different containers, and fails with a `RuntimeError` subclass (see errors.ts)
 * whose `code` callers branch on: `not-found`, `name-conflict`, `is-running`, `not-running`,
 * `image-not-found`, `registry-unreachable`, `start-failed`, `invalid-spec`, `engine-unreachable`, `closed`.
 */
export interface Runtime {
  readonly kind: RuntimeKind
  /** Where it runs, for messages: the Docker socket, or the process runtime's state directory. */
  readonly endpoint: string
  /**
   * Where its workloads reach this peer's overlay endpoints when that is not the peer's loopback:
   * the gateway of Docker's per-peer network (`--network-name`). Undefined: 127.0.0.1.
   */
  readonly endpointHost?: string | undefined

  /** Make `image` available locally, pulling it when missing; progress is reported as it arrives. */
  ensureImage (image: string, opts?: { onProgress?: (p: PullProgress) => void, signal?: AbortSignal }): Promise<EnsureImageResult>
  /** Create (not start) a container. Fails with `name-conflict` when the name is taken, `image-not-found` when the image is missing. */
  create (spec: ContainerSpec): Promise<CreateResult>
  /** Start it; resolves once it runs. Starting a running container is a no-op. */
  start (ref: string): Promise<void>
  /** SIGTERM, then SIGKILL after the grace period; resolves once it stopped. Stopping a stopped container is a no-op. */
  stop (ref: string, opts?: StopOptions): Promise<void>
  /** Remove it; a running one only with `force` (else `is-running`). */
  remove (ref: string, opts?: { force?: boolean }): Promise<void>
  inspect (ref: string): Promise<ContainerInfo>
  /** Containers (running or not) carrying all these labels (`{}`: every container of this runtime). */
  list (labels: Labels): Promise<ContainerSummary[]>
  /** Its output; resolves once the stream is open (with `follow`, later lines will be delivered). */
  logs (ref: string, opts?: LogOptions): Promise<Stream<LogLine>>
  /** Run a command in a running container (`not-running` otherwise) and wait for it. */
  exec (ref: string, cmd: string[], opts?: ExecOptions): Promise<ExecResult>
  /** Start a command with live input and output (a terminal with `tty`); see ExecSession. */
  session? (ref: string, cmd: string[], opts: SessionOptions): Promise<ExecSession>
  /** Events of containers carrying all these labels, from now on; resolves once subscribed. */
  events (filter?: { labels?: Labels }): Promise<Stream<RuntimeEvent>>
  /** Release this object's resources (streams, timers) and leave every container as it is, for a new runtime object to adopt. */
  close (): Promise<void>
}
