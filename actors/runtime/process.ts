// The process runtime: a container's entrypoint/cmd (or `bash` via `sh -c`) runs as a supervised
// host process in its own process group, with restart policy, piped and rotated logs, and state
// on disk so a restarted daemon adopts what still runs. The embedded default without an engine.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Channel } from './channel.js'
import { STOP_TIMEOUT_MS } from './defaults.js'
import {
  ContainerNotFoundError, ContainerNotRunningError, ContainerRunningError, InvalidSpecError, NameConflictError, RuntimeClosedError,
  StartFailedError
} from './errors.js'
import { hostNotes, resolveUser, runCommand, switchableIds, workloadEnv } from './process-host.js'
import { readLogs } from './process-logs.js'
import { processSession } from './process-session.js'
import { STDERR_PIPE, STDOUT_PIPE, WORK_DIR } from './process-state.js'
import type { ProcessRecord } from './process-state.js'
import { NAME, ProcessSupervisor, matches } from './process-supervisor.js'
import type { ProcessRuntimeOptions } from './process-supervisor.js'
import type {
  ContainerInfo, ContainerSpec, ContainerSummary, CreateResult, EnsureImageResult, ExecOptions, ExecResult, Labels,
  ExecSession, LogLine, LogOptions, Runtime, RuntimeEvent, SessionOptions, StopOptions, Stream
} from './runtime.js'
import { validName } from './spec.js'

export type { ProcessRuntimeOptions } from './process-supervisor.js'

export class ProcessRuntime extends ProcessSupervisor implements Runtime {
  readonly kind = 'process' as const

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
    super(opts)
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

  async stop (ref: string, opts: StopOptions = {}): Promise<void> {
    const e = this.entry(ref)
    await this.serial(e, async () => { await this.halt(e, opts.timeoutMs ?? STOP_TIMEOUT_MS) })
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
      ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
      ...(opts.stdout ? { stdout: opts.stdout } : {}),
      ...(opts.stderr ? { stderr: opts.stderr } : {}),
      ...(opts.signal ? { signal: opts.signal } : {})
    })
  }

  async session (ref: string, cmd: string[], opts: SessionOptions): Promise<ExecSession> {
    const e = this.entry(ref)
    if (!e.run) throw new ContainerNotRunningError(NAME, ref, 'exec')
    if (cmd.length === 0) throw new InvalidSpecError('cmd', 'exec needs a command', { container: ref })
    const spec = e.rec.spec
    return await processSession(cmd, { env: workloadEnv(spec), cwd: spec.workdir ?? join(e.dir, WORK_DIR), ids: switchableIds(spec.user) }, opts)
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
