// The byte plumbing of tunnels (tunnel.ts): reading the header frame off a libp2p stream, a
// bounded write queue into a stream's sink, and piping a TCP socket and a stream both ways with
// half-close, back-pressure and byte counts.
import type { Socket } from 'node:net'
import { decode, encode } from 'cborg'
import type { Stream } from '@libp2p/interface'
import { frame } from './framing.js'
import type { EndpointStats, TunnelRequest } from './tunnel.js'

const HEAD_MAX = 4096
const TOUCH_EVERY_MS = 5000
/** Bytes read from a socket ahead of the stream: a few yamux frames in flight, bounded memory per tunnel. */
const QUEUE_BYTES = 512 * 1024
/** Most queued chunks sent as one write (socket reads are at most 64 KiB each). */
const MAX_BATCH = 16

export type Chunk = Uint8Array | { subarray(): Uint8Array }
const bytesOf = (c: Chunk): Uint8Array => c instanceof Uint8Array ? c : c.subarray()

/** Reads one varint-prefixed frame; returns it and the bytes read past it. */
export async function readFrame (src: AsyncIterator<Chunk>, signal: AbortSignal): Promise<{ frame: Uint8Array, rest: Uint8Array }> {
  let buf = new Uint8Array(0)
  const aborted = new Promise<never>((_resolve, reject) => {
    if (signal.aborted) reject(new Error('timed out waiting for the tunnel header'))
    signal.addEventListener('abort', () => { reject(new Error('timed out waiting for the tunnel header')) }, { once: true })
  })
  aborted.catch(() => {})
  for (;;) {
    let len = 0
    let mul = 1
    let i = 0
    let complete = false
    for (; i < buf.length && i < 3; i++) {
      const b = buf[i]!
      len += (b & 0x7f) * mul
      mul *= 128
      if ((b & 0x80) === 0) { complete = true; break }
    }
    if (!complete && i >= 3) throw new Error('tunnel header length is too long')
    if (complete && len > HEAD_MAX) throw new Error(`tunnel header of ${len} bytes exceeds ${HEAD_MAX}`)
    if (complete && buf.length >= i + 1 + len) return { frame: buf.subarray(i + 1, i + 1 + len), rest: buf.subarray(i + 1 + len) }
    const { value, done } = await Promise.race([src.next(), aborted])
    if (done === true) throw new Error('the stream ended before the tunnel header')
    const c = bytesOf(value as Chunk)
    const next = new Uint8Array(buf.length + c.length)
    next.set(buf, 0)
    next.set(c, buf.length)
    buf = next
  }
}

/** Sends the request on a fresh stream and reads the answer; data may follow it on the same source. */
export async function openHead (stream: Stream, request: TunnelRequest, signal: AbortSignal, version = 1, extra: unknown[] = []): Promise<unknown[]> {
  const w = writer(stream)
  w.push(frame(encode([version, request.consumer, request.target, request.service, ...extra])))
  ;(stream as StreamWithWriter).monkWriter = w
  const src = stream.source[Symbol.asyncIterator]()
  const got = await readFrame(src, signal)
  ;(stream as StreamWithWriter).monkRead = { src, first: got.rest }
  const v: unknown = decode(got.frame)
  if (!Array.isArray(v)) throw new Error('malformed tunnel answer')
  return v
}

export type StreamWithWriter = Stream & { monkWriter?: Writer, monkRead?: { src: AsyncIterator<Chunk>, first: Uint8Array } }

export interface Writer { push: (b: Uint8Array) => void, end: () => void, done: Promise<void>, waiting: () => Promise<void> }

/**
 * The write side of a stream as a queue fed by the pipe. It holds up to QUEUE_BYTES, so the socket
 * is read ahead while the stream sends (pipelining), and no further (back-pressure).
 */
