// Unit tests of the codec: deterministic encoding, round trips, and refusal of every kind of bad input.
import { encode } from 'cborg'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock } from '../../mesh/clock.js'
import { checkInbound, checkLocalEntry, decodeDelta, decodeStoredEntry, decodeSyncFrame, encodeCbor, encodeDelta, encodeStoredEntry, encodeSyncFrame, stateWireVersion as V, type CodecLimits, type SyncFrame } from '../../mesh/codec.js'
import { defaults } from '../../mesh/defaults.js'
import type { Entry } from '../../mesh/entry.js'
import { DecodeError, ValueError, type RejectReason } from '../../mesh/errors.js'
import { HlcClock } from '../../mesh/hlc.js'
import { fakePeer } from '../helpers/mesh-ids.js'

const limits: CodecLimits = {
  maxKeyBytes: defaults.maxKeyBytes,
  maxEntryBytes: 1000,
  maxDeltaBytes: 4000,
  maxDeltaEntries: 50,
  maxValueDepth: defaults.maxValueDepth,
}
const A = fakePeer(1)
const B = fakePeer(2)
const now = 1_700_000_000_000
const entry = (key: string, value: Entry['value'], peer = A, wall = now): Entry => ({ key, hlc: { wall, counter: 0, peer }, value })

function reason (fn: () => unknown): RejectReason | 'none' | 'other' {
  try { fn(); return 'none' } catch (err) { return err instanceof DecodeError ? err.reason : 'other' }
}

const Codec = suite('codec')

Codec('encoding is deterministic: map key order does not change the bytes', () => {
  const a = encodeCbor({ b: 1, a: [1, 2, { y: 'x', x: null }] })
  const b = encodeCbor({ a: [1, 2, { x: null, y: 'x' }], b: 1 })
  assert.equal(a, b)
})

Codec('a delta round-trips live entries, tombstones and byte strings', () => {
  const entries = [entry('want/x', { run: true, n: 1.5, tags: ['a'] }), entry('peer/' + A, new Uint8Array([1, 2])), entry('want/gone', undefined)]
  assert.equal(decodeDelta(encodeDelta(entries), limits), entries)
})

Codec('signed entries round-trip in deltas, sync frames and on disk', () => {
  const sig = new Uint8Array(64).fill(7)
  const entries: Entry[] = [{ ...entry('want/x', { a: 1 }), sig }, { ...entry('want/gone', undefined), sig }]
  assert.equal(decodeDelta(encodeDelta(entries), limits), entries)
  assert.equal(decodeSyncFrame(encodeSyncFrame({ kind: 'entries', want: [1], entries, last: true }), limits, 4), { kind: 'entries', want: [1], entries, last: true })
  for (const e of entries) assert.equal(decodeStoredEntry(encodeStoredEntry(e), limits), e)
})

Codec('checkLocalEntry counts the signature the mesh adds in the entry limit', () => {
  const fits = (n: number): boolean => { try { checkLocalEntry(entry('want/x', 'x'.repeat(n)), limits); return true } catch { return false } }
  let n = 0
  while (fits(n + 1)) n++
  const signed: Entry = { ...entry('want/x', 'x'.repeat(n)), sig: new Uint8Array(64) }
  assert.is(reason(() => decodeDelta(encodeDelta([signed]), { ...limits, maxDeltaBytes: 100_000 })), 'none', 'the largest local entry, signed, is accepted by receivers')
})

Codec('stored entries round-trip', () => {
  const e = entry('tpl/ns/app', { source: 'x' })
  assert.equal(decodeStoredEntry(encodeStoredEntry(e), limits), e)
})

