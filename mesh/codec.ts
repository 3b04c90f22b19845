// Wire and disk encoding of replica entries, gossip deltas and sync frames: deterministic CBOR
// (cborg), and validation of everything received. A bad message throws DecodeError with a reason
// the caller counts; nothing here applies anything.
import { decode, encode } from 'cborg'
import type { Entry } from './entry.js'
import { DecodeError, ValueError } from './errors.js'
import type { Hlc, HlcClock } from './hlc.js'
import { keyProblem, mayWrite } from './keys.js'
import { signatureBytes } from './signing.js'
import { valueProblem, type Value } from './value.js'

/** Wire version carried by every message; a receiver refuses versions it does not know. */
export const wireVersion = 1

/**
 * Wire version of deltas and sync frames: 2 since entries carry their writer's signature
 * (signing.ts). A peer of version 1 refuses them with a message naming both versions.
 */
export const stateWireVersion = 2

/** Size and shape limits applied to everything received (see defaults.ts). */
export interface CodecLimits {
  maxKeyBytes: number
  maxEntryBytes: number
  maxDeltaBytes: number
  maxDeltaEntries: number
  maxValueDepth: number
}

// strict CBOR only: no indefinite lengths, undefined, NaN/Infinity, bigints, duplicate map keys or tags
const decodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  useMaps: false,
  rejectDuplicateMapKeys: true,
} as const

/** Deterministic CBOR of plain data (map keys sorted, smallest encodings). */
export function encodeCbor (data: unknown): Uint8Array {
  return encode(data)
}

/** Strict CBOR decode; throws DecodeError('malformed') on any problem. */
export function decodeCbor (bytes: Uint8Array, what: string): unknown {
  try {
    return decode(bytes, decodeOptions)
  } catch (err) {
    throw new DecodeError('malformed', `${what} is not valid CBOR: ${(err as Error).message}`, { cause: err })
  }
}

// ---- entries ----

// live: [key, wall, counter, writer, 0, value, sig]; tombstone: [key, wall, counter, writer, 1, sig].
// The unsigned forms (no trailing sig) decode too, so that one unsigned entry (a store written before
// signing, a forger) is refused on its own by the receiver's check, not the whole message.
type EntryTuple = [string, number, number, string, 0, Value, Uint8Array?] | [string, number, number, string, 1, Uint8Array?]

function entryTuple (e: Entry): EntryTuple {
  const t: EntryTuple = e.value === undefined
    ? [e.key, e.hlc.wall, e.hlc.counter, e.hlc.peer, 1]
    : [e.key, e.hlc.wall, e.hlc.counter, e.hlc.peer, 0, e.value]
  if (e.sig !== undefined) t.push(e.sig)
  return t
}

const peerIdPattern = /^[1-9A-HJ-NP-Za-km-z]{32,128}$/

/** True when `s` looks like a base58btc libp2p peer id. */
export function isPeerIdString (s: unknown): s is string {
  return typeof s === 'string' && peerIdPattern.test(s)
}

function entryFromTuple (t: unknown, limits: CodecLimits, what: string): Entry {
  if (!Array.isArray(t) || t.length < 5 || t.length > 7) throw new DecodeError('malformed', `${what}: an entry is not a 5- to 7-element array`)
  const [key, wall, counter, peer, kind] = t as unknown[]
  const bare = kind === 1 ? 5 : 6 // length without the signature
  let sig: Uint8Array | undefined
  if (t.length === bare + 1) {
    const s: unknown = t[bare]
    if (!(s instanceof Uint8Array) || s.length !== signatureBytes) throw new DecodeError('malformed', `${what}: entry ${String(key)} has a signature that is not ${signatureBytes} bytes`)
    sig = s
  } else if (t.length !== bare) {
    throw new DecodeError('malformed', `${what}: entry ${String(key)} has ${t.length} elements, ${bare} or ${bare + 1} (signed) expected for kind ${String(kind)}`)
  }
  const value: unknown = kind === 0 ? t[5] : undefined
  const kp = keyProblem(key, limits.maxKeyBytes)
  if (kp) throw new DecodeError('malformed', `${what}: ${kp}`)
  if (!Number.isSafeInteger(wall) || (wall as number) < 0) throw new DecodeError('malformed', `${what}: entry ${String(key)} has an invalid HLC wall time`)
  if (!Number.isSafeInteger(counter) || (counter as number) < 0) throw new DecodeError('malformed', `${what}: entry ${String(key)} has an invalid HLC counter`)
  if (!isPeerIdString(peer)) throw new DecodeError('malformed', `${what}: entry ${String(key)} has an invalid writer peer id`)
  const hlc: Hlc = { wall: wall as number, counter: counter as number, peer }
  const withSig = (e: Entry): Entry => sig === undefined ? e : { ...e, sig }
  if (kind === 1) return withSig({ key: key as string, hlc, value: undefined })
  if (kind !== 0) throw new DecodeError('malformed', `${what}: entry ${String(key)} has an invalid kind`)
  const vp = valueProblem(value, limits.maxValueDepth)
  if (vp) throw new DecodeError('malformed', `${what}: entry ${String(key)}: ${vp}`)
  return withSig({ key: key as string, hlc, value: value as Value })
}

