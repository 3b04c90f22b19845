// The process runtime: a container's entrypoint/cmd (or `bash` via `sh -c`) runs as a supervised
// host process in its own process group, with restart policy, piped and rotated logs, and state
// on disk so a restarted daemon adopts what still runs. The embedded default without an engine.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, constants as fsConstants, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { constants as osConstants } from 'node:os'
import { join } from 'node:path'
import { Channel } from './channel.js'
import { ADOPTED_POLL_MS, DRAIN_TIMEOUT_MS, EXEC_CAPTURE_BYTES, PASS_ENV, STOP_TIMEOUT_MS, defaultProcessStateDir } from './defaults.js'
import {
  ContainerNotFoundError, ContainerNotRunningError, ContainerRunningError, InvalidSpecError, NameConflictError, RuntimeClosedError,
  StartFailedError
} from './errors.js'
import type { StdStream } from './lines.js'
import { LogWriter, PipeReader, readLogs } from './process-logs.js'
import type { RotationOptions } from './process-logs.js'
import { STDERR_PIPE, STDOUT_PIPE, StateDir, WORK_DIR, processStart, sameProcessAlive } from './process-state.js'
import type { ProcessRecord } from './process-state.js'
import { DEFAULT_BACKOFF, nextDelay, shouldRestart } from './restart.js'
import type { Backoff } from './restart.js'
import type {
  ContainerInfo, ContainerSpec, ContainerSummary, CreateResult, EnsureImageResult, ExecOptions, ExecResult, FieldNote, Labels,
  LogLine, LogOptions, Runtime, RuntimeEvent, StopOptions, Stream
} from './runtime.js'
import { hostNetworkPortNotes, validName } from './spec.js'

export interface ProcessRuntimeOptions {
  /** Records, pipes and logs; default `$MONK_HOME/runtime/process`. One live runtime object per directory. */
  stateDir?: string
  logRotation?: RotationOptions
  backoff?: Backoff
  /** Liveness check period for adopted processes (not our children, so no exit event). */
  adoptedPollMs?: number
  /** Called once per thing this runtime cannot honour (also emitted as `warning` events). */
  onWarning?: (message: string) => void
}

const NAME = 'process'

interface Run {
  pid: number
  /** Our child (exit event) or undefined when adopted from an earlier daemon (polled). */
  child: ChildProcess | undefined
  readers: PipeReader[]
  startedAt: number
  stopping: boolean
  done: boolean
  poll: NodeJS.Timeout | undefined
  exited: Promise<void>
  resolveExited: () => void
}

interface Entry {
  rec: ProcessRecord
  dir: string
  writer: LogWriter
  run: Run | undefined
  restartTimer: NodeJS.Timeout | undefined
  followers: Set<Channel<LogLine>>
  queue: Promise<void>
}

interface Ids { uid: number, gid: number }

function parseIdFile (path: string): string[][] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(l => l && !l.startsWith('#')).map(l => l.split(':'))
  } catch {
    return []
  }
}

/** `uid`, `uid:gid`, `name`, `name:group` against the host's /etc/passwd and /etc/group (Docker's rules: an unknown numeric uid gets gid 0). */
export function resolveUser (user: string): Ids | undefined {
  const [u, g] = user.split(':') as [string, string | undefined]
  const passwd = parseIdFile('/etc/passwd')
  const entry = /^\d+$/.test(u) ? passwd.find(p => p[2] === u) : passwd.find(p => p[0] === u)
  if (!entry && !/^\d+$/.test(u)) return undefined
  const uid = Number(entry?.[2] ?? u)
  let gid = Number(entry?.[3] ?? 0)
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g)
    else {
      const grp = parseIdFile('/etc/group').find(x => x[0] === g)
      if (!grp) return undefined
      gid = Number(grp[2])
    }
  }
  return { uid, gid }
}

function signalNumber (signal: NodeJS.Signals | null): number {
  return signal ? (osConstants.signals[signal] ?? 9) : 0
}

function killGroup (pid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pid, signal) } catch { /* already gone */ }
}

function matches (have: Labels, want: Labels): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v)
}

let prlimitPath: string | null | undefined
function prlimit (): string | null {
  if (prlimitPath === undefined) {
    prlimitPath = ['/usr/bin/prlimit', '/bin/prlimit', '/usr/local/bin/prlimit'].find(p => existsSync(p)) ?? null
  }
  return prlimitPath
}

