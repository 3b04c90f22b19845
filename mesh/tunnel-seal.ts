// The sealed framing of raw tunnel sockets (tunnel-raw.ts): each direction has its own 32-byte key
// (handed out inside the Noise-encrypted libp2p stream) and a frame counter as the nonce, so no
// nonce repeats under one key. Node's native ChaCha20-Poly1305 does the work.
//
// Frame: u32 big-endian plaintext length L, then L bytes of ciphertext, then a 16-byte tag; the
// length is authenticated as associated data. L = 0 ends the direction (a half-close), so a
// truncation by a third party is told from a clean end. Frames are at most MAX_FRAME bytes.
import { createCipheriv, createDecipheriv, type DecipherChaCha20Poly1305 } from 'node:crypto'
import type { Socket } from 'node:net'

export const CIPHER = 'chacha20-poly1305'
export const KEY_BYTES = 32
const TAG = 16
const HEAD = 4
/** Largest plaintext in one frame: a socket read is at most 64 KiB; more would only buffer. */
export const MAX_FRAME = 256 * 1024

/** Seals the frames of one direction. */
export class Sealer {
  private n = 0
  constructor (private readonly key: Uint8Array) {}

  /** The frame carrying `plain` (empty: the end of this direction), as pieces to write in order. */
  seal (plain: Uint8Array): Uint8Array[] {
    if (plain.length > MAX_FRAME) throw new Error(`a tunnel frame of ${plain.length} bytes exceeds ${MAX_FRAME}`)
    const head = Buffer.allocUnsafe(HEAD)
    head.writeUInt32BE(plain.length, 0)
    const c = createCipheriv(CIPHER, this.key, nonce(this.n++), { authTagLength: TAG })
    c.setAAD(head, { plaintextLength: plain.length })
    const body = plain.length ? c.update(plain) : undefined
    c.final()
    return body ? [head, body, c.getAuthTag()] : [head, c.getAuthTag()]
  }
}

/** What an Opener hands on: plaintext, the end of the direction, or a bad frame (the socket must close). */
export interface OpenSink { data: (pieces: Buffer[]) => void, end: () => void, bad: (why: string) => void }

/**
 * Opens the frames of one direction as bytes arrive in any cut. Ciphertext is fed to the
 * decipher piece by piece (no reassembly copy); the plaintext is handed on only after the tag checks.
 */
export class Opener {
  private n = 0
  private head: Buffer = Buffer.alloc(0)
  private left = -1
  private len = 0
  private d: DecipherChaCha20Poly1305 | undefined
  private out: Buffer[] = []
  private tag: Buffer = Buffer.alloc(0)
  private closed = false
  private failed = false

  constructor (private readonly key: Uint8Array, private readonly sink: OpenSink) {}

  push (chunk: Buffer): void {
    let at = 0
    while (at < chunk.length && !this.closed) {
      if (this.left < 0) { // the length
        const need = HEAD - this.head.length
        this.head = Buffer.concat([this.head, chunk.subarray(at, at + need)])
        at += Math.min(need, chunk.length - at)
        if (this.head.length < HEAD) return
        this.len = this.head.readUInt32BE(0)
        if (this.len > MAX_FRAME) { this.fail(`a tunnel frame of ${this.len} bytes exceeds ${MAX_FRAME}`); return }
        this.d = createDecipheriv(CIPHER, this.key, nonce(this.n++), { authTagLength: TAG })
        this.d.setAAD(this.head, { plaintextLength: this.len })
        this.left = this.len
        this.head = Buffer.alloc(0)
      }
      if (this.left > 0) { // the ciphertext
        const take = Math.min(this.left, chunk.length - at)
        this.out.push(this.d!.update(chunk.subarray(at, at + take)))
        this.left -= take
        at += take
        if (this.left > 0) return
      }
      const need = TAG - this.tag.length // the tag
      this.tag = this.tag.length === 0 && chunk.length - at >= TAG ? chunk.subarray(at, at + TAG) : Buffer.concat([this.tag, chunk.subarray(at, at + need)])
      at += Math.min(need, chunk.length - at)
      if (this.tag.length < TAG) return
      const d = this.d!
      this.d = undefined
      try {
        d.setAuthTag(this.tag)
        d.final()
      } catch {
        this.fail('a tunnel frame failed authentication')
        return
      }
      this.tag = Buffer.alloc(0)
      this.left = -1
      const out = this.out
      this.out = []
      if (this.len === 0) { this.closed = true; this.sink.end(); break }
      this.sink.data(out)
    }
    if (this.closed && at < chunk.length) this.fail('bytes after the end of a tunnel direction')
  }