/** Encoded size of one entry on the wire. */
export function entrySize (e: Entry): number {
  return encode(entryTuple(e)).length
}

/**
 * Checks that a local write can be replicated: plain data within the depth and size limits.
 * Throws ValueError naming the key.
 */
export function checkLocalEntry (e: Entry, limits: CodecLimits): void {
  const vp = e.value === undefined ? undefined : valueProblem(e.value, limits.maxValueDepth)
  if (vp) throw new ValueError(`cannot replicate the value of ${e.key}: ${vp}`)
  let size: number
  try {
    size = entrySize(e)
  } catch (err) {
    throw new ValueError(`cannot encode the value of ${e.key}: ${(err as Error).message}`, { cause: err })
  }
  // the signature the mesh adds before sending counts too (64 bytes and its 2-byte header)
  if (e.sig === undefined) size += signatureBytes + 2
  if (size > limits.maxEntryBytes) throw new ValueError(`the value of ${e.key} is ${size} bytes encoded (signature included), more than the ${limits.maxEntryBytes} allowed`)
}

/** Disk form of one entry (the same tuple as on the wire). */
export function encodeStoredEntry (e: Entry): Uint8Array {
  return encode(entryTuple(e))
}

/** Reads an entry written by encodeStoredEntry; throws DecodeError if the disk holds garbage. */
export function decodeStoredEntry (bytes: Uint8Array, limits: CodecLimits): Entry {
  return entryFromTuple(decodeCbor(bytes, 'stored entry'), { ...limits, maxEntryBytes: Infinity }, 'stored entry')
}

function checkEntrySizes (entries: Entry[], messageBytes: number, limits: CodecLimits, what: string): void {
  // a message smaller than the per-entry limit cannot hold an oversized entry: skip re-encoding
  if (messageBytes <= limits.maxEntryBytes) return
  for (const e of entries) {
    const size = entrySize(e)
    if (size > limits.maxEntryBytes) throw new DecodeError('oversized', `${what}: entry ${e.key} is ${size} bytes, more than ${limits.maxEntryBytes}`)
  }
}

// ---- gossip deltas ----

const DELTA = 1

/** A gossip delta: [version, DELTA, [entry tuples]]. */
export function encodeDelta (entries: readonly Entry[]): Uint8Array {
  return encode([stateWireVersion, DELTA, entries.map(entryTuple)])
}

/** Decodes and shape-checks a gossip delta. Throws DecodeError('malformed' | 'oversized'). */
export function decodeDelta (bytes: Uint8Array, limits: CodecLimits): Entry[] {
  if (bytes.length > limits.maxDeltaBytes) throw new DecodeError('oversized', `delta of ${bytes.length} bytes exceeds ${limits.maxDeltaBytes}`)
  const msg = decodeCbor(bytes, 'delta')
  if (!Array.isArray(msg) || msg.length !== 3) throw new DecodeError('malformed', 'delta is not a 3-element array')
  const [version, kind, list] = msg as unknown[]
  if (version !== stateWireVersion) throw new DecodeError('malformed', `delta has wire version ${String(version)}, this peer speaks ${stateWireVersion}`)
  if (kind !== DELTA) throw new DecodeError('malformed', `delta has kind ${String(kind)}`)
  if (!Array.isArray(list) || list.length === 0) throw new DecodeError('malformed', 'delta has no entries')
  if (list.length > limits.maxDeltaEntries) throw new DecodeError('oversized', `delta has ${list.length} entries, more than ${limits.maxDeltaEntries}`)
  const entries = list.map(t => entryFromTuple(t, limits, 'delta'))
  checkEntrySizes(entries, bytes.length, limits, 'delta')
  return entries
}

