// The sealed framing of raw tunnel sockets (tunnel-raw.ts): each direction has its own 32-byte key
// (handed out inside the Noise-encrypted libp2p stream) and a frame counter as the nonce, so no
// nonce repeats under one key. Node's native AEAD does the work: AES-256-GCM (AES-NI on x86, about
// 3x node's ChaCha20-Poly1305 on the machines we measured) or ChaCha20-Poly1305, as the two peers
// agreed in the ticket exchange (tunnel.ts).
//
// Frame: u32 big-endian plaintext length L, then L bytes of ciphertext, then a 16-byte tag; the
// length is authenticated as associated data. L = 0 ends the direction (a half-close), so a
// truncation by a third party is told from a clean end. Frames are at most MAX_FRAME bytes.
import { createCipheriv, createDecipheriv, type CipherGCM, type DecipherGCM } from 'node:crypto'
import type { Socket } from 'node:net'

/** The AEADs a raw tunnel can use, in this peer's order of preference. */
export const CIPHERS = ['aes-256-gcm', 'chacha20-poly1305'] as const
export type TunnelCipher = typeof CIPHERS[number]
/** The cipher of peers that do not negotiate (the first raw path, request version 2). */
export const LEGACY_CIPHER: TunnelCipher = 'chacha20-poly1305'
export const KEY_BYTES = 32
const TAG = 16
const HEAD = 4
/** Largest plaintext in one frame: socket reads (64 KiB each) that arrive in one event-loop turn go as one frame, up to this. */
export const MAX_FRAME = 256 * 1024
/**
 * Bytes a sealed pipe lets queue in a socket's write buffer before it stops reading the other
 * side: a few frames in flight, so the reader is not paused and resumed after every frame (node's
 * default mark is 16 KiB, less than one frame).
 */
export const WRITE_QUEUE = 1024 * 1024

/** Seals the frames of one direction. */
export class Sealer {
  private n = 0
  constructor (private readonly key: Uint8Array, private readonly cipher: TunnelCipher = LEGACY_CIPHER) {}

  /**
   * The frame carrying `plain` (one piece or several, sealed as one frame; empty: the end of this
   * direction), as pieces to write in order.
   */
  seal (plain: Uint8Array | Uint8Array[]): Uint8Array[] {
    const pieces = Array.isArray(plain) ? plain : [plain]
    let len = 0
    for (const p of pieces) len += p.length
    if (len > MAX_FRAME) throw new Error(`a tunnel frame of ${len} bytes exceeds ${MAX_FRAME}`)
    const head = Buffer.allocUnsafe(HEAD)
    head.writeUInt32BE(len, 0)
    const c = createCipheriv(this.cipher as 'aes-256-gcm', this.key, nonce(this.n++), { authTagLength: TAG }) as CipherGCM
    c.setAAD(head, { plaintextLength: len })
    const out: Uint8Array[] = [head]
    for (const p of pieces) if (p.length) out.push(c.update(p))
    c.final()
    out.push(c.getAuthTag())
    return out
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
  private d: DecipherGCM | undefined
  private out: Buffer[] = []
  private tag: Buffer = Buffer.alloc(0)
  private closed = false
  private failed = false

  constructor (private readonly key: Uint8Array, private readonly sink: OpenSink, private readonly cipher: TunnelCipher = LEGACY_CIPHER) {}

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
        this.d = createDecipheriv(this.cipher as 'aes-256-gcm', this.key, nonce(this.n++), { authTagLength: TAG }) as DecipherGCM
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
 * sealed with `sendKey`, sealed reads are opened with `recvKey`, both with `cipher`. The reads of
 * one event-loop turn go out as one frame (up to MAX_FRAME): fewer cipher setups and writes under
 * load, and no wait when idle (the frame goes at the end of the same turn). Back-pressure: each
 * side stops being read while the other's write buffer holds more than WRITE_QUEUE bytes. A bad
 * frame or an error on either side destroys both. Resolves when both sockets closed.
 */
export async function pipeSealed (plain: Socket, sealed: Socket, sendKey: Uint8Array, recvKey: Uint8Array, count: SealedCount, cipher: TunnelCipher = LEGACY_CIPHER): Promise<void> {
  const sealer = new Sealer(sendKey, cipher)
  let broken = false
  const breakAll = (): void => {
    if (broken) return
    broken = true
    plain.destroy()
    sealed.destroy()
  }
  /** Writes `pieces` to `to`; when its buffer is past WRITE_QUEUE, stops reading `from` until it drains. */
  const send = (to: Socket, pieces: Uint8Array[], from: Socket): void => {
    to.cork()
    for (const p of pieces) to.write(p)
    to.uncork()
    if (to.writableLength > WRITE_QUEUE && !from.isPaused()) {
      from.pause()
      to.once('drain', () => { if (!broken) from.resume() })
    }
  }
  let pending: Buffer[] = []
  let pendingBytes = 0
  let flushing = false
  const flush = (): void => {
    flushing = false
    if (pending.length === 0 || sealed.destroyed) return
    const batch = pending
    pending = []
    pendingBytes = 0
    sealed.cork()
    let frame: Buffer[] = []
    let n = 0
    for (const b of batch) {
      // a read is at most 64 KiB, a frame at most MAX_FRAME: one bigger read (another kind of stream) is cut
      for (let at = 0; at < b.length; at += MAX_FRAME) {
        const piece = at === 0 && b.length <= MAX_FRAME ? b : b.subarray(at, at + MAX_FRAME)
        if (n + piece.length > MAX_FRAME) { send(sealed, sealer.seal(frame), plain); frame = []; n = 0 }
        frame.push(piece)
        n += piece.length
      }
    }
    if (n > 0) send(sealed, sealer.seal(frame), plain)
    sealed.uncork()
  }
  plain.on('data', (b: Buffer) => {
    count.out(b.length)
    pending.push(b)
    pendingBytes += b.length
    if (pendingBytes >= MAX_FRAME) flush()
    else if (!flushing) { flushing = true; setImmediate(flush) }
  })
  let upEnded = false
  let downEnded = false
  plain.on('end', () => {
    upEnded = true
    flush()
    if (!sealed.destroyed) { send(sealed, sealer.seal(new Uint8Array(0)), plain); sealed.end() }
  })
  const opener = new Opener(recvKey, {
    data: pieces => {
      for (const p of pieces) count.in(p.length)
      send(plain, pieces, sealed)
    },
    end: () => { downEnded = true; if (!plain.destroyed) plain.end() },
    bad: why => { count.bad(why); breakAll() },
  }, cipher)
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