export class ProcessRuntime implements Runtime {
  readonly kind = 'process' as const
  readonly endpoint: string
  private readonly state: StateDir
  private readonly entries = new Map<string, Entry>()
  private readonly subscribers = new Set<{ ch: Channel<RuntimeEvent>, labels: Labels }>()
  private readonly opts: ProcessRuntimeOptions
  private readonly backoff: Backoff
  private imageNoted = false
  private closed = false

  /** Take the state directory and adopt every container recorded there (StateLockedError if a live runtime holds it). */
  static async open (opts: ProcessRuntimeOptions = {}): Promise<ProcessRuntime> {
    const rt = new ProcessRuntime(opts)
    rt.state.lock()
    try {
      await rt.adopt()
    } catch (err) {
      rt.state.unlock()
      throw err
    }
    return rt
  }

  private constructor (opts: ProcessRuntimeOptions) {
    this.opts = opts
    this.state = new StateDir(opts.stateDir ?? defaultProcessStateDir())
    this.endpoint = this.state.root
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF
  }

  // ---- adoption -------------------------------------------------------------------------------

  private async adopt (): Promise<void> {
    const restart: Entry[] = []
    for (const rec of this.state.readAll()) {
      const e = this.track(rec)
      if (rec.state === 'running' && rec.pid !== null && sameProcessAlive(rec.pid, rec.pidStart)) {
        this.attach(e, rec.pid)
      } else if (rec.state === 'running' || rec.state === 'restarting') {
        // It ended while no daemon watched: the exit code is unknown.
        const wasRestarting = rec.state === 'restarting'
        if (!wasRestarting) Object.assign(rec, { state: 'exited', exitCode: null, pid: null, pidStart: null, finishedAt: new Date().toISOString() })
        if (wasRestarting || shouldRestart(rec.spec.restart, { exitCode: null, stoppedByUser: rec.stoppedByUser, restartCount: rec.restartCount })) {
          rec.state = 'restarting'
          restart.push(e)
        }
        this.state.write(rec)
      }
    }
    for (const e of restart) await this.serial(e, async () => { await this.restartNow(e) })
  }

  private track (rec: ProcessRecord): Entry {
    const dir = this.state.dirOf(rec.id)
    const e: Entry = { rec, dir, writer: new LogWriter(dir, this.opts.logRotation ?? {}), run: undefined, restartTimer: undefined, followers: new Set(), queue: Promise.resolve() }
    this.entries.set(rec.id, e)
    return e
  }

  /** Watch a process started by an earlier daemon: read its pipes, poll its liveness. */
  private attach (e: Entry, pid: number): void {
    const run = this.newRun(pid, undefined, this.pipeReaders(e))
    run.startedAt = e.rec.startedAt ? Date.parse(e.rec.startedAt) : Date.now()
    const pidStart = e.rec.pidStart
    run.poll = setInterval(() => { if (!sameProcessAlive(pid, pidStart)) void this.exited(e, run, null) }, this.opts.adoptedPollMs ?? ADOPTED_POLL_MS)
    e.run = run
  }

  private newRun (pid: number, child: ChildProcess | undefined, readers: PipeReader[]): Run {
    let resolveExited!: () => void
    const exited = new Promise<void>(resolve => { resolveExited = resolve })
    return { pid, child, readers, startedAt: Date.now(), stopping: false, done: false, poll: undefined, exited, resolveExited }
  }

  private pipeReaders (e: Entry): PipeReader[] {
    const onLines = (stream: StdStream, lines: string[]): void => {
      if (lines.length === 0 || this.closed) return
      const time = new Date()
      e.writer.write(stream, lines, time)
      for (const f of e.followers) for (const text of lines) f.push({ time, stream, text })
    }
    return [new PipeReader(join(e.dir, STDOUT_PIPE), 'stdout', onLines), new PipeReader(join(e.dir, STDERR_PIPE), 'stderr', onLines)]
  }

  // ---- helpers --------------------------------------------------------------------------------

  private entry (ref: string, what = 'use a container'): Entry {
    if (this.closed) throw new RuntimeClosedError(NAME, what)
    const byId = this.entries.get(ref)
    if (byId) return byId
    for (const e of this.entries.values()) if (e.rec.name === ref) return e
    if (/^[0-9a-f]{4,}$/.test(ref)) {
      const hits = [...this.entries.values()].filter(e => e.rec.id.startsWith(ref))
      if (hits.length === 1) return hits[0] as Entry
    }
    throw new ContainerNotFoundError(NAME, ref)
  }

