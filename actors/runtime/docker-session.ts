// Interactive commands in Docker containers (`monk shell`, `monk exec -it`): an exec with the
// input attached and, for a terminal, Tty (the engine then sends raw output, not multiplexed
// frames) resized through the exec's resize endpoint. The exit code is read from the exec's
// inspect once its stream ended.
import type Docker from 'dockerode'
import type { Duplex } from 'node:stream'
import { FrameDemuxer } from './lines.js'
import { RuntimeError } from './errors.js'
import type { ExecSession, SessionOptions } from './runtime.js'

/** How long after the stream's end the engine may take to record the exit code. */
const EXIT_CODE_WAIT_MS = 2000

export async function dockerSession (docker: Docker, ref: string, cmd: string[], opts: SessionOptions): Promise<ExecSession> {
  const ex = await docker.getContainer(ref).exec({
    Cmd: cmd,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: opts.tty,
    ...(opts.env ? { Env: Object.entries(opts.env).map(([k, v]) => `${k}=${v}`) } : {}),
  })
  const stream = await ex.start({ hijack: true, stdin: true, Tty: opts.tty }) as unknown as Duplex
  const listeners: Array<(s: 'stdout' | 'stderr', d: Uint8Array) => void> = []
  const early: Array<['stdout' | 'stderr', Uint8Array]> = []
  const emit = (s: 'stdout' | 'stderr', d: Uint8Array): void => {
    if (listeners.length === 0) early.push([s, d])
    for (const l of listeners) l(s, d)
  }
  const demux = new FrameDemuxer()
  stream.on('data', (chunk: Buffer) => {
    if (opts.tty) emit('stdout', chunk)
    else demux.push(chunk, (s, payload) => { emit(s, payload) })
  })
  const resize = (cols: number, rows: number): void => {
    ex.resize({ w: cols, h: rows }).catch(() => { /* the exec ended meanwhile */ })
  }
  if (opts.tty && opts.cols !== undefined && opts.rows !== undefined) resize(opts.cols, opts.rows)
  const ended = new Promise<void>(resolve => {
    stream.once('end', resolve)
    stream.once('close', resolve)
    stream.once('error', () => { resolve() })
  })
  const exited = ended.then(async () => {
    const until = Date.now() + EXIT_CODE_WAIT_MS
    for (;;) {
      const info = await ex.inspect()
      if (!info.Running && info.ExitCode !== null) return info.ExitCode
      if (Date.now() > until) throw new RuntimeError('engine-error', `docker: exec ${cmd.join(' ')} in ${ref} ended without an exit code`, { container: ref })
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  })
  exited.catch(() => {})
  return {
    onOutput: fn => {
      listeners.push(fn)
      for (const [s, d] of early.splice(0)) fn(s, d)
    },
    write: d => { if (!stream.destroyed) stream.write(d) },
    // a terminal's end of input is ^D (a half-close would end the exec's connection, output and all)
    endInput: () => { if (!stream.destroyed) { if (opts.tty) stream.write('\x04'); else stream.end() } },
    resize,
    exited,
    // Docker cannot kill an exec: closing its stream hangs up the terminal (SIGHUP to a shell)
    kill: () => { stream.destroy() },
  }
}
