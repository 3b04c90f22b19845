// Interactive commands of the process runtime (`monk shell`, `monk exec -it`): a pseudo-terminal
// through @lydell/node-pty (node-pty with prebuilt binaries: nothing to compile), imported only
// when a terminal is asked for; without a terminal, plain pipes. The command runs in its own
// process group, with the container's environment, directory and user.
import { spawn } from 'node:child_process'
import { constants as osConstants } from 'node:os'
import { RuntimeError } from './errors.js'
import { killGroup, type Ids } from './process-host.js'
import type { ExecSession, SessionOptions } from './runtime.js'

export interface HostCommand { env: Record<string, string>, cwd: string, ids: Ids | undefined }

type Output = (s: 'stdout' | 'stderr', d: Uint8Array) => void

/** Output listeners, holding what came before the first one subscribed. */
function outputs (): { emit: Output, on: (fn: Output) => void } {
  const listeners: Output[] = []
  const early: Array<[ 'stdout' | 'stderr', Uint8Array ]> = []
  return {
    emit: (s, d) => { if (listeners.length === 0) early.push([s, d]); for (const l of listeners) l(s, d) },
    on: fn => { listeners.push(fn); for (const [s, d] of early.splice(0)) fn(s, d) },
  }
}

export async function processSession (cmd: string[], host: HostCommand, opts: SessionOptions): Promise<ExecSession> {
  const env = { ...host.env, ...opts.env }
  return opts.tty ? await ptySession(cmd, { ...host, env }, opts) : pipeSession(cmd, { ...host, env })
}

async function ptySession (cmd: string[], host: HostCommand, opts: SessionOptions): Promise<ExecSession> {
  let pty: typeof import('@lydell/node-pty')
  try {
    pty = await import('@lydell/node-pty')
  } catch (err) {
    throw new RuntimeError('engine-error', `process: a terminal needs the npm package @lydell/node-pty, which does not load here: ${(err as Error).message}`)
  }
  let p: ReturnType<typeof pty.spawn>
  try {
    p = pty.spawn(cmd[0] ?? '/bin/sh', cmd.slice(1), {
      name: opts.env?.TERM ?? 'xterm', cols: opts.cols ?? 80, rows: opts.rows ?? 24, cwd: host.cwd, env: host.env,
      ...(host.ids ? { uid: host.ids.uid, gid: host.ids.gid } : {}),
    })
  } catch (err) {
    throw new RuntimeError('engine-error', `process: cannot start ${cmd[0] ?? ''} on a terminal: ${(err as Error).message}`)
  }
  const out = outputs()
  p.onData(d => { out.emit('stdout', Buffer.from(d, 'utf8')) })
  const exited = new Promise<number>(resolve => {
    p.onExit(e => { resolve(e.signal !== undefined && e.signal !== 0 ? 128 + e.signal : e.exitCode) })
  })
  let done = false
  void exited.then(() => { done = true })
  return {
    onOutput: out.on,
    write: d => { if (!done) p.write(Buffer.from(d).toString('utf8')) },
    endInput: () => { if (!done) p.write('\x04') },
    resize: (cols, rows) => { if (!done) p.resize(cols, rows) },
    exited,
    kill: () => { if (!done) { try { process.kill(-p.pid, 'SIGHUP') } catch { p.kill('SIGHUP') } } },
  }
}

function pipeSession (cmd: string[], host: HostCommand): ExecSession {
  const child = spawn(cmd[0] ?? '/bin/sh', cmd.slice(1), {
    detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: host.env, cwd: host.cwd,
    ...(host.ids ? { uid: host.ids.uid, gid: host.ids.gid } : {}),
  })
  const out = outputs()
  child.stdin.on('error', () => {})
  child.stdout.on('data', (b: Buffer) => { out.emit('stdout', b) })
  child.stderr.on('data', (b: Buffer) => { out.emit('stderr', b) })
  const exited = new Promise<number>(resolve => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      out.emit('stderr', Buffer.from(`exec: ${cmd[0] ?? ''}: ${err.code === 'ENOENT' ? 'executable file not found' : err.message}\n`))
      resolve(err.code === 'ENOENT' ? 127 : 126)
    })
    child.once('close', (code, signal) => { resolve(code ?? 128 + (signal ? osConstants.signals[signal] ?? 9 : 9)) })
  })
  return {
    onOutput: out.on,
    write: d => { if (child.stdin.writable) child.stdin.write(d) },
    endInput: () => { child.stdin.end() },
    resize: () => {},
    exited,
    kill: () => { if (child.pid !== undefined && child.exitCode === null) killGroup(child.pid, 'SIGKILL') },
  }
}
