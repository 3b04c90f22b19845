// Byte-stream plumbing shared by the runtimes (pure): Docker's multiplexed stdout/stderr frames,
// and splitting chunks into lines (UTF-8 safe, bounded length).
import { StringDecoder } from 'node:string_decoder'
import { LOG_MAX_LINE_BYTES } from './defaults.js'

export type StdStream = 'stdout' | 'stderr'

/**
 * Docker multiplexes a non-TTY container's output as frames: 1 byte stream (1 stdout, 2 stderr),
 * 3 zero bytes, 4 bytes big-endian length, payload. Chunks may cut frames anywhere.
 */
export class FrameDemuxer {
  private pending: Buffer = Buffer.alloc(0)

  push (chunk: Buffer, onFrame: (stream: StdStream, payload: Buffer) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    let off = 0
    while (this.pending.length - off >= 8) {
      const size = this.pending.readUInt32BE(off + 4)
      if (this.pending.length - off < 8 + size) break
      const kind = this.pending[off]
      const payload = this.pending.subarray(off + 8, off + 8 + size)
      if (kind === 1 || kind === 2) onFrame(kind === 2 ? 'stderr' : 'stdout', payload)
      off += 8 + size
    }
    this.pending = this.pending.subarray(off)
  }

  /** Bytes of an incomplete frame left over (non-zero at end of stream means truncated output). */
  get leftover (): number { return this.pending.length }
}

/** Split a whole (non-streamed) multiplexed buffer, e.g. `logs({follow:false})`'s answer. */
export function demuxBuffer (buf: Buffer): Array<{ stream: StdStream, payload: Buffer }> {
  const out: Array<{ stream: StdStream, payload: Buffer }> = []
  new FrameDemuxer().push(buf, (stream, payload) => out.push({ stream, payload }))
  return out
}

/** Accumulates chunks and hands out complete lines (without `\n`, a trailing `\r` removed); a line longer than `maxBytes` is cut. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8')
  private partial = ''
  private readonly max: number

  constructor (maxBytes: number = LOG_MAX_LINE_BYTES) {
    this.max = maxBytes
  }

  push (chunk: Buffer | string): string[] {
    const text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk))
    const parts = text.split('\n')
    this.partial = parts.pop() ?? ''
    const lines: string[] = []
    for (const p of parts) lines.push(...this.cut(p.endsWith('\r') ? p.slice(0, -1) : p))
    if (Buffer.byteLength(this.partial) > this.max) {
      const cut = this.cut(this.partial)
      this.partial = cut.pop() ?? ''
      lines.push(...cut)
    }
    return lines
  }

  /** The unterminated rest, if any (call at end of stream). */
  flush (): string[] {
    const rest = this.partial + this.decoder.end()
    this.partial = ''
    return rest === '' ? [] : this.cut(rest)
  }

  private cut (line: string): string[] {
    if (line.length <= this.max / 4 || Buffer.byteLength(line) <= this.max) return [line]
    const out: string[] = []
    let cur = ''
    let bytes = 0
    for (const ch of line) {
      const b = Buffer.byteLength(ch)
      if (bytes + b > this.max) { out.push(cur); cur = ''; bytes = 0 }
      cur += ch
      bytes += b
    }
    out.push(cur)
    return out
  }
}

/** Docker's `timestamps: true` prefix: `2026-11-21T05:05:08.837940660Z text`. */
export function splitTimestamp (line: string): { time: Date, text: string } {
  const sp = line.indexOf(' ')
  const stamp = sp < 0 ? line : line.slice(0, sp)
  const time = new Date(stamp)
  if (Number.isNaN(time.getTime())) return { time: new Date(), text: line }
  return { time, text: sp < 0 ? '' : line.slice(sp + 1) }
}
