// The terminal side of `monk shell` and `monk exec -it`: an upgraded control API stream to monkd
// (api/upgrade-client.ts) carrying session frames (actors/cluster/session-wire.ts) to the peer that
// runs the instance. With a terminal, this one is put in raw mode: every key, Ctrl-C included,
// goes to the remote program, and window size changes follow. Without one (`exec -i` in a pipe),
// input is sent as it comes and its end is passed on.
import { encodeFrame, frameJson, FrameReader, type SessionStart } from '../../actors/cluster/session-wire.js'
import { SESSION_PREFIX } from '../api/protocol.js'
import { CliError, exitCodes } from '../output.js'
import type { Session } from './session.js'

export function sessionUrl (path: string, start: SessionStart): string {
  return `${SESSION_PREFIX}${path.split('/').map(encodeURIComponent).join('/')}?start=${encodeURIComponent(JSON.stringify(start))}`
}

/** Runs `cmd` in `path` attached to this process's terminal (or pipes); resolves with its exit code. */
export async function attach (s: Session, path: string, o: { cmd: string[], container?: string | undefined, tty: boolean, input: boolean }): Promise<number> {
  const stdin = process.stdin
  const raw = o.tty && stdin.isTTY
  const size = (): { cols?: number, rows?: number } => process.stdout.isTTY ? { cols: process.stdout.columns, rows: process.stdout.rows } : {}
  const start: SessionStart = { cmd: o.cmd, tty: o.tty, ...(o.container !== undefined ? { container: o.container } : {}), ...(o.tty ? size() : {}), ...(o.tty && process.env.TERM ? { term: process.env.TERM } : {}) }
  const { socket } = await s.upgrade(sessionUrl(path, start))
  const send = (b: Uint8Array): void => { if (!socket.destroyed) socket.write(b) }
  const onInput = (d: Buffer): void => { send(encodeFrame('i', d)) }
  const onEnd = (): void => { send(encodeFrame('e')) }
  const onResize = (): void => { send(encodeFrame('r', size())) }
  if (raw) stdin.setRawMode(true)
  if (o.input) {
    stdin.on('data', onInput)
    stdin.once('end', onEnd)
    stdin.resume()
  } else if (!o.tty) send(encodeFrame('e'))
  if (o.tty) process.stdout.on('resize', onResize)
  try {
    return await new Promise<number>((resolve, reject) => {
      const reader = new FrameReader()
      let done = false
      socket.on('data', (chunk: Buffer) => {
        let frames
        try { frames = reader.push(chunk) } catch (err) { done = true; socket.destroy(); reject(new CliError('bad-response', `monkd sent a malformed session frame: ${(err as Error).message}`)); return }
        for (const f of frames) {
          if (f.type === 'o') process.stdout.write(f.payload)
          else if (f.type === 'E') process.stderr.write(f.payload)
          else if (f.type === 'x') { done = true; const c = frameJson(f).exitCode; resolve(typeof c === 'number' ? c : 1) }
          else if (f.type === 'f') { done = true; const j = frameJson(f); reject(new CliError(typeof j.code === 'string' ? j.code : 'internal', typeof j.message === 'string' ? j.message : 'the session failed')) }
        }
      })
      socket.on('error', () => {})
      socket.once('close', () => {
        if (!done) reject(new CliError('stream-interrupted', `the session in ${path} was cut before its command ended (monkd or the peer that runs it went away)`, exitCodes.failure))
      })
    })
  } finally {
    process.stdout.off('resize', onResize)
    stdin.off('data', onInput)
    stdin.off('end', onEnd)
    if (raw) stdin.setRawMode(false)
    stdin.pause()
    socket.destroy()
  }
}
