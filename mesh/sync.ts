// Anti-entropy over /monk/sync/1 streams (DESIGN §3). One exchange, initiator A and responder B:
//   A → root(16-byte hash of A's digest)
//   B → same                                  (roots equal: done, each side records an ack)
//     | buckets(B's bucket hashes)
//   A → entries(want = differing buckets, A's entries in them), chunked, last=true at the end
//   B applies them, then → entries(B's entries in those buckets that A lacks or has older), chunked
//   A applies them, then → ack
// After an exchange each side knows the other holds everything it held when the exchange began;
// tombstone purge relies on those acks.
import type { Stream } from '@libp2p/interface'
import type { Clock } from './clock.js'
import { decodeSyncFrame, encodeSyncFrame, entrySize, type CodecLimits, type SyncFrame } from './codec.js'
import { countRejection, type MeshCounters } from './counters.js'
import { protocols } from './defaults.js'
import { compareHlc, type HlcClock } from './hlc.js'
import type { Entry } from './entry.js'
import { DecodeError, ProtocolError } from './errors.js'
import { FrameReader, FrameWriter } from './framing.js'
import { openStream, type MeshNode } from './node.js'
import type { Replica } from './replica.js'

export type SyncRole = 'initiator' | 'responder'

export interface SyncInit {
  node: MeshNode
  replica: Replica
  hlc: HlcClock
  limits: CodecLimits
  counters: MeshCounters
  clock: Clock
  timeoutMs: number
  maxFrameBytes: number
  chunkBytes: number
  /** Most entries the other side may send in one exchange (defaults.ts maxSyncExchangeEntries). */
  maxExchangeEntries: number
  /**
   * An exchange with `peer` completed: `peer` holds everything this replica held at monotonic time
   * `since`.
   */
  onComplete: (peer: string, role: SyncRole, since: number) => void
  /** Which received entries may be merged (screen.ts: owner, clock, forgery and staleness checks). */
  screen: (received: readonly Entry[], peer: string) => Entry[]
  /** Makes sure a connection to `peer` exists (the partner is a random member, often not connected). */
  connect: (peer: string, signal: AbortSignal) => Promise<void>
  /** An exchange with `peer` is running: its connection is in use. */
  touch: (peer: string) => void
}

export class AntiEntropy {
  private readonly init: SyncInit
  private readonly running = new Map<string, Promise<boolean>>()
  private stopped = false

  constructor (init: SyncInit) {
    this.init = init
  }

  async start (): Promise<void> {
    await this.init.node.handle(protocols.sync, ({ stream, connection }) => {
      void this.respond(stream, connection.remotePeer.toString())
    }, { maxInboundStreams: 64 })
  }

  async stop (): Promise<void> {
    this.stopped = true
    await this.init.node.unhandle(protocols.sync).catch(() => {})
  }

  /**
   * Runs one exchange with `peer` as initiator. Resolves true when it completed, false when it
   * failed (counted; the next periodic round retries). At most one runs per peer at a time.
   */
  syncWith (peer: string): Promise<boolean> {
    const existing = this.running.get(peer)
    if (existing) return existing
    const run = this.initiate(peer).finally(() => { this.running.delete(peer) })
    this.running.set(peer, run)
    return run
  }

  private async initiate (peer: string): Promise<boolean> {
    if (this.stopped) return false
    const { node, replica, counters, clock } = this.init
    let stream: Stream | undefined
    const signal = AbortSignal.timeout(this.init.timeoutMs)
    const onTimeout = (): void => { stream?.abort(new ProtocolError(`sync with ${peer} timed out after ${this.init.timeoutMs} ms`)) }
    signal.addEventListener('abort', onTimeout)
    try {
      await this.init.connect(peer, signal)
      stream = await openStream(node, peer, protocols.sync, { signal })
      const since = clock.monotonic()
      const writer = new FrameWriter(stream)
      const reader = new FrameReader(stream.source, this.init.maxFrameBytes)
      writer.write(encodeSyncFrame({ kind: 'root', buckets: replica.digest.buckets, root: replica.digest.rootHash() }))
      const answer = await this.read(reader, peer)
      if (answer.kind === 'buckets') {
        const want = replica.digest.differing(answer.hashes)
        const mine = replica.entriesInBuckets(want)
        this.sendEntries(writer, want, mine)
        counters.syncEntriesSent += mine.length
        const theirs = await this.receiveEntries(reader, peer)
        this.apply(theirs.received)
        if (theirs.overLimit) throw this.overLimit(peer)
        writer.write(encodeSyncFrame({ kind: 'ack' }))
      } else if (answer.kind !== 'same') {
        throw new ProtocolError(`sync peer ${peer} answered the root with a ${answer.kind} frame`)
      }
      writer.end()
      await writer.done
      await reader.close()
      counters.syncCompleted++
      this.init.onComplete(peer, 'initiator', since)
      return true
    } catch (err) {
      counters.syncFailed++
      if (err instanceof DecodeError) countRejection(counters, err.reason)
      stream?.abort(err as Error)
      return false
    } finally {
      signal.removeEventListener('abort', onTimeout)
    }
  }

