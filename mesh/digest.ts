// Bucketed digest of a replica for anti-entropy: each key falls in one of N buckets; a bucket's
// hash is the XOR of its entries' hashes, so it is updated in O(1) per write and two replicas with
// the same entries have the same digest whatever order they applied them in.
import { createHash } from 'node:crypto'
import type { Entry } from './entry.js'

/** 8-byte hash of one entry version (key, HLC, tombstone flag), as two uint32 halves. */
function entryHash (e: Entry): [number, number] {
  const h = createHash('sha256')
    .update(`${e.key}\u0000${e.hlc.wall}\u0000${e.hlc.counter}\u0000${e.hlc.peer}\u0000${e.value === undefined ? 't' : 'v'}`)
    .digest()
  return [h.readUInt32BE(0), h.readUInt32BE(4)]
}

export class Digest {
  /** Number of buckets; both sides of a sync must use the same number. */
  readonly buckets: number
  private readonly hashes: Uint32Array
  private root: Uint8Array | undefined

  constructor (buckets: number) {
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > 65536) throw new RangeError(`digest bucket count must be 1..65536, got ${buckets}`)
    this.buckets = buckets
    this.hashes = new Uint32Array(buckets * 2)
  }

  /** The bucket `key` falls in (stable across peers and versions). */
  bucketOf (key: string): number {
    return createHash('sha256').update(key).digest().readUInt16BE(0) % this.buckets
  }

  /** Adds or removes (XOR is its own inverse) one entry version; `bucket` is bucketOf(e.key) if known. */
  toggle (e: Entry, bucket?: number): void {
    const b = bucket ?? this.bucketOf(e.key)
    const [hi, lo] = entryHash(e)
    this.hashes[b * 2] = (this.hashes[b * 2]! ^ hi) >>> 0
    this.hashes[b * 2 + 1] = (this.hashes[b * 2 + 1]! ^ lo) >>> 0
    this.root = undefined
  }

  /** 16-byte hash of all buckets: equal roots mean (with overwhelming probability) equal replicas. */
  rootHash (): Uint8Array {
    this.root ??= new Uint8Array(createHash('sha256').update(this.bucketHashes()).digest().subarray(0, 16))
    return this.root
  }

  /** All bucket hashes, 8 bytes each, big-endian. */
  bucketHashes (): Uint8Array {
    const out = new Uint8Array(this.buckets * 8)
    const view = new DataView(out.buffer)
    for (let i = 0; i < this.buckets * 2; i++) view.setUint32(i * 4, this.hashes[i]!)
    return out
  }

  /** Buckets whose hash differs from `other` (the peer's bucketHashes()). */
  differing (other: Uint8Array): number[] {
    const mine = this.bucketHashes()
    const out: number[] = []
    for (let b = 0; b < this.buckets; b++) {
      for (let i = b * 8; i < b * 8 + 8; i++) {
        if (mine[i] !== other[i]) { out.push(b); break }
      }
    }
    return out
  }
}
