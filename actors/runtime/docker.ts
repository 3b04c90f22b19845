// The Docker runtime: containers on any Docker-API engine (Docker, Podman's compatible socket)
// through dockerode. Labels make containers adoptable; Init makes stop fast.
import { isIP } from 'node:net'
import Docker from 'dockerode'
import { isObj } from '../values.js'
import { Readable } from 'node:stream'
import { Channel } from './channel.js'
import { DOCKER_SOCKET, ENGINE_PING_TIMEOUT_MS, EXEC_CAPTURE_BYTES, STOP_TIMEOUT_MS } from './defaults.js'
import {
  ContainerNotFoundError, ContainerNotRunningError, ContainerRunningError, EngineUnreachableError, ImageNotFoundError,
  InvalidSpecError, NameConflictError, RegistryUnreachableError, RuntimeError, StartFailedError
} from './errors.js'
import { FrameDemuxer, LineSplitter, demuxBuffer, splitTimestamp } from './lines.js'
import type { StdStream } from './lines.js'
import type {
  ContainerInfo, ContainerSpec, ContainerState, ContainerSummary, CreateResult, EnsureImageResult, ExecOptions, ExecResult,
  ExecSession, FieldNote, Labels, LogLine, LogOptions, PortMapping, PullProgress, RestartPolicy, Runtime, RuntimeEvent, SessionOptions, StopOptions, Stream
} from './runtime.js'
import { hostNetworkPortNotes } from './spec.js'
import { EngineEvents } from './docker-events.js'
import { LABEL_SECRETS_FILE, readSecretEnv, removeSecretEnv, SECRETS_ENTRYPOINT, SECRETS_TARGET, shellName, writeSecretEnv } from './docker-secrets.js'
import { dockerSession } from './docker-session.js'
import { NOT_FOUND, UNREACHABLE, dateOrNull, engineMessage, labelFilter, matches, readable, status, type EngineError } from './docker-engine.js'

export interface DockerRuntimeOptions {
  /** Unix socket of the engine; default: DOCKER_HOST, else /var/run/docker.sock. */
  socketPath?: string
  /** A ready client (tests, or a tcp:// engine configured by the caller). */
  docker?: Docker
  pingTimeoutMs?: number
  /**
   * A per-peer bridge network (monkd `--network-name`): containers that map ports join it instead
   * of Docker's default bridge, and the overlay's endpoints listen on its gateway, which those
   * containers reach (the peer's loopback is not theirs). Made at open() when missing.
   */
  networkName?: string
}

/** Docker's rule for network names. */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/
/** What is wrong with `name` as a Docker network name, or undefined when it is one. */
export function networkNameProblem (name: string): string | undefined {
  return NETWORK_NAME.test(name) ? undefined : `"${name}" is not a Docker network name (letters, digits, _ . -; at most 63, starting with a letter or digit)`
}
/** Label of a network monkd made itself (`--network-name`). */
export const LABEL_NETWORK = 'monk.network'

const NAME = 'docker'