  /** One lifecycle operation at a time per container. */
  private async serial<T> (e: Entry, op: () => Promise<T>): Promise<T> {
    const p = e.queue.then(op, op)
    e.queue = p.then(() => undefined, () => undefined)
    return await p
  }

  private emit (type: RuntimeEvent['type'], e: Entry | undefined, extra: Partial<RuntimeEvent> = {}): void {
    const labels = e?.rec.spec.labels ?? {}
    const ev: RuntimeEvent = { type, id: e?.rec.id ?? '', name: e?.rec.name ?? '', labels, time: new Date(), ...extra }
    for (const s of this.subscribers) if (matches(labels, s.labels)) s.ch.push(ev)
  }

  private warn (e: Entry | undefined, message: string, notes?: FieldNote[]): void {
    this.opts.onWarning?.(message)
    this.emit('warning', e, { message, ...(notes ? { notes } : {}) })
  }

  private noteImage (image: string): void {
    if (this.imageNoted) return
    this.imageNoted = true
    this.warn(undefined, `${NAME}: images are not used (${image === '' ? 'no image' : `${image} ignored`}); containers run as host processes with their entrypoint/cmd`)
  }

  private env (spec: ContainerSpec, extra: Record<string, string> = {}): Record<string, string> {
    const env: Record<string, string> = {}
    for (const k of PASS_ENV) { const v = process.env[k]; if (v !== undefined) env[k] = v }
    return { ...env, ...spec.env, ...extra }
  }

  /** The user to run as, when this daemon can switch to it (root) and it differs from ours. */
  private ids (user: string | undefined): Ids | undefined {
    if (user === undefined) return undefined
    const ids = resolveUser(user)
    if (!ids || process.getuid?.() !== 0) return undefined
    return ids
  }

  private unsupported (spec: ContainerSpec): FieldNote[] {
    const notes: FieldNote[] = hostNetworkPortNotes(spec, 'processes share the host network')
    spec.mounts.forEach((m, i) => {
      if (m.hostPath !== m.containerPath) notes.push({ field: `paths[${i}]`, reason: `${m.hostPath}:${m.containerPath} cannot be remapped: a process sees the host filesystem (use the same path on both sides)` })
      else if (m.readOnly) notes.push({ field: `paths[${i}]`, reason: `${m.hostPath} is not made read-only for a process` })
    })
    if (spec.capAdd.length > 0) notes.push({ field: 'cap-add', reason: `${spec.capAdd.join(', ')} not added: processes run with the daemon's own capabilities` })
    if (spec.ulimits.length > 0 && !prlimit()) notes.push({ field: 'ulimits', reason: 'not applied: prlimit (util-linux) is not installed' })
    if (spec.user !== undefined) {
      const ids = resolveUser(spec.user)
      const uid = process.getuid?.()
      if (ids && uid !== 0 && (ids.uid !== uid || ids.gid !== process.getgid?.())) notes.push({ field: 'user', reason: `not applied: the daemon runs as uid ${uid ?? '?'} and cannot switch to ${spec.user}` })
    }
    return notes
  }

  private argv (spec: ContainerSpec): string[] {
    const argv = [...(spec.entrypoint ?? []), ...(spec.cmd ?? [])]
    const pl = prlimit()
    if (spec.ulimits.length === 0 || !pl) return argv
    const limits = spec.ulimits.map(u => `--${u.name}=${u.soft === -1 ? 'unlimited' : u.soft}:${u.hard === -1 ? 'unlimited' : u.hard}`)
    return [pl, ...limits, '--', ...argv]
  }

  // ---- Runtime ----------------------------------------------------------------------------------

  async ensureImage (image: string): Promise<EnsureImageResult> {
    this.noteImage(image)
    return { image, status: 'not-used' }
  }

