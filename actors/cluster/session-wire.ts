// The frames of an interactive session (`monk shell`, `monk exec -it`) between the CLI and the
// peer that runs the instance; the CLI's own monkd only passes the bytes on. A frame is one type
// byte, a 32-bit big-endian length and the payload.
//   client → owner: `i` input bytes, `e` end of input, `r` resize {cols, rows}
//   owner → client: `o` stdout bytes, `E` stderr bytes, `x` exit {exitCode}, `f` failure {code, message}
// What starts the session (SessionStart) travels before the frames: in the upgrade request's
// query to the CLI's monkd, in the stream head between peers.

export type FrameType = 'i' | 'e' | 'r' | 'o' | 'E' | 'x' | 'f'

export interface Frame { type: FrameType, payload: Uint8Array }

/** How the session starts: the command, its container, a terminal and its size. */
export interface SessionStart {
  cmd: string[]
  container?: string
  tty: boolean
  cols?: number
  rows?: number
  /** TERM for a terminal (the client's). */
  term?: string
}

/** Largest frame accepted: input and output come in chunks far below it. */
export const FRAME_MAX = 1 << 20

export function encodeFrame (type: FrameType, payload: Uint8Array | object = new Uint8Array(0)): Uint8Array {
  const body = payload instanceof Uint8Array ? payload : Buffer.from(JSON.stringify(payload))
  const out = Buffer.allocUnsafe(5 + body.length)
  out[0] = type.charCodeAt(0)
  out.writeUInt32BE(body.length, 1)
  out.set(body, 5)
  return out
}

export function frameJson (f: Frame): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(Buffer.from(f.payload).toString('utf8'))
    return typeof v === 'object' && v !== null ? v as Record<string, unknown> : {}
  } catch { return {} }
}

/** Cuts a byte stream into frames; throws on a malformed one. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0)

  push (chunk: Uint8Array): Frame[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk])
    const out: Frame[] = []
    while (this.buf.length >= 5) {
      const type = String.fromCharCode(this.buf[0]!)
      const len = this.buf.readUInt32BE(1)
      if (!'ieroExf'.includes(type)) throw new Error(`malformed session frame (type ${this.buf[0]!})`)
      if (len > FRAME_MAX) throw new Error(`session frame of ${len} bytes exceeds ${FRAME_MAX}`)
      if (this.buf.length < 5 + len) break
      out.push({ type: type as FrameType, payload: this.buf.subarray(5, 5 + len) })
      this.buf = this.buf.subarray(5 + len)
    }
    return out
  }
}

/** A SessionStart out of untrusted JSON, or an error naming the field. */
export function parseStart (v: unknown): SessionStart {
  const o = typeof v === 'object' && v !== null ? v as Record<string, unknown> : undefined
  if (!o) throw new SessionError('invalid-body', 'a session needs {cmd, tty}')
  const cmd = o.cmd
  if (!Array.isArray(cmd) || cmd.length === 0 || cmd.length > 4096 || !cmd.every(c => typeof c === 'string')) throw new SessionError('invalid-body', 'cmd: a non-empty list of strings')
  const dim = (k: 'cols' | 'rows'): number | undefined => {
    const n = o[k]
    if (n === undefined) return undefined
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10000) throw new SessionError('invalid-body', `${k}: a whole number from 1 to 10000`)
    return n
  }
  if (o.container !== undefined && (typeof o.container !== 'string' || o.container === '')) throw new SessionError('invalid-body', 'container: a name')
  if (o.term !== undefined && (typeof o.term !== 'string' || !/^[\w.+-]{1,64}$/.test(o.term))) throw new SessionError('invalid-body', 'term: a terminal name like xterm-256color')
  const cols = dim('cols')
  const rows = dim('rows')
  return {
    cmd: cmd as string[], tty: o.tty === true,
    ...(typeof o.container === 'string' ? { container: o.container } : {}),
    ...(cols !== undefined ? { cols } : {}), ...(rows !== undefined ? { rows } : {}),
    ...(typeof o.term === 'string' ? { term: o.term } : {}),
  }
}

/** A session that cannot start; `code` as the control API's (`not-found`, `not-placed`, ...). */
export class SessionError extends Error {
  constructor (readonly code: string, message: string, readonly status?: number) { super(message) }
}