export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const
  readonly endpoint: string
  private readonly docker: Docker
  private readonly open = new Set<Channel<unknown>>()
  private readonly eventSubscribers = new Set<{ ch: Channel<RuntimeEvent>, labels: Labels }>()
  /** The per-peer network bridge containers join (`networkName`), undefined: Docker's default bridge. */
  readonly networkName: string | undefined
  /** Where containers reach this peer's endpoints: the per-peer network's gateway (set by open()). */
  endpointHost: string | undefined

  /** Connect and check that the engine answers (EngineUnreachableError otherwise); make the per-peer network when asked. */
  static async open (opts: DockerRuntimeOptions = {}): Promise<DockerRuntime> {
    const rt = new DockerRuntime(opts)
    await rt.ping(opts.pingTimeoutMs ?? ENGINE_PING_TIMEOUT_MS)
    if (rt.networkName !== undefined) rt.endpointHost = await rt.ensureNetwork(rt.networkName)
    return rt
  }

  constructor (opts: DockerRuntimeOptions = {}) {
    const problem = opts.networkName !== undefined ? networkNameProblem(opts.networkName) : undefined
    if (problem !== undefined) throw new RuntimeError('bad-network', `--network-name: ${problem}`)
    this.networkName = opts.networkName
    this.docker = opts.docker ?? (opts.socketPath ? new Docker({ socketPath: opts.socketPath }) : new Docker())
    const m: unknown = this.docker.modem // docker-modem's fields are not in the typings
    const field = (k: string): string => isObj(m) && (typeof m[k] === 'string' || typeof m[k] === 'number') ? String(m[k]) : ''
    this.endpoint = field('socketPath') ? `unix://${field('socketPath')}` : field('host') ? `${field('protocol') || 'http'}://${field('host')}:${field('port')}` : `unix://${DOCKER_SOCKET}`
  }

  /**
   * The IPv4 gateway of bridge network `name`, made (driver bridge, labelled monk.network) when
   * missing. Fails when the network is not a bridge or has no IPv4 gateway: its containers could
   * not reach the peer.
   */
  private async ensureNetwork (name: string): Promise<string> {
    let info: Docker.NetworkInspectInfo
    try {
      info = await this.docker.getNetwork(name).inspect() as Docker.NetworkInspectInfo
    } catch (err) {
      if (status(err) !== 404) throw this.fail(err, 'inspect network', name)
      try {
        await this.docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { [LABEL_NETWORK]: '1' } })
        info = await this.docker.getNetwork(name).inspect() as Docker.NetworkInspectInfo
      } catch (e) {
        throw this.fail(e, 'create network', name)
      }
    }
    if (info.Driver !== 'bridge') throw new RuntimeError('bad-network', `--network-name: network ${name} uses the ${info.Driver} driver; it must be a bridge network`)
    const gateway = (info.IPAM?.Config ?? []).map(c => c.Gateway).find((g): g is string => typeof g === 'string' && isIP(g) === 4)
    if (gateway === undefined) throw new RuntimeError('bad-network', `--network-name: network ${name} has no IPv4 gateway for its containers to reach this peer on`)
    return gateway
  }

  /** Resolves when the engine answers within `timeoutMs`. */
  async ping (timeoutMs: number = ENGINE_PING_TIMEOUT_MS): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs)
    try {
      // dockerode's ping takes {abortSignal} (its typings only know the callback form)
      await Reflect.apply(this.docker.ping, this.docker, [{ abortSignal: signal }])
    } catch (err) {
      const e = err as EngineError
      const detail = signal.aborted ? `no answer within ${timeoutMs} ms` : (e.code ?? engineMessage(err))
      throw new EngineUnreachableError(this.endpoint, detail, err)
    }
  }

  private fail (err: unknown, op: string, ref: string): RuntimeError {
    if (err instanceof RuntimeError) return err
    const code = status(err)
    const msg = engineMessage(err)
    if (code === undefined) {
      const sys = (err as EngineError).code
      if (sys === 'ENOENT' || sys === 'ECONNREFUSED' || sys === 'EACCES' || sys === 'ECONNRESET') return new EngineUnreachableError(this.endpoint, `${sys} while trying to ${op} ${ref}`, err)
    }
    if (code === 404) {
      if (op === 'create') return new ImageNotFoundError(NAME, ref, msg, { cause: err })
      return new ContainerNotFoundError(NAME, ref, err)
    }
    if (code === 409) {
      if (op === 'create') return new NameConflictError(NAME, ref, err)
      if (op === 'exec') return new ContainerNotRunningError(NAME, ref, 'exec', err)
      if (op === 'remove') return new ContainerRunningError(NAME, ref, 'remove', err)
    }
    if (op === 'start') return new StartFailedError(NAME, ref, msg, err)
    return new RuntimeError('engine-error', `${NAME}: failed to ${op} ${ref}: ${msg}`, { container: ref, cause: err })
  }

  /** Whether `image` is present locally (no pull). */
  async hasImage (image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect()
      return true
    } catch (err) {
      if (status(err) === 404) return false
      throw this.fail(err, 'inspect image', image)
    }
  }

  async ensureImage (image: string, opts: { onProgress?: (p: PullProgress) => void, signal?: AbortSignal } = {}): Promise<EnsureImageResult> {
    if (await this.hasImage(image)) return { image, status: 'present' }
    const classify = (err: unknown): RuntimeError => {
      const msg = engineMessage(err)
      if (NOT_FOUND.test(msg) && !UNREACHABLE.test(msg)) return new ImageNotFoundError(NAME, image, msg, { cause: err })
      if (UNREACHABLE.test(msg) || status(err) === 500) return new RegistryUnreachableError(NAME, image, msg, err)
      return this.fail(err, 'pull image', image)
    }
    let stream: NodeJS.ReadableStream
    try {
      stream = await this.docker.pull(image, opts.signal ? { abortSignal: opts.signal } : {})
    } catch (err) {
      throw classify(err)
    }
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null) => { if (err) reject(classify(err)); else resolve() }, (ev: { status?: string, id?: string, error?: string, progressDetail?: { current?: number, total?: number } }) => {
        if (ev.error) return
        const p: PullProgress = { image, status: ev.status ?? '' }
        if (ev.id) p.layer = ev.id
        if (ev.progressDetail?.current !== undefined) p.current = ev.progressDetail.current
        if (ev.progressDetail?.total !== undefined) p.total = ev.progressDetail.total
        opts.onProgress?.(p)
      })
    })
    try {
      await this.docker.getImage(image).inspect()
    } catch (err) {
      throw new ImageNotFoundError(NAME, image, `the pull finished but the image is not there: ${engineMessage(err)}`, { cause: err })
    }
    return { image, status: 'pulled' }
  }

  async create (spec: ContainerSpec): Promise<CreateResult> {
    if (spec.image === '') throw new InvalidSpecError('image', 'the docker runtime needs an image', { container: spec.name })
    const unsupported: FieldNote[] = spec.network === 'host' ? hostNetworkPortNotes(spec, 'the container uses host networking') : []
    const exposed: Record<string, object> = {}
    const bindings: Record<string, Array<{ HostIp?: string, HostPort: string }>> = {}
    if (spec.network === 'bridge') {
      for (const p of spec.ports) {
        const key = `${p.containerPort}/${p.protocol}`
        exposed[key] = {}
        ;(bindings[key] ??= []).push({ ...(p.hostIp ? { HostIp: p.hostIp } : {}), HostPort: String(p.hostPort) })
      }
    }
    const restart = spec.restart.name === 'on-failure'
      ? { Name: 'on-failure', MaximumRetryCount: spec.restart.maxRetries ?? 0 }
      : { Name: spec.restart.name === 'no' ? '' : spec.restart.name }
    // secret variables: through a tmpfs file when the image has a shell (docker-secrets.ts), never in Env unless it has none
    const secret = { ...spec.secretEnv }
    const env = { ...spec.env }
    for (const k of Object.keys(secret)) {
      if (shellName(k)) continue
      unsupported.push({ field: `environment.${k}`, reason: 'carries a secret but is not a shell variable name, so it is passed in the container config (docker inspect shows it)' })
      env[k] = secret[k]!
      delete secret[k]
    }
    let argv: string[] = []
    if (Object.keys(secret).length > 0) {
      let image: Docker.ImageInspectInfo
      try {
        image = await this.docker.getImage(spec.image).inspect()
      } catch (err) {
        if (status(err) === 404) throw new ImageNotFoundError(NAME, spec.image, `${engineMessage(err)} (call ensureImage first)`, { container: spec.name, cause: err })
        throw this.fail(err, 'inspect image', spec.image)
      }
      // what the engine would run: an entrypoint set on create drops the image's command
      argv = spec.entrypoint ? [...spec.entrypoint, ...(spec.cmd ?? [])] : [...(image.Config.Entrypoint ?? []), ...(spec.cmd ?? image.Config.Cmd ?? [])]
      if (argv.length === 0) {
        unsupported.push({ field: 'environment', reason: `carries secrets (${Object.keys(secret).join(', ')}) but the image names no command to wrap, so they are passed in the container config (docker inspect shows them)` })
        Object.assign(env, secret)
        for (const k of Object.keys(secret)) delete secret[k]
      }
    }
    const options: Docker.ContainerCreateOptions = {
      name: spec.name,
      Image: spec.image,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: spec.labels,
      ExposedPorts: exposed,
      HostConfig: {
        NetworkMode: spec.network === 'bridge' && this.networkName !== undefined ? this.networkName : spec.network,
        PortBindings: bindings,
        Binds: spec.mounts.map(m => `${m.hostPath}:${m.containerPath}${m.readOnly ? ':ro' : ''}`),
        RestartPolicy: restart,
        CapAdd: spec.capAdd,
        Ulimits: spec.ulimits.map(u => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
        // An init as PID 1 forwards SIGTERM: `sh` as PID 1 ignores it and every stop would wait for SIGKILL.
        Init: true
      }
    }
    if (spec.entrypoint) options.Entrypoint = spec.entrypoint
    if (spec.cmd) options.Cmd = spec.cmd
    if (spec.workdir) options.WorkingDir = spec.workdir
    if (spec.user) options.User = spec.user
    let file: string | undefined
    if (Object.keys(secret).length > 0) {
      file = writeSecretEnv(spec.name, secret, spec.user !== undefined && spec.user !== '' && spec.user !== 'root' && spec.user !== '0')
      options.Entrypoint = SECRETS_ENTRYPOINT
      options.Cmd = argv
      options.Labels = { ...spec.labels, [LABEL_SECRETS_FILE]: file }
      // a Mounts bind fails on a missing source (Binds would make a directory there)
      options.HostConfig!.Mounts = [{ Type: 'bind', Source: file, Target: SECRETS_TARGET, ReadOnly: true }]
    }
    let id: string
    try {
      id = (await this.docker.createContainer(options)).id
    } catch (err) {
      if (file) removeSecretEnv(file)
      if (status(err) === 404) throw new ImageNotFoundError(NAME, spec.image, `${engineMessage(err)} (call ensureImage first)`, { container: spec.name, cause: err })
      throw this.fail(err, 'create', spec.name)
    }
    if (file && !(await this.hasShell(id))) {
      // no /bin/sh to read the file: the values go in Env after all, and the operator is told
      await this.docker.getContainer(id).remove({ force: true }).catch(() => {})
      removeSecretEnv(file)
      const { secretEnv, ...rest } = spec
      const again = await this.create({ ...rest, env: { ...spec.env, ...secretEnv } })
      const note = { field: 'environment', reason: `carries secrets (${Object.keys(secret).join(', ')}) but the image ${spec.image} has no /bin/sh to read them from a tmpfs file, so they are passed in the container config (docker inspect shows them)` }
      this.warn({ id: again.id, name: spec.name, labels: spec.labels, notes: [note] })
      return { ...again, unsupported: [...unsupported, note, ...again.unsupported] }
    }
    if (unsupported.length > 0) this.warn({ id, name: spec.name, labels: spec.labels, notes: unsupported })
    return { id, name: spec.name, unsupported }
  }

  /** Whether the created container `id` has /bin/sh (stat through the archive endpoint; nothing runs). */
  private async hasShell (id: string): Promise<boolean> {
    try {
      // the engine answers a HEAD; dockerode hands back the response stream, which must be let go
      const res: unknown = await this.docker.getContainer(id).infoArchive({ path: '/bin/sh' })
      if (res instanceof Readable) res.destroy()
      return true
    } catch (err) {
      if (status(err) === 404) return false
      throw this.fail(err, 'inspect', id)
    }
  }

  /** The secret variables of container `ref` (from its tmpfs file), for exec and sessions: {} when it has none. */
  private async secretEnvOf (ref: string): Promise<Record<string, string>> {
    let labels: Labels
    try {
      labels = (await this.docker.getContainer(ref).inspect()).Config.Labels ?? {}
    } catch (err) {
      throw this.fail(err, 'exec', ref)
    }
    const file = labels[LABEL_SECRETS_FILE]
    return file !== undefined ? readSecretEnv(file) : {}
  }

  private warn (w: { id: string, name: string, labels: Labels, notes: FieldNote[] }): void {
    const message = `${NAME}: container ${w.name} does not honour ${w.notes.map(n => `${n.field} (${n.reason})`).join('; ')}`
    const ev: RuntimeEvent = { type: 'warning', id: w.id, name: w.name, labels: w.labels, time: new Date(), message, notes: w.notes }
    for (const s of this.eventSubscribers) if (matches(w.labels, s.labels)) s.ch.push(ev)
  }

  async start (ref: string): Promise<void> {
    try {
      await this.docker.getContainer(ref).start()
    } catch (err) {
      if (status(err) === 304) return
      throw this.fail(err, 'start', ref)
    }
  }

  async stop (ref: string, opts: StopOptions = {}): Promise<void> {
    try {
      await this.docker.getContainer(ref).stop({ t: Math.ceil((opts.timeoutMs ?? STOP_TIMEOUT_MS) / 1000) })
    } catch (err) {
      if (status(err) === 304) return
      throw this.fail(err, 'stop', ref)
    }
  }

  async remove (ref: string, opts: { force?: boolean } = {}): Promise<void> {
    const c = this.docker.getContainer(ref)
    let file: string | undefined
    try { file = (await c.inspect()).Config.Labels?.[LABEL_SECRETS_FILE] } catch { /* the remove below says why */ }
    try {
      await c.remove({ force: opts.force ?? false })
    } catch (err) {
      throw this.fail(err, 'remove', ref)
    }
    if (file !== undefined) removeSecretEnv(file)
  }

  async inspect (ref: string): Promise<ContainerInfo> {
    let i: Docker.ContainerInspectInfo
    try {
      i = await this.docker.getContainer(ref).inspect()
    } catch (err) {
      throw this.fail(err, 'inspect', ref)
    }
    const rp = i.HostConfig.RestartPolicy
    const restart: RestartPolicy = rp?.Name === 'on-failure'
      ? (rp.MaximumRetryCount ? { name: 'on-failure', maxRetries: rp.MaximumRetryCount } : { name: 'on-failure' })
      : { name: rp?.Name === 'always' || rp?.Name === 'unless-stopped' ? rp.Name : 'no' }
    const ports: PortMapping[] = []
    for (const [key, binds] of Object.entries(i.HostConfig.PortBindings as Record<string, Array<{ HostIp?: string, HostPort?: string }> | null> ?? {})) {
      const [num, proto] = key.split('/')
      for (const b of binds ?? []) {
        ports.push({ ...(b.HostIp ? { hostIp: b.HostIp } : {}), hostPort: Number(b.HostPort), containerPort: Number(num), protocol: proto === 'udp' ? 'udp' : 'tcp' })
      }
    }
    const state = i.State.Status as ContainerState
    return {
      id: i.Id,
      name: i.Name.replace(/^\//, ''),
      image: i.Config.Image,
      labels: i.Config.Labels ?? {},
      state,
      running: i.State.Running,
      pid: i.State.Pid > 0 ? i.State.Pid : null,
      exitCode: state === 'created' ? null : i.State.ExitCode,
      restartCount: i.RestartCount,
      createdAt: new Date(i.Created),
      startedAt: dateOrNull(i.State.StartedAt),
      finishedAt: dateOrNull(i.State.FinishedAt),
      network: i.HostConfig.NetworkMode === 'host' ? 'host' : 'bridge',
      ports,
      restart
    }
  }

  async list (labels: Labels): Promise<ContainerSummary[]> {
    let list: Docker.ContainerInfo[]
    try {
      list = await this.docker.listContainers({ all: true, filters: { label: labelFilter(labels) } })
    } catch (err) {
      throw this.fail(err, 'list', 'containers')
    }
    return list.map(c => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      image: c.Image,
      labels: c.Labels ?? {},
      state: c.State as ContainerState,
      running: c.State === 'running'
    }))
  }

  async logs (ref: string, opts: LogOptions = {}): Promise<Stream<LogLine>> {
    const c = this.docker.getContainer(ref)
    const base = {
      stdout: true,
      stderr: true,
      timestamps: true,
      ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
      ...(opts.since ? { since: (opts.since.getTime() / 1000).toFixed(3) } : {})
    }
    const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() }
    const emit = (ch: Channel<LogLine>, stream: StdStream, lines: string[]): void => {
      for (const l of lines) {
        const { time, text } = splitTimestamp(l)
        if (opts.since && time < opts.since) continue
        ch.push({ time, stream, text })
      }
    }
    if (!opts.follow) {
      let buf: Buffer
      try {
        buf = await c.logs({ ...base, follow: false })
      } catch (err) {
        throw this.fail(err, 'read logs of', ref)
      }
      const ch = new Channel<LogLine>()
      for (const f of demuxBuffer(Buffer.isBuffer(buf) ? buf : Buffer.from(buf))) emit(ch, f.stream, splitters[f.stream].push(f.payload))
      emit(ch, 'stdout', splitters.stdout.flush())
      emit(ch, 'stderr', splitters.stderr.flush())
      ch.end()
      return ch
    }
    let stream: Readable
    try {
      stream = readable(await c.logs({ ...base, follow: true }))
    } catch (err) {
      throw this.fail(err, 'follow logs of', ref)
    }
    const ch: Channel<LogLine> = new Channel<LogLine>(() => { this.open.delete(ch as Channel<unknown>); stream.destroy() })
    this.open.add(ch as Channel<unknown>)
    const demux = new FrameDemuxer()
    stream.on('data', (chunk: Buffer) => demux.push(chunk, (s, payload) => emit(ch, s, splitters[s].push(payload))))
    const finish = (): void => {
      emit(ch, 'stdout', splitters.stdout.flush())
      emit(ch, 'stderr', splitters.stderr.flush())
      ch.end()
    }
    stream.on('end', finish)
    stream.on('close', finish)
    stream.on('error', finish)
    return ch
  }

  async exec (ref: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const c = this.docker.getContainer(ref)
    // a command run in the container sees its secret variables, as it saw them in Env before
    const env = { ...await this.secretEnvOf(ref), ...opts.env }
    let ex: Docker.Exec
    try {
      ex = await c.exec({
        Cmd: cmd,
        AttachStdout: true,
        AttachStderr: true,
        ...(opts.stdin !== undefined ? { AttachStdin: true } : {}),
        ...(Object.keys(env).length > 0 ? { Env: Object.entries(env).map(([k, v]) => `${k}=${v}`) } : {}),
        ...(opts.workdir ? { WorkingDir: opts.workdir } : {}),
        ...(opts.user ? { User: opts.user } : {})
      })
    } catch (err) {
      throw this.fail(err, 'exec', ref)
    }
    let stream: Readable
    try {
      const started = await ex.start({ hijack: true, stdin: opts.stdin !== undefined })
      // the input, then a half-close: the command sees end of file
      if (opts.stdin !== undefined) (started as unknown as NodeJS.WritableStream).end(opts.stdin)
      stream = readable(started)
    } catch (err) {
      throw this.fail(err, 'exec', ref)
    }
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] }
    const size = { stdout: 0, stderr: 0 }
    const demux = new FrameDemuxer()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { stream.destroy(); reject(opts.signal?.reason) }
      if (opts.signal?.aborted) { onAbort(); return }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      stream.on('data', (chunk: Buffer) => demux.push(chunk, (s, payload) => {
        opts[s]?.write(payload)
        if (size[s] < EXEC_CAPTURE_BYTES) { out[s].push(payload); size[s] += payload.length }
      }))
      const done = (): void => { opts.signal?.removeEventListener('abort', onAbort); resolve() }
      stream.on('end', done)
      stream.on('close', done)
      stream.on('error', (err) => { opts.signal?.removeEventListener('abort', onAbort); reject(this.fail(err, 'exec', ref)) })
    })
    let exitCode: number | null = null
    // The exit code is recorded a moment after the output stream ends.
    for (let i = 0; i < 50; i++) {
      const info = await ex.inspect()
      if (!info.Running && info.ExitCode !== null) { exitCode = info.ExitCode; break }
      await new Promise(r => setTimeout(r, 10))
    }
    if (exitCode === null) throw new RuntimeError('engine-error', `${NAME}: exec ${cmd.join(' ')} in ${ref} ended without an exit code`, { container: ref })
    return { exitCode, stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8') }
  }

  async session (ref: string, cmd: string[], opts: SessionOptions): Promise<ExecSession> {
    try {
      const env = { ...await this.secretEnvOf(ref), ...opts.env }
      return await dockerSession(this.docker, ref, cmd, Object.keys(env).length > 0 ? { ...opts, env } : opts)
    } catch (err) {
      throw this.fail(err, 'exec', ref)
    }
  }

  async events (filter: { labels?: Labels } = {}): Promise<Stream<RuntimeEvent>> {
    const labels = filter.labels ?? {}
    let sub: { ch: Channel<RuntimeEvent>, labels: Labels } | undefined
    let follower: EngineEvents | undefined
    const ch = new Channel<RuntimeEvent>(() => {
      follower?.close()
      if (sub) this.eventSubscribers.delete(sub)
      this.open.delete(ch as Channel<unknown>)
    })
    sub = { ch, labels }
    follower = new EngineEvents(async since => readable(await this.docker.getEvents({
      filters: { type: ['container'], ...(Object.keys(labels).length ? { label: labelFilter(labels) } : {}) },
      ...(since !== undefined ? { since } : {}),
    })), ev => ch.push(ev))
    try {
      await follower.connect()
    } catch (err) {
      ch.close()
      throw this.fail(err, 'subscribe to events of', 'containers')
    }
    this.eventSubscribers.add(sub)
    this.open.add(ch as Channel<unknown>)
    return ch
  }

  async close (): Promise<void> {
    for (const ch of [...this.open]) ch.close()
  }
}
