// Extra byte streams between peers (operator sessions: `monk shell`, `monk port-forward`), on the
// plumbing of tunnels (tunnel-pipe.ts): the opener sends one head frame (CBOR, varint length), the
// server answers one frame (`[0]` accepted, `[1, code, message]` refused), then both sides carry
// bytes with the stream's back-pressure. Unlike `/monk/tunnel/1` the head is any CBOR value the
// protocol's user defines, and the served side gets the stream itself, not a TCP connection.
import type { Socket } from 'node:net'
import { decode, encode } from 'cborg'
import type { Stream } from '@libp2p/interface'
import { frame } from './framing.js'
import { pipe, readFrame, writer, type Chunk, type Writer } from './tunnel-pipe.js'

/** One side of an accepted stream: bytes after the head both ways. */
export class ByteStream {
  private readonly w: Writer
  private first: Uint8Array

  constructor (private readonly stream: Stream, private readonly src: AsyncIterator<Chunk>, first: Uint8Array, w?: Writer) {
    this.w = w ?? writer(stream)
    this.first = first
  }

  /** The other side's bytes until it ends its writing. */
  async * read (): AsyncGenerator<Uint8Array> {
    if (this.first.length) { const f = this.first; this.first = new Uint8Array(0); yield f }
    for (;;) {
      const { value, done } = await this.src.next()
      if (done === true) return
      yield value instanceof Uint8Array ? value : (value as { subarray(): Uint8Array }).subarray()
    }
  }

  /** Queues bytes; resolves when the queue has room again. */
  async write (b: Uint8Array): Promise<void> {
    this.w.push(b)
    await this.w.waiting()
  }

  /** Ends this side's writing (the other side's read ends). */
  end (): void { this.w.end() }

  abort (why: string): void { this.stream.abort(new Error(why)) }

  /** Pipes a local socket both ways until both directions ended. */
  async pipeSocket (socket: Socket, touch: () => void = () => {}): Promise<void> {
    const first = this.first
    this.first = new Uint8Array(0)
    await pipe(socket, this.stream, { out: () => {}, in: () => {} }, touch, { write: this.w, first, src: this.src })
  }

  /** Closes after the writes queued so far went out. */
  async close (): Promise<void> {
    this.w.end()
    await this.w.done.catch(() => {})
    await this.stream.close().catch(() => {})
  }
}

/** The served side: reads the head; `decide` accepts (the stream is then the handler's) or refuses. */
export async function acceptStream (stream: Stream, timeoutMs: number, decide: (head: unknown) => Promise<{ accept: (s: ByteStream) => Promise<void> } | { code: string, message: string }>): Promise<void> {
  const src = stream.source[Symbol.asyncIterator]()
  let head: unknown
  let rest: Uint8Array
  try {
    const got = await readFrame(src, AbortSignal.timeout(timeoutMs))
    head = decode(got.frame)
    rest = got.rest
  } catch (err) {
    stream.abort(err as Error)
    return
  }
  const w = writer(stream)
  const answer = await decide(head).catch((err: unknown) => ({ code: (err as { code?: string }).code ?? 'internal', message: (err as Error).message ?? String(err) }))
  if (!('accept' in answer)) {
    w.push(frame(encode([1, answer.code, answer.message.slice(0, 2000)])))
    w.end()
    await w.done.catch(() => {})
    await stream.close().catch(() => {})
    return
  }
  w.push(frame(encode([0])))
  await answer.accept(new ByteStream(stream, src, rest, w))
}

/** An error the serving peer answered with (its code kept: `not-found`, `not-running`, ...). */
export class StreamRefusedError extends Error {
  constructor (readonly code: string, message: string) { super(message) }
}

/** The opening side: sends the head, waits for the answer; refused → StreamRefusedError. */
export async function openWithHead (stream: Stream, head: unknown, signal: AbortSignal): Promise<ByteStream> {
  const w = writer(stream)
  w.push(frame(encode(head)))
  const src = stream.source[Symbol.asyncIterator]()
  const got = await readFrame(src, signal)
  const v: unknown = decode(got.frame)
  if (!Array.isArray(v)) throw new Error('malformed stream answer')
  if (v[0] !== 0) {
    stream.abort(new Error('refused'))
    throw new StreamRefusedError(typeof v[1] === 'string' ? v[1] : 'refused', typeof v[2] === 'string' ? v[2] : 'refused by the serving peer')
  }
  return new ByteStream(stream, src, got.rest, w)
}