/**
 * Owner and clock checks on received entries, before anything is applied.
 * `origin` is the authenticated sender when the entries must all be its own writes (gossip: a peer
 * only publishes what it wrote); undefined for anti-entropy, which relays others' writes.
 * Throws DecodeError('owner' | 'skew').
 */
export function checkInbound (entries: readonly Entry[], origin: string | undefined, hlc: HlcClock): void {
  for (const e of entries) {
    if (origin !== undefined && e.hlc.peer !== origin) throw new DecodeError('owner', `entry ${e.key} claims writer ${e.hlc.peer} but was published by ${origin}`)
    if (!mayWrite(e.key, e.hlc.peer)) throw new DecodeError('owner', `entry ${e.key} was written by ${e.hlc.peer}, which does not own it`)
    hlc.checkSkew(e.hlc)
  }
}

// ---- anti-entropy frames (/monk/sync/1) ----

/** Frames of one sync exchange, in protocol order (see sync.ts). Kinds are append-only. */
export type SyncFrame =
  | { kind: 'root'; buckets: number; root: Uint8Array }
  | { kind: 'same' }
  | { kind: 'buckets'; hashes: Uint8Array }
  | { kind: 'entries'; want: number[] | undefined; entries: Entry[]; last: boolean }
  | { kind: 'ack' }

const frameKinds = { root: 1, same: 2, buckets: 3, entries: 4, ack: 5 } as const

export function encodeSyncFrame (f: SyncFrame): Uint8Array {
  switch (f.kind) {
    case 'root': return encode([stateWireVersion, frameKinds.root, f.buckets, f.root])
    case 'same': return encode([stateWireVersion, frameKinds.same])
    case 'buckets': return encode([stateWireVersion, frameKinds.buckets, f.hashes])
    case 'entries': return encode([stateWireVersion, frameKinds.entries, f.want ?? null, f.entries.map(entryTuple), f.last])
    case 'ack': return encode([stateWireVersion, frameKinds.ack])
  }
}

/** Decodes and shape-checks one sync frame. Throws DecodeError. */
export function decodeSyncFrame (bytes: Uint8Array, limits: CodecLimits, maxBuckets: number): SyncFrame {
  const msg = decodeCbor(bytes, 'sync frame')
  if (!Array.isArray(msg) || msg.length < 2) throw new DecodeError('malformed', 'sync frame is not an array')
  const [version, kind, a, b, c] = msg as unknown[]
  if (version !== stateWireVersion) throw new DecodeError('malformed', `sync frame has wire version ${String(version)}, this peer speaks ${stateWireVersion}`)
  switch (kind) {
    case frameKinds.root:
      if (msg.length !== 4 || !Number.isSafeInteger(a) || !(b instanceof Uint8Array) || b.length !== 16) throw new DecodeError('malformed', 'bad root frame')
      return { kind: 'root', buckets: a as number, root: b }
    case frameKinds.same:
      if (msg.length !== 2) throw new DecodeError('malformed', 'bad same frame')
      return { kind: 'same' }
    case frameKinds.buckets:
      if (msg.length !== 3 || !(a instanceof Uint8Array) || a.length !== maxBuckets * 8) throw new DecodeError('malformed', 'bad buckets frame')
      return { kind: 'buckets', hashes: a }
    case frameKinds.entries: {
      if (msg.length !== 5 || !Array.isArray(b) || typeof c !== 'boolean') throw new DecodeError('malformed', 'bad entries frame')
      let want: number[] | undefined
      if (a !== null) {
        if (!Array.isArray(a) || a.length > maxBuckets || !a.every(n => Number.isSafeInteger(n) && n >= 0 && n < maxBuckets)) throw new DecodeError('malformed', 'bad bucket list in entries frame')
        want = a as number[]
      }
      const entries = b.map(t => entryFromTuple(t, limits, 'sync frame'))
      checkEntrySizes(entries, bytes.length, limits, 'sync frame')
      return { kind: 'entries', want, entries, last: c }
    }
    case frameKinds.ack:
      if (msg.length !== 2) throw new DecodeError('malformed', 'bad ack frame')
      return { kind: 'ack' }
    default:
      throw new DecodeError('malformed', `unknown sync frame kind ${String(kind)}`)
  }
}
