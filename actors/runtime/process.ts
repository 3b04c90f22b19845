// The process runtime: a container's entrypoint/cmd (or `bash` via `sh -c`) runs as a supervised
// host process in its own process group, with restart policy, piped and rotated logs, and state
// on disk so a restarted daemon adopts what still runs. The embedded default without an engine.
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, constants as fsConstants, mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { Channel } from './channel.js'
import { ADOPTED_POLL_MS, DRAIN_TIMEOUT_MS, STOP_TIMEOUT_MS, defaultProcessStateDir } from './defaults.js'
import {
  ContainerNotFoundError, ContainerNotRunningError, ContainerRunningError, InvalidSpecError, NameConflictError, RuntimeClosedError,
  StartFailedError
} from './errors.js'
import type { StdStream } from './lines.js'
import { hostNotes, killGroup, resolveUser, runCommand, signalNumber, switchableIds, workloadArgv, workloadEnv } from './process-host.js'
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
import { validName } from './spec.js'

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

function matches (have: Labels, want: Labels): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v)
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
    const records = this.state.readAll((id, why) => { this.warn(undefined, `${NAME}: container record ${id} in ${this.state.root} cannot be read (${why}); it is left alone`) })
    for (const rec of records) {
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
    let readers: PipeReader[] = []
    try {
      readers = this.pipeReaders(e)
    } catch (err) {
      // Its pipes are gone: it runs on unread; stop and remove still reach it.
      this.warn(e, `${NAME}: cannot read the output of adopted container ${e.rec.name}: ${(err as Error).message}`)
    }
    const run = this.newRun(pid, undefined, readers)
    run.startedAt = e.rec.startedAt ? Date.parse(e.rec.startedAt) : Date.now()
    const pidStart = e.rec.pidStart
    run.poll = setInterval(() => { if (!sameProcessAlive(pid, pidStart)) this.exitedSafely(e, run, null) }, this.opts.adoptedPollMs ?? ADOPTED_POLL_MS)
    e.run = run
  }

  private newRun (pid: number, child: ChildProcess | undefined, readers: PipeReader[]): Run {
    let resolveExited!: () => void
    const exited = new Promise<void>(resolve => { resolveExited = resolve })
    return { pid, child, readers, startedAt: Date.now(), stopping: false, done: false, poll: undefined, exited, resolveExited }
  }

  /** Readers of both pipes (none left open if the second fails). */
  private pipeReaders (e: Entry): PipeReader[] {
    const onLines = (stream: StdStream, lines: string[]): void => {
      if (lines.length === 0 || this.closed) return
      const time = new Date()
      e.writer.write(stream, lines, time)
      for (const f of e.followers) for (const text of lines) f.push({ time, stream, text })
    }
    const out = new PipeReader(join(e.dir, STDOUT_PIPE), 'stdout', onLines)
    try {
      return [out, new PipeReader(join(e.dir, STDERR_PIPE), 'stderr', onLines)]
    } catch (err) {
      out.close()
      throw err
    }
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
    const unsupported = hostNotes(spec)
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
    const argv = workloadArgv(spec)
    const cwd = spec.workdir ?? join(e.dir, WORK_DIR)
    let outFd = -1
    let errFd = -1
    let readers: PipeReader[]
    try {
      mkdirSync(cwd, { recursive: true })
      for (const m of spec.mounts) if (m.hostPath === m.containerPath) mkdirSync(m.hostPath, { recursive: true })
      outFd = openSync(join(e.dir, STDOUT_PIPE), fsConstants.O_RDWR)
      errFd = openSync(join(e.dir, STDERR_PIPE), fsConstants.O_RDWR)
      readers = this.pipeReaders(e)
    } catch (err) {
      for (const fd of [outFd, errFd]) if (fd >= 0) closeSync(fd)
      throw new StartFailedError(NAME, spec.name, `cannot prepare its directories and pipes: ${(err as Error).message}`, err)
    }
    let child: ChildProcess | undefined
    let failure: NodeJS.ErrnoException | undefined
    try {
      const ids = switchableIds(spec.user)
      const c = spawn(argv[0] as string, argv.slice(1), {
        // Its own session and process group: stop signals the whole group, and it outlives this daemon.
        detached: true,
        stdio: ['ignore', outFd, errFd],
        env: workloadEnv(spec),
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
    started.once('exit', (code, signal) => { this.exitedSafely(e, run, code ?? 128 + signalNumber(signal)) })
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
      this.persist(e)
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
    this.persist(e)
  }

  /**
   * Exit handling runs from process events, not from a caller who could be told of a failure: an
   * error there (the state directory on a full disk) is a warning, never an unhandled rejection
   * that ends the daemon. The record is rewritten at the next change, and adoption checks pids.
   */
  private exitedSafely (e: Entry, run: Run, exitCode: number | null): void {
    this.exited(e, run, exitCode).catch(err => { this.warn(e, `${NAME}: handling the exit of ${e.rec.name} failed: ${(err as Error).message}`) })
  }

  /** Writes the record from an event path: a failure (disk full) is a warning, the in-memory state stays right. */
  private persist (e: Entry): void {
    try {
      this.state.write(e.rec)
    } catch (err) {
      this.warn(e, `${NAME}: cannot save the state of ${e.rec.name} in ${this.state.root}: ${(err as Error).message}; it is saved again at its next change`)
    }
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
    if (cmd.length === 0) throw new InvalidSpecError('cmd', 'exec needs a command', { container: ref })
    const spec = e.rec.spec
    const user = opts.user ?? spec.user
    if (user !== undefined && !resolveUser(user)) throw new InvalidSpecError('user', `user ${user} is not known on this host`, { container: ref })
    return await runCommand(cmd, {
      env: workloadEnv(spec, opts.env),
      cwd: opts.workdir ?? spec.workdir ?? join(e.dir, WORK_DIR),
      ids: switchableIds(user),
      ...(opts.stdout ? { stdout: opts.stdout } : {}),
      ...(opts.stderr ? { stderr: opts.stderr } : {}),
      ...(opts.signal ? { signal: opts.signal } : {})
    })
  }

  async events (filter: { labels?: Labels } = {}): Promise<Stream<RuntimeEvent>> {
    if (this.closed) throw new RuntimeClosedError(NAME, 'subscribe to events')
    let sub: { ch: Channel<RuntimeEvent>, labels: Labels } | undefined
    const ch = new Channel<RuntimeEvent>(() => { if (sub) this.subscribers.delete(sub) })
    sub = { ch, labels: filter.labels ?? {} }
    this.subscribers.add(sub)
    return ch
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