  async create (spec: ContainerSpec): Promise<CreateResult> {
    if (this.closed) throw new RuntimeClosedError(NAME, `create ${spec.name}`)
    if (!validName(spec.name)) throw new InvalidSpecError('name', `'${spec.name}' is not a valid container name`, { container: spec.name })
    for (const e of this.entries.values()) if (e.rec.name === spec.name) throw new NameConflictError(NAME, spec.name)
    if ([...(spec.entrypoint ?? []), ...(spec.cmd ?? [])].length === 0) {
      throw new InvalidSpecError('cmd', 'the process runtime needs a command (bash, entrypoint or cmd): images are not used, so there is no image default', { container: spec.name })
    }
    if (spec.user !== undefined && !resolveUser(spec.user)) throw new InvalidSpecError('user', `user ${spec.user} is not known on this host`, { container: spec.name })
    this.noteImage(spec.image)
    const unsupported = this.unsupported(spec)
    const id = randomBytes(32).toString('hex')
    const dir = this.state.dirOf(id)
    mkdirSync(join(dir, WORK_DIR), { recursive: true })
    try {
      execFileSync('mkfifo', ['-m', '600', join(dir, STDOUT_PIPE), join(dir, STDERR_PIPE)], { stdio: 'ignore' })
    } catch (err) {
      this.state.remove(id)
      throw new StartFailedError(NAME, spec.name, 'cannot create its output pipes (mkfifo)', err)
    }
    const rec: ProcessRecord = {
      version: 1,
      id,
      name: spec.name,
      spec,
      unsupported,
      state: 'created',
      pid: null,
      pidStart: null,
      exitCode: null,
      restartCount: 0,
      backoffMs: 0,
      stoppedByUser: false,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null
    }
    this.state.write(rec)
    const e = this.track(rec)
    this.emit('created', e)
    if (unsupported.length > 0) this.warn(e, `${NAME}: container ${spec.name} does not honour ${unsupported.map(n => `${n.field} (${n.reason})`).join('; ')}`, unsupported)
    return { id, name: spec.name, unsupported }
  }

  async start (ref: string): Promise<void> {
    const e = this.entry(ref)
    await this.serial(e, async () => {
      if (e.run) return
      if (e.restartTimer) { clearTimeout(e.restartTimer); e.restartTimer = undefined }
      Object.assign(e.rec, { stoppedByUser: false, restartCount: 0, backoffMs: 0 })
      await this.launch(e)
    })
  }

  /**
   * Spawn the workload; resolves once it runs. A command that cannot be executed behaves as under
   * Docker's init: the container starts and dies at once with 127 (not found) or 126, the reason in
   * its stderr log, and the restart policy applies. Throws StartFailedError when its directories
   * cannot be prepared.
   */
  private async launch (e: Entry): Promise<void> {
    const spec = e.rec.spec
    const argv = this.argv(spec)
    const cwd = spec.workdir ?? join(e.dir, WORK_DIR)
    try {
      mkdirSync(cwd, { recursive: true })
      for (const m of spec.mounts) if (m.hostPath === m.containerPath) mkdirSync(m.hostPath, { recursive: true })
    } catch (err) {
      throw new StartFailedError(NAME, spec.name, `cannot prepare its directories: ${(err as Error).message}`, err)
    }
    const outFd = openSync(join(e.dir, STDOUT_PIPE), fsConstants.O_RDWR)
    const errFd = openSync(join(e.dir, STDERR_PIPE), fsConstants.O_RDWR)
    const readers = this.pipeReaders(e)
    let child: ChildProcess | undefined
    let failure: NodeJS.ErrnoException | undefined
    try {
      const ids = this.ids(spec.user)
      const c = spawn(argv[0] as string, argv.slice(1), {
        // Its own session and process group: stop signals the whole group, and it outlives this daemon.
        detached: true,
        stdio: ['ignore', outFd, errFd],
        env: this.env(spec),
        cwd,
        ...(ids ? { uid: ids.uid, gid: ids.gid } : {})
      })
      await new Promise<void>(resolve => {
        c.once('spawn', () => { child = c; resolve() })
        c.once('error', (err: NodeJS.ErrnoException) => { failure = err; resolve() })
      })
    } catch (err) {
      failure = err as NodeJS.ErrnoException
    } finally {
      // The child has its copies; ours would keep the pipes open after it exits.
      closeSync(outFd)
      closeSync(errFd)
    }
    if (!child) {
      for (const r of readers) r.close()
      const exitCode = failure?.code === 'ENOENT' ? 127 : 126
      const now = new Date().toISOString()
      e.writer.write('stderr', [`${NAME}: exec ${argv[0] ?? ''} failed: ${failure?.message ?? 'unknown error'}`])
      Object.assign(e.rec, { state: 'exited', exitCode, pid: null, pidStart: null, startedAt: now, finishedAt: now })
      this.emit('started', e)
      this.emit('died', e, { exitCode })
      this.afterExit(e, 0)
      return
    }
    const started = child
    const pid = started.pid as number
    const run = this.newRun(pid, started, readers)
    e.run = run
    Object.assign(e.rec, { state: 'running', pid, pidStart: processStart(pid), startedAt: new Date(run.startedAt).toISOString() })
    this.state.write(e.rec)
    started.once('exit', (code, signal) => { void this.exited(e, run, code ?? 128 + signalNumber(signal)) })
    this.emit('started', e)
  }