  private async respond (stream: Stream, peer: string): Promise<void> {
    const { replica, counters, clock } = this.init
    this.init.touch(peer)
    const timer = setTimeout(() => { stream.abort(new ProtocolError(`sync from ${peer} timed out`)) }, this.init.timeoutMs)
    try {
      const writer = new FrameWriter(stream)
      const reader = new FrameReader(stream.source, this.init.maxFrameBytes)
      const hello = await this.read(reader, peer)
      if (hello.kind !== 'root') throw new ProtocolError(`sync peer ${peer} opened with a ${hello.kind} frame`)
      if (hello.buckets !== replica.digest.buckets) throw new ProtocolError(`sync peer ${peer} uses ${hello.buckets} buckets, this peer ${replica.digest.buckets}`)
      const since = clock.monotonic()
      if (equal(hello.root, replica.digest.rootHash())) {
        writer.write(encodeSyncFrame({ kind: 'same' }))
      } else {
        writer.write(encodeSyncFrame({ kind: 'buckets', hashes: replica.digest.bucketHashes() }))
        // our side of the differing buckets is taken before A's entries are applied; only what A
        // lacks (or holds in an older version) is sent back
        const { want, received, overLimit } = await this.receiveEntries(reader, peer)
        const snapshot = replica.entriesInBuckets(want ?? [])
        this.apply(received)
        if (overLimit) throw this.overLimit(peer)
        const theirs = new Map(received.map(e => [e.key, e]))
        const back = snapshot.filter(e => { const t = theirs.get(e.key); return !t || compareHlc(t.hlc, e.hlc) < 0 })
        this.sendEntries(writer, undefined, back)
        counters.syncEntriesSent += back.length
        const ack = await this.read(reader, peer)
        if (ack.kind !== 'ack') throw new ProtocolError(`sync peer ${peer} sent ${ack.kind} instead of ack`)
      }
      writer.end()
      await writer.done
      await reader.close()
      counters.syncCompleted++
      this.init.onComplete(peer, 'responder', since)
    } catch (err) {
      counters.syncFailed++
      if (err instanceof DecodeError) countRejection(counters, err.reason)
      stream.abort(err as Error)
    } finally {
      clearTimeout(timer)
    }
  }

  private async read (reader: FrameReader, peer: string): Promise<SyncFrame> {
    const bytes = await reader.next()
    if (!bytes) throw new ProtocolError(`sync peer ${peer} closed the stream early`)
    return decodeSyncFrame(bytes, this.init.limits, this.init.replica.digest.buckets)
  }

  /** Reads entries frames until `last`, validating each; applies nothing. Returns the want list of the first frame and all entries. */
  private async receiveEntries (reader: FrameReader, peer: string): Promise<{ want: number[] | undefined; received: Entry[]; overLimit: boolean }> {
    let want: number[] | undefined
    const received: Entry[] = []
    let count = 0
    let overLimit = false
    for (let first = true; ; first = false) {
      const f = await this.read(reader, peer)
      if (f.kind !== 'entries') throw new ProtocolError(`sync peer ${peer} sent ${f.kind} instead of entries`)
      if (first) want = f.want
      // the bound counts entries sent, not those kept: screening them costs work too
      const room = this.init.maxExchangeEntries - count
      count += f.entries.length
      for (const e of this.init.screen(room < f.entries.length ? f.entries.slice(0, Math.max(0, room)) : f.entries, peer)) received.push(e)
      if (count > this.init.maxExchangeEntries) { overLimit = true; break }
      if (f.last) break
    }
    this.init.counters.syncEntriesReceived += received.length
    return { want, received, overLimit }
  }

  /** The exchange ends: the other side sent more than it may in one. What came first was applied. */
  private overLimit (peer: string): ProtocolError {
    this.init.counters.syncOverLimit++
    return new ProtocolError(`sync peer ${peer} sent more than ${this.init.maxExchangeEntries} entries in one exchange; the first were applied, the rest refused`)
  }

  private apply (entries: readonly Entry[]): void {
    if (entries.length) this.init.counters.remoteEntriesApplied += this.init.replica.merge(entries).length
  }

  private sendEntries (writer: FrameWriter, want: number[] | undefined, entries: readonly Entry[]): void {
    let chunk: Entry[] = []
    let bytes = 0
    let first = true
    const flush = (last: boolean): void => {
      writer.write(encodeSyncFrame({ kind: 'entries', want: first ? want : undefined, entries: chunk, last }))
      first = false
      chunk = []
      bytes = 0
    }
    for (const e of entries) {
      const size = entrySize(e)
      if (chunk.length && bytes + size > this.init.chunkBytes) flush(false)
      chunk.push(e)
      bytes += size
    }
    flush(true)
  }
}

function equal (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