const good = encodeDelta([entry('want/x', 1)])
const bad: Array<[string, Uint8Array, RejectReason]> = [
  ['random bytes', new Uint8Array([0xff, 0x00, 0x13, 0x37]), 'malformed'],
  ['empty', new Uint8Array(0), 'malformed'],
  ['not an array', encode({ v: 1 }), 'malformed'],
  ['unknown version', encode([9, 1, []]), 'malformed'],
  ['unknown kind', encode([V, 9, []]), 'malformed'],
  ['no entries', encode([V, 1, []]), 'malformed'],
  ['entry not an array', encode([V, 1, ['x']]), 'malformed'],
  ['bad key (empty segment)', encode([V, 1, [['want//x', now, 0, A, 0, 1]]]), 'malformed'],
  ['bad key (control char)', encode([V, 1, [['want/\u0001', now, 0, A, 0, 1]]]), 'malformed'],
  ['negative wall', encode([V, 1, [['want/x', -1, 0, A, 0, 1]]]), 'malformed'],
  ['float counter', encode([V, 1, [['want/x', now, 0.5, A, 0, 1]]]), 'malformed'],
  ['bad writer id', encode([V, 1, [['want/x', now, 0, 'not a peer!', 0, 1]]]), 'malformed'],
  ['tombstone with a value', encode([V, 1, [['want/x', now, 0, A, 1, 1]]]), 'malformed'],
  ['live entry without a value', encode([V, 1, [['want/x', now, 0, A, 0]]]), 'malformed'],
  ['undefined value', new Uint8Array([...good.subarray(0, good.length - 1), 0xf7]), 'malformed'],
  ['NaN value', new Uint8Array([...good.subarray(0, good.length - 1), 0xf9, 0x7e, 0x00]), 'malformed'],
  ['indefinite-length array', new Uint8Array([0x9f, 0x01, 0xff]), 'malformed'],
  ['trailing bytes', new Uint8Array([...good, 0x00]), 'malformed'],
  ['deep nesting', new Uint8Array(3000).fill(0x81), 'malformed'],
  ['too deep value', encode([V, 1, [['want/x', now, 0, A, 0, JSON.parse('['.repeat(40) + ']'.repeat(40))]]]), 'malformed'],
  ['too many bytes', encode([V, 1, [['want/x', now, 0, A, 0, 'x'.repeat(5000)]]]), 'oversized'],
  ['too many entries', encode([V, 1, Array.from({ length: 51 }, (_, i) => [`want/${i}`, now, 0, A, 0, 1])]), 'oversized'],
  ['an entry over the entry limit', encode([V, 1, [['want/x', now, 0, A, 0, 'x'.repeat(1500)]]]), 'oversized'],
  ['a signature that is not 64 bytes', encode([V, 1, [['want/x', now, 0, A, 0, 1, new Uint8Array(10)]]]), 'malformed'],
  ['a signature that is not bytes', encode([V, 1, [['want/x', now, 0, A, 0, 1, 'x'.repeat(64)]]]), 'malformed'],
  ['a tombstone with a value and a signature', encode([V, 1, [['want/x', now, 0, A, 1, 1, new Uint8Array(64)]]]), 'malformed'],
  ['a live entry with two trailing fields', encode([V, 1, [['want/x', now, 0, A, 0, 1, new Uint8Array(64), 1]]]), 'malformed'],
  ['the previous wire version (unsigned entries)', encode([1, 1, [['want/x', now, 0, A, 0, 1]]]), 'malformed'],
  ['__proto__ key in a value', new Uint8Array([...good.subarray(0, good.length - 1), 0xa1, 0x69, ...new TextEncoder().encode('__proto__'), 0xa1, 0x61, 0x61, 0x01]), 'malformed'],
]
for (const [name, bytes, want] of bad) {
  Codec(`decodeDelta refuses ${name} as ${want}`, () => {
    assert.is(reason(() => decodeDelta(bytes, limits)), want)
  })
}

Codec('checkInbound: an owned key written by another peer is refused as owner', () => {
  const h = new HlcClock(B, new ManualClock(now), 60_000)
  assert.is(reason(() => checkInbound([entry(`peer/${B}`, {}, A)], undefined, h)), 'owner')
  assert.is(reason(() => checkInbound([entry(`claim/ns/app/0/${B}`, {}, A)], undefined, h)), 'owner')
  assert.is(reason(() => checkInbound([entry(`status/ns/app/${B}`, {}, A)], undefined, h)), 'owner')
  assert.is(reason(() => checkInbound([entry(`status/ns/app/${A}`, {}, A)], undefined, h)), 'none')
  assert.is(reason(() => checkInbound([entry('want/ns/app', {}, A)], undefined, h)), 'none')
})

Codec('checkInbound: gossip entries must be written by the authenticated publisher', () => {
  const h = new HlcClock(B, new ManualClock(now), 60_000)
  assert.is(reason(() => checkInbound([entry('want/x', 1, A)], B, h)), 'owner')
  assert.is(reason(() => checkInbound([entry('want/x', 1, A)], A, h)), 'none')
})

Codec('checkInbound: an HLC too far in the future is refused as skew', () => {
  const h = new HlcClock(B, new ManualClock(now), 60_000)
  assert.is(reason(() => checkInbound([entry('want/x', 1, A, now + 61_000)], undefined, h)), 'skew')
})

Codec('checkLocalEntry refuses values that cannot be replicated with ValueError', () => {
  const cases: unknown[] = [{ a: undefined }, Number.NaN, Infinity, new Date(), new Map(), () => 1, 'x'.repeat(2000), { n: 10n }]
  for (const v of cases) {
    try {
      checkLocalEntry(entry('want/x', v as Entry['value']), limits)
      assert.unreachable(`accepted ${String(v)}`)
    } catch (err) {
      assert.instance(err, ValueError)
      assert.is((err as ValueError).code, 'MESH_VALUE_INVALID')
    }
  }
})

Codec('sync frames round-trip and bad ones are refused', () => {
  const frames: SyncFrame[] = [
    { kind: 'root', buckets: 4, root: new Uint8Array(16) },
    { kind: 'same' },
    { kind: 'buckets', hashes: new Uint8Array(32) },
    { kind: 'entries', want: [0, 3], entries: [entry('want/x', 1)], last: false },
    { kind: 'entries', want: undefined, entries: [], last: true },
    { kind: 'ack' },
  ]
  for (const f of frames) assert.equal(decodeSyncFrame(encodeSyncFrame(f), limits, 4), f)
  assert.is(reason(() => decodeSyncFrame(encode([V, 4, [9], [], true]), limits, 4)), 'malformed')
  assert.is(reason(() => decodeSyncFrame(encode([V, 3, new Uint8Array(8)]), limits, 4)), 'malformed')
  assert.is(reason(() => decodeSyncFrame(encode([V, 77]), limits, 4)), 'malformed')
})

Codec.run()
