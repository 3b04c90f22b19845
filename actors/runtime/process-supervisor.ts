// Supervision of the process runtime's host processes: launching a workload in its own process
// group, handling its exit (logs drained, record saved, restart policy with backoff), stopping it,
// and adopting what an earlier daemon left running. ProcessRuntime puts the Runtime API over it.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { closeSync, constants as fsConstants, mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { Channel } from './channel.js'
import { ADOPTED_POLL_MS, DRAIN_TIMEOUT_MS, defaultProcessStateDir } from './defaults.js'
import { RuntimeClosedError, ContainerNotFoundError, StartFailedError } from './errors.js'
import type { StdStream } from './lines.js'
import { killGroup, signalNumber, switchableIds, workloadArgv, workloadEnv } from './process-host.js'
import { LogWriter, PipeReader } from './process-logs.js'
import type { RotationOptions } from './process-logs.js'
import { STDERR_PIPE, STDOUT_PIPE, StateDir, WORK_DIR, processStart, recoverEnv, sameProcessAlive } from './process-state.js'
import type { ProcessRecord } from './process-state.js'
import { DEFAULT_BACKOFF, nextDelay, shouldRestart } from './restart.js'
import type { Backoff } from './restart.js'
import type { FieldNote, Labels, LogLine, RuntimeEvent } from './runtime.js'

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

export const NAME = 'process'

export interface Run {
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

export interface Entry {
  rec: ProcessRecord
  dir: string
  writer: LogWriter
  run: Run | undefined
  restartTimer: NodeJS.Timeout | undefined
  followers: Set<Channel<LogLine>>
  queue: Promise<void>
}

export function matches (have: Labels, want: Labels): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v)
}

/** The lifecycle of each container's host process; the Runtime API is ProcessRuntime's. */
export class ProcessSupervisor {
  readonly endpoint: string
  protected readonly state: StateDir
  protected readonly entries = new Map<string, Entry>()
  protected readonly subscribers = new Set<{ ch: Channel<RuntimeEvent>, labels: Labels }>()
  protected readonly opts: ProcessRuntimeOptions
  protected readonly backoff: Backoff
  private imageNoted = false
  protected closed = false

  protected constructor (opts: ProcessRuntimeOptions) {
    this.opts = opts
    this.state = new StateDir(opts.stateDir ?? defaultProcessStateDir())
    this.endpoint = this.state.root
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF
  }

  // ---- adoption -------------------------------------------------------------------------------

  protected async adopt (): Promise<void> {
    const restart: Entry[] = []
    const records = this.state.readAll((id, why) => { this.warn(undefined, `${NAME}: container record ${id} in ${this.state.root} cannot be read (${why}); it is left alone`) })
    for (const rec of records) {
      const e = this.track(rec)
      // the values of the environment are not on disk (they may be secrets): a live process has them
      const lost = (rec.envNames ?? []).filter(n => rec.spec.env[n] === undefined)
      if (rec.state === 'running' && rec.pid !== null && sameProcessAlive(rec.pid, rec.pidStart)) {
        if (lost.length > 0) Object.assign(rec.spec.env, recoverEnv(rec.pid, lost) ?? {})
        this.attach(e, rec.pid)
      } else if (lost.length > 0 && (rec.state === 'running' || rec.state === 'restarting')) {
        // ended while no daemon watched, and its environment is gone with it: not restarted here
        // with a wrong environment; the runnable that owns it creates it again
        Object.assign(rec, { state: 'exited', exitCode: null, pid: null, pidStart: null, finishedAt: new Date().toISOString() })
        this.warn(e, `${NAME}: container ${rec.name} ended while no daemon watched; its environment is not kept on disk, so it is not restarted here (its runnable creates it again)`)
        this.state.write(rec)
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

  protected track (rec: ProcessRecord): Entry {
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

  protected entry (ref: string, what = 'use a container'): Entry {
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
  protected async serial<T> (e: Entry, op: () => Promise<T>): Promise<T> {
    const p = e.queue.then(op, op)
    e.queue = p.then(() => undefined, () => undefined)
    return await p
  }

  protected emit (type: RuntimeEvent['type'], e: Entry | undefined, extra: Partial<RuntimeEvent> = {}): void {
    const labels = e?.rec.spec.labels ?? {}
    const ev: RuntimeEvent = { type, id: e?.rec.id ?? '', name: e?.rec.name ?? '', labels, time: new Date(), ...extra }
    for (const s of this.subscribers) if (matches(labels, s.labels)) s.ch.push(ev)
  }

  protected warn (e: Entry | undefined, message: string, notes?: FieldNote[]): void {
    this.opts.onWarning?.(message)
    this.emit('warning', e, { message, ...(notes ? { notes } : {}) })
  }

  protected noteImage (image: string): void {
    if (this.imageNoted) return
    this.imageNoted = true
    this.warn(undefined, `${NAME}: images are not used (${image === '' ? 'no image' : `${image} ignored`}); containers run as host processes with their entrypoint/cmd`)
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Spawn the workload; resolves once it runs. A command that cannot be executed behaves as under
   * Docker's init: the container starts and dies at once with 127 (not found) or 126, the reason in
   * its stderr log, and the restart policy applies. Throws StartFailedError when its directories
   * cannot be prepared.
   */
  protected async launch (e: Entry): Promise<void> {
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
    started.once('exit', (code, signal) => { this.exitedSafely(e, run, code ?? 128 + signalNumber(signal)) })
    try {
      this.state.write(e.rec)
    } catch (err) {
      // A process whose record says it never ran would outlive this daemon untracked (a restart
      // could not adopt it, a stop would not find it): it goes, and the start fails with the cause.
      run.stopping = true
      killGroup(pid, 'SIGKILL')
      await run.exited
      throw new StartFailedError(NAME, spec.name, `cannot record its start in ${this.state.root}: ${(err as Error).message}; the process was killed so that none runs untracked`, err)
    }
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

  /**
   * Stops the workload. The process goes first: a record that cannot be saved (a full disk) is a
   * warning, never a reason to leave the process running (chaos seed 3: a stop on a full disk
   * threw before the kill, and the stopped instance ran on next to its new owner's).
   */
  protected async halt (e: Entry, timeoutMs: number): Promise<void> {
    e.rec.stoppedByUser = true
    if (e.restartTimer) {
      clearTimeout(e.restartTimer)
      e.restartTimer = undefined
      e.rec.state = 'exited'
      this.persist(e)
      this.emit('stopped', e)
      return
    }
    const run = e.run
    if (!run) { this.persist(e); return }
    run.stopping = true
    killGroup(run.pid, 'SIGTERM')
    this.persist(e)
    const kill = setTimeout(() => killGroup(run.pid, 'SIGKILL'), timeoutMs)
    await run.exited
    clearTimeout(kill)
  }
}