  /** The main process of `run` ended (exitCode null: unknown). Cleans up, records, applies the restart policy. */
  private async exited (e: Entry, run: Run, exitCode: number | null): Promise<void> {
    if (run.done || this.closed) return
    run.done = true
    if (run.poll) clearInterval(run.poll)
    // A container ends with its main process: whatever else it started goes too.
    killGroup(run.pid, 'SIGKILL')
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.all(run.readers.map(r => r.drained)), new Promise(resolve => { timer = setTimeout(resolve, DRAIN_TIMEOUT_MS) })])
    clearTimeout(timer)
    for (const r of run.readers) r.close()
    if (this.closed) return
    e.run = undefined
    Object.assign(e.rec, { state: 'exited', exitCode, pid: null, pidStart: null, finishedAt: new Date().toISOString() })
    this.emit('died', e, exitCode === null ? {} : { exitCode })
    for (const f of e.followers) f.end()
    e.followers.clear()
    if (run.stopping) {
      this.state.write(e.rec)
      this.emit('stopped', e)
    } else {
      this.afterExit(e, Date.now() - run.startedAt)
    }
    run.resolveExited()
  }

  /** Restart per policy (after a backoff delay) or leave it exited. */
  private afterExit (e: Entry, ranMs: number): void {
    const rec = e.rec
    if (shouldRestart(rec.spec.restart, { exitCode: rec.exitCode, stoppedByUser: rec.stoppedByUser, restartCount: rec.restartCount })) {
      rec.backoffMs = nextDelay(rec.backoffMs, ranMs, this.backoff)
      rec.state = 'restarting'
      e.restartTimer = setTimeout(() => {
        e.restartTimer = undefined
        void this.serial(e, async () => { await this.restartNow(e) })
      }, rec.backoffMs)
    }
    this.state.write(rec)
  }

  private async restartNow (e: Entry): Promise<void> {
    if (this.closed || e.rec.state !== 'restarting' || e.run) return
    e.rec.restartCount++
    try {
      await this.launch(e)
    } catch (err) {
      this.warn(e, (err as Error).message)
      this.afterExit(e, 0)
    }
  }

  async stop (ref: string, opts: StopOptions = {}): Promise<void> {
    const e = this.entry(ref)
    await this.serial(e, async () => { await this.halt(e, opts.timeoutMs ?? STOP_TIMEOUT_MS) })
  }

  private async halt (e: Entry, timeoutMs: number): Promise<void> {
    e.rec.stoppedByUser = true
    if (e.restartTimer) {
      clearTimeout(e.restartTimer)
      e.restartTimer = undefined
      e.rec.state = 'exited'
      this.state.write(e.rec)
      this.emit('stopped', e)
      return
    }
    const run = e.run
    if (!run) { this.state.write(e.rec); return }
    run.stopping = true
    this.state.write(e.rec)
    killGroup(run.pid, 'SIGTERM')
    const kill = setTimeout(() => killGroup(run.pid, 'SIGKILL'), timeoutMs)
    await run.exited
    clearTimeout(kill)
  }

  async remove (ref: string, opts: { force?: boolean } = {}): Promise<void> {
    const e = this.entry(ref)
    await this.serial(e, async () => {
      if (!this.entries.has(e.rec.id)) throw new ContainerNotFoundError(NAME, ref)
      if ((e.run || e.restartTimer) && !opts.force) throw new ContainerRunningError(NAME, ref, 'remove')
      if (e.run || e.restartTimer) await this.halt(e, 0)
      e.writer.close()
      for (const f of e.followers) f.end()
      this.entries.delete(e.rec.id)
      this.state.remove(e.rec.id)
      this.emit('removed', e)
    })
  }

  async inspect (ref: string): Promise<ContainerInfo> {
    const r = this.entry(ref).rec
    return {
      id: r.id,
      name: r.name,
      image: r.spec.image,
      labels: r.spec.labels,
      state: r.state,
      running: r.state === 'running',
      pid: r.pid,
      exitCode: r.exitCode,
      restartCount: r.restartCount,
      createdAt: new Date(r.createdAt),
      startedAt: r.startedAt ? new Date(r.startedAt) : null,
      finishedAt: r.finishedAt ? new Date(r.finishedAt) : null,
      network: 'host',
      ports: r.spec.ports,
      restart: r.spec.restart
    }
  }

  async list (labels: Labels): Promise<ContainerSummary[]> {
    if (this.closed) throw new RuntimeClosedError(NAME, 'list containers')
    return [...this.entries.values()].filter(e => matches(e.rec.spec.labels, labels)).map(({ rec }) => ({
      id: rec.id, name: rec.name, image: rec.spec.image, labels: rec.spec.labels, state: rec.state, running: rec.state === 'running'
    }))
  }

  async logs (ref: string, opts: LogOptions = {}): Promise<Stream<LogLine>> {
    const e = this.entry(ref)
    // Reading the files and subscribing happen in one tick, and lines are written synchronously: no gap, no repeat.
    const ch: Channel<LogLine> = new Channel<LogLine>(() => { e.followers.delete(ch) })
    for (const l of readLogs(e.dir, { ...(opts.since ? { since: opts.since } : {}), ...(opts.tail !== undefined ? { tail: opts.tail } : {}), ...(this.opts.logRotation?.maxFiles !== undefined ? { maxFiles: this.opts.logRotation.maxFiles } : {}) })) ch.push(l)
    if (opts.follow && e.run && !e.run.done) e.followers.add(ch)
    else ch.end()
    return ch
  }

  async exec (ref: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const e = this.entry(ref)
    if (!e.run) throw new ContainerNotRunningError(NAME, ref, 'exec')
    const spec = e.rec.spec
    if (cmd.length === 0) throw new InvalidSpecError('cmd', 'exec needs a command', { container: ref })
    const user = opts.user ?? spec.user
    if (user !== undefined && !resolveUser(user)) throw new InvalidSpecError('user', `user ${user} is not known on this host`, { container: ref })
    const ids = this.ids(user)
    const child = spawn(cmd[0] as string, cmd.slice(1), {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: this.env(spec, opts.env),
      cwd: opts.workdir ?? spec.workdir ?? join(e.dir, WORK_DIR),
      ...(ids ? { uid: ids.uid, gid: ids.gid } : {})
    })
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] }
    const size = { stdout: 0, stderr: 0 }
    for (const s of ['stdout', 'stderr'] as const) {
      child[s]?.on('data', (chunk: Buffer) => {
        opts[s]?.write(chunk)
        if (size[s] < EXEC_CAPTURE_BYTES) { out[s].push(chunk); size[s] += chunk.length }
      })
    }
    const exitCode = await new Promise<number>((resolve, reject) => {
      const onAbort = (): void => { if (child.pid) killGroup(child.pid, 'SIGKILL'); reject(opts.signal?.reason) }
      if (opts.signal?.aborted) { onAbort(); return }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      child.once('error', (err: NodeJS.ErrnoException) => {
        opts.signal?.removeEventListener('abort', onAbort)
        // What a shell answers: 127 command not found, 126 found but not runnable.
        const msg = `exec: ${cmd[0] ?? ''}: ${err.code === 'ENOENT' ? 'executable file not found' : err.message}\n`
        out.stderr.push(Buffer.from(msg))
        resolve(err.code === 'ENOENT' ? 127 : 126)
      })
      child.once('close', (code, signal) => {
        opts.signal?.removeEventListener('abort', onAbort)
        resolve(code ?? 128 + signalNumber(signal))
      })
    })
    return { exitCode, stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8') }
  }

  async events (filter: { labels?: Labels } = {}): Promise<Stream<RuntimeEvent>> {
    if (this.closed) throw new RuntimeClosedError(NAME, 'subscribe to events')
    const sub = { ch: undefined as unknown as Channel<RuntimeEvent>, labels: filter.labels ?? {} }
    sub.ch = new Channel<RuntimeEvent>(() => { this.subscribers.delete(sub) })
    this.subscribers.add(sub)
    return sub.ch
  }

  async close (): Promise<void> {
    if (this.closed) return
    for (const e of this.entries.values()) {
      if (e.restartTimer) clearTimeout(e.restartTimer)
      const run = e.run
      if (run) {
        if (run.poll) clearInterval(run.poll)
        run.child?.removeAllListeners('exit')
        run.child?.unref() // it keeps running; this process may exit without it
        // Closing a reader stores its unterminated last line; later output waits in the pipe.
        for (const r of run.readers) r.close()
        run.resolveExited()
      }
      e.writer.close()
      for (const f of e.followers) f.end()
    }
    this.closed = true
    for (const s of [...this.subscribers]) s.ch.end()
    this.state.unlock()
  }
}