  /** The socket ended: clean only after an end frame. */
  ended (): void {
    if (!this.closed) this.fail('the tunnel socket ended without an end frame')
  }

  private fail (why: string): void {
    this.closed = true
    if (this.failed) return
    this.failed = true
    this.sink.bad(why)
  }
}

function nonce (n: number): Buffer {
  const b = Buffer.alloc(12)
  b.writeUInt32BE(Math.floor(n / 0x100000000), 4)
  b.writeUInt32BE(n >>> 0, 8)
  return b
}

export interface SealedCount { out: (n: number) => void, in: (n: number) => void, bad: (why: string) => void }

/**
 * Pipes a plain socket and a sealed one both ways until both directions ended: plain reads go out
 * sealed with `sendKey`, sealed reads are opened with `recvKey`. Back-pressure: each side is paused
 * while the other's write buffer is full. A bad frame or an error on either side destroys both.
 * Resolves when both sockets closed.
 */
export async function pipeSealed (plain: Socket, sealed: Socket, sendKey: Uint8Array, recvKey: Uint8Array, count: SealedCount): Promise<void> {
  const sealer = new Sealer(sendKey)
  let broken = false
  const breakAll = (): void => {
    if (broken) return
    broken = true
    plain.destroy()
    sealed.destroy()
  }
  const send = (pieces: Uint8Array[]): boolean => {
    sealed.cork()
    let ok = true
    for (const p of pieces) ok = sealed.write(p)
    sealed.uncork()
    return ok
  }
  plain.on('data', (b: Buffer) => {
    count.out(b.length)
    // a socket read is at most 64 KiB, well under MAX_FRAME; a bigger one (another stream) is cut
    let ok = true
    for (let at = 0; at < b.length; at += MAX_FRAME) ok = send(sealer.seal(b.subarray(at, at + MAX_FRAME)))
    if (!ok) { plain.pause(); sealed.once('drain', () => { plain.resume() }) }
  })
  let upEnded = false
  let downEnded = false
  plain.on('end', () => { upEnded = true; if (!sealed.destroyed) { send(sealer.seal(new Uint8Array(0))); sealed.end() } })
  const opener = new Opener(recvKey, {
    data: pieces => {
      let ok = true
      plain.cork()
      for (const p of pieces) { count.in(p.length); ok = plain.write(p) }
      plain.uncork()
      if (!ok) { sealed.pause(); plain.once('drain', () => { sealed.resume() }) }
    },
    end: () => { downEnded = true; if (!plain.destroyed) plain.end() },
    bad: why => { count.bad(why); breakAll() },
  })
  sealed.on('data', (b: Buffer) => { opener.push(b) })
  sealed.on('end', () => { opener.ended() })
  plain.on('error', breakAll)
  sealed.on('error', breakAll)
  // either may have been paused or read by hand before (the service waiting for its ticket, the sniffer)
  plain.resume()
  sealed.resume()
  // a side that closed before both directions ended takes the other down with it
  const closed = (s: Socket): Promise<void> => new Promise(resolve => { if (s.destroyed) resolve(); else s.once('close', () => { resolve() }) })
  // a socket that closed before both directions ended cleanly takes the other down; after a clean
  // end each closes on its own once its writes are flushed (destroying it would drop them)
  plain.once('close', () => { if (!upEnded || !downEnded) breakAll() })
  sealed.once('close', () => { if (!upEnded || !downEnded) breakAll() })
  await Promise.all([closed(plain), closed(sealed)])
}