export function writer (stream: Stream): Writer {
  const queue: Uint8Array[] = []
  let queued = 0
  let ended = false
  let wake: (() => void) | undefined
  let room: (() => void) | undefined
  async function * source (): AsyncGenerator<Uint8Array> {
    for (;;) {
      while (queue.length) {
        // everything queued goes as one write: yamux cuts it into full frames, each one Noise
        // message and one socket write, instead of a short frame after every socket chunk
        const n = Math.min(queue.length, MAX_BATCH)
        const b = n === 1 ? queue.shift()! : Buffer.concat(queue.splice(0, n))
        queued -= b.length
        if (queued <= QUEUE_BYTES) room?.()
        yield b
      }
      if (ended) return
      await new Promise<void>(resolve => { wake = resolve })
      wake = undefined
    }
  }
  const done = stream.sink(source())
  done.catch(() => {})
  const failed = done.then(() => { throw new Error('the stream closed') })
  failed.catch(() => {})
  return {
    push: b => { queue.push(b); queued += b.length; wake?.() },
    end: () => { ended = true; wake?.() },
    done,
    // resolves once the queue has room again; rejects when the stream failed or closed
    waiting: async () => {
      if (queued > QUEUE_BYTES) await Promise.race([new Promise<void>(resolve => { room = resolve }), failed])
    },
  }
}

/**
 * Pipes `socket` and `stream` both ways until both directions ended: socket→stream then stream
 * write close; stream→socket then socket end. An error on either side destroys both.
 */
export async function pipe (socket: Socket, stream: Stream, count: { out: (n: number) => void, in: (n: number) => void }, touch: () => void,
  opened?: { write: Writer, first: Uint8Array, src: AsyncIterator<Chunk> }): Promise<void> {
  const st = stream as StreamWithWriter
  const w = opened?.write ?? st.monkWriter ?? writer(stream)
  const read = opened ? { src: opened.src, first: opened.first } : st.monkRead ?? { src: stream.source[Symbol.asyncIterator](), first: new Uint8Array(0) }
  let lastTouch = Date.now()
  const touchSometimes = (): void => { const now = Date.now(); if (now - lastTouch > TOUCH_EVERY_MS) { lastTouch = now; touch() } }
  let broken = false
  const breakAll = (err: Error): void => {
    if (broken) return
    broken = true
    socket.destroy()
    stream.abort(err)
  }
  socket.on('error', err => { breakAll(err) })
  const up = (async () => {
    try {
      // a half-open socket: the default iterator would destroy it (both ways) when its read side ends
      for await (const chunk of socket.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        count.out(chunk.length)
        touchSometimes()
        w.push(chunk)
        await w.waiting()
      }
      w.end()
      await w.done
    } catch (err) { breakAll(err as Error) }
  })()
  const down = (async () => {
    try {
      if (read.first.length) { count.in(read.first.length); if (!socket.write(read.first)) await drained(socket) }
      for (;;) {
        const { value, done } = await read.src.next()
        if (done === true) break
        const b = bytesOf(value as Chunk)
        count.in(b.length)
        touchSometimes()
        if (!socket.write(b)) await drained(socket)
      }
      if (!socket.destroyed) socket.end()
    } catch (err) { breakAll(err as Error) }
  })()
  await Promise.all([up, down])
  if (!broken) {
    await stream.close().catch(() => {})
    if (!socket.destroyed) socket.destroySoon()
  }
}

/** Pipes two local sockets both ways (a target on this very peer), counting bytes. */
export function pipeSockets (client: Socket, upstream: Socket, stats: EndpointStats): void {
  client.on('data', (b: Buffer) => { stats.bytesOut += b.length })
  upstream.on('data', (b: Buffer) => { stats.bytesIn += b.length })
  client.pipe(upstream)
  upstream.pipe(client)
  client.once('close', () => { upstream.destroy() })
  upstream.once('close', () => { client.destroySoon() })
}

export async function drained (socket: Socket): Promise<void> {
  if (socket.destroyed) throw new Error('the socket closed')
  await new Promise<void>((resolve, reject) => {
    const ok = (): void => { socket.off('close', gone); resolve() }
    const gone = (): void => { socket.off('drain', ok); reject(new Error('the socket closed')) }
    socket.once('drain', ok)
    socket.once('close', gone)
  })
}
