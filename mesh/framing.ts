// Length-prefixed frames (unsigned LEB128 varint + bytes) over libp2p streams, for the mesh's own
// protocols (sync, heartbeats, request/response).
import type { Stream } from '@libp2p/interface'
import { ProtocolError } from './errors.js'

/** A chunk as libp2p yields it: a Uint8Array or a Uint8ArrayList. */
type Chunk = Uint8Array | { subarray(): Uint8Array }

/** Encodes one frame: varint length, then the bytes. */
export function frame (payload: Uint8Array): Uint8Array {
  let n = payload.length
  const head: number[] = []
  do {
    let byte = n & 0x7f
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    head.push(byte)
  } while (n > 0)
  const out = new Uint8Array(head.length + payload.length)
  out.set(head, 0)
  out.set(payload, head.length)
  return out
}

/** Pull-based reader of frames from a stream source. Throws ProtocolError on a frame over `maxBytes`. */
export class FrameReader {
  private readonly it: AsyncIterator<Chunk>
  private buf: Uint8Array = new Uint8Array(0)
  private readonly maxBytes: number

  constructor (source: AsyncIterable<Chunk>, maxBytes: number) {
    this.it = source[Symbol.asyncIterator]()
    this.maxBytes = maxBytes
  }

  /** The next frame, or undefined when the stream ended cleanly between frames. */
  async next (): Promise<Uint8Array | undefined> {
    for (;;) {
      const parsed = this.parse()
      if (parsed) return parsed
      const { value, done } = await this.it.next()
      if (done) {
        if (this.buf.length) throw new ProtocolError(`stream ended inside a frame (${this.buf.length} bytes pending)`)
        return undefined
      }
      const chunk = value instanceof Uint8Array ? value : value.subarray()
      this.buf = this.buf.length ? concat(this.buf, chunk) : chunk
    }
  }

  /** Stops reading (lets the source clean up). */
  async close (): Promise<void> {
    await this.it.return?.()
  }

  private parse (): Uint8Array | undefined {
    let len = 0
    let mul = 1
    let i = 0
    for (;; i++) {
      if (i >= this.buf.length) return undefined
      if (i >= 5) throw new ProtocolError('frame length varint is too long')
      const b = this.buf[i]!
      len += (b & 0x7f) * mul
      mul *= 128
      if ((b & 0x80) === 0) break
    }
    if (len > this.maxBytes) throw new ProtocolError(`frame of ${len} bytes exceeds the limit of ${this.maxBytes}`)
    const start = i + 1
    if (this.buf.length < start + len) return undefined
    const out = this.buf.subarray(start, start + len)
    this.buf = this.buf.subarray(start + len)
    return out
  }
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/**
 * Writer side: frames pushed here are sent in order through `stream.sink`. `done` settles when
 * the sink finishes (after end()) or fails (stream reset).
 */
export class FrameWriter {
  private readonly queue: Uint8Array[] = []
  private wake: (() => void) | undefined
  private ended = false
  readonly done: Promise<void>

  constructor (stream: Pick<Stream, 'sink'>) {
    this.done = stream.sink(this.source())
    // a stream reset while nobody awaits `done` (the reader failed first, or the connection was
    // closed) must not become an unhandled rejection that kills the process; awaiters still see it
    this.done.catch(() => {})
  }

  /** Queues one frame. Ignored after end(). */
  write (payload: Uint8Array): void {
    if (this.ended) return
    this.queue.push(frame(payload))
    this.wake?.()
  }

  /** Frames queued but not yet taken by the stream (back-pressure indicator). */
  get pending (): number { return this.queue.length }

  /** Ends the write side once queued frames are sent. */
  end (): void {
    this.ended = true
    this.wake?.()
  }

  private async * source (): AsyncGenerator<Uint8Array> {
    for (;;) {
      while (this.queue.length) yield this.queue.shift()!
      if (this.ended) return
      await new Promise<void>(resolve => { this.wake = resolve })
      this.wake = undefined
    }
  }
}
