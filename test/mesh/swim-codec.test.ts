// SWIM wire format (mesh/swim-codec.ts): every kind round-trips; malformed input is refused with a
// DecodeError naming the reason; plus the suspicion formula and the broadcast queue's limits.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { encodeCbor } from '../../mesh/codec.js'
import { DecodeError } from '../../mesh/errors.js'
import { Suspicion, suspicionTimeout } from '../../mesh/suspicion.js'
import { BroadcastQueue } from '../../mesh/swim-broadcasts.js'
import { decodeSwim, encodeSwim, maxUpdatesPerMessage, type SwimMessage, type Update } from '../../mesh/swim-codec.js'

const Codec = suite('swim codec, suspicion, broadcasts')
const A = '12D3KooWMwGF4KzkdRFNSmxnhL96AtB9C5t8o937JkMFVFQDJCxj'
const B = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'

const updates: Update[] = [
  { kind: 'alive', peer: A, inc: 1_700_000_000 },
  { kind: 'suspect', peer: A, inc: 3, from: B, refused: false },
  { kind: 'dead', peer: B, inc: 0, from: A, refused: true },
  { kind: 'left', peer: B, inc: 9 },
]
const messages: SwimMessage[] = [
  { type: 'ping', seq: 1, inc: 5, updates: [] },
  { type: 'ack', seq: 2 ** 32, inc: 5, updates },
  { type: 'ping-req', seq: 7, inc: 1, target: B, updates: updates.slice(0, 1) },
  { type: 'nack', seq: 7, inc: 1, updates: [] },
  { type: 'gossip', seq: 0, inc: 1, updates },
]

Codec('every message and update kind round-trips; an idle ping is small', () => {
  for (const m of messages) assert.equal(decodeSwim(encodeSwim(m)), m)
  const ping = encodeSwim({ type: 'ping', seq: 123456, inc: 1_765_000_000, updates: [] })
  assert.ok(ping.length <= 16, `idle ping is ${ping.length} bytes`)
})

const bad: Array<[string, unknown, 'malformed' | 'oversized']> = [
  ['not an array', { a: 1 }, 'malformed'],
  ['too short', [1, 1, 0], 'malformed'],
  ['wrong version', [2, 1, 0, 0, []], 'malformed'],
  ['unknown kind', [1, 99, 0, 0, []], 'malformed'],
  ['negative seq', [1, 1, -1, 0, []], 'malformed'],
  ['fractional incarnation', [1, 1, 0, 0.5, []], 'malformed'],
  ['updates not a list', [1, 1, 0, 0, 'x'], 'malformed'],
  ['ping with a target', [1, 1, 0, 0, [], B], 'malformed'],
  ['ping-req without target', [1, 3, 0, 0, []], 'malformed'],
  ['ping-req with a bad target', [1, 3, 0, 0, [], 'not-a-peer'], 'malformed'],
  ['update with a bad peer id', [1, 5, 0, 0, [[1, 'zzz', 1]]], 'malformed'],
  ['update of unknown kind', [1, 5, 0, 0, [[9, A, 1]]], 'malformed'],
  ['suspect without from', [1, 5, 0, 0, [[2, A, 1]]], 'malformed'],
  ['suspect with a bad refused flag', [1, 5, 0, 0, [[2, A, 1, B, 2]]], 'malformed'],
  ['alive with extra fields', [1, 5, 0, 0, [[1, A, 1, B]]], 'malformed'],
  ['too many updates', [1, 5, 0, 0, Array.from({ length: maxUpdatesPerMessage + 1 }, () => [1, A, 1])], 'oversized'],
]

Codec('malformed messages are refused with a reason', () => {
  for (const [name, value, reason] of bad) {
    try {
      decodeSwim(encodeCbor(value))
      assert.unreachable(`${name} was accepted`)
    } catch (err) {
      assert.instance(err, DecodeError, name)
      assert.is((err as DecodeError).reason, reason, name)
    }
  }
  for (const raw of [new Uint8Array([0xff]), new Uint8Array(0), new Uint8Array(5000)]) {
    assert.throws(() => decodeSwim(raw), (e: unknown) => e instanceof DecodeError)
  }
})

Codec('suspicion timeout: max without confirmations, min at k, monotone, never below min', () => {
  const table: Array<[number, number, number, number, number]> = [
    // min, max, k, confirmations, expected
    [1000, 4000, 3, 0, 4000],
    [1000, 4000, 3, 3, 1000],
    [1000, 4000, 3, 9, 1000],
    [1000, 4000, 0, 0, 1000],
    [1000, 4000, 1, 1, 1000],
  ]
  for (const [min, max, k, c, want] of table) assert.is(suspicionTimeout(min, max, k, c), want, `min ${min} max ${max} k ${k} c ${c}`)
  let prev = Infinity
  for (let c = 0; c <= 5; c++) {
    const t = suspicionTimeout(1000, 4000, 3, c)
    assert.ok(t <= prev && t >= 1000)
    prev = t
  }
  const s = new Suspicion({ start: 100, minMs: 1000, maxMs: 4000, expected: 3, from: A })
  assert.is(s.deadline(), 4100)
  assert.not.ok(s.confirm(A), 'the first suspector is not a confirmation')
  assert.ok(s.confirm(B))
  assert.not.ok(s.confirm(B), 'a repeated confirmation counts once')
  assert.ok(s.deadline() < 4100)
})

Codec('broadcast queue: least-sent first, dropped after the limit, newer news replaces older', () => {
  const q = new BroadcastQueue()
  q.enqueue({ kind: 'suspect', peer: A, inc: 1, from: B, refused: false })
  q.enqueue({ kind: 'suspect', peer: A, inc: 1, from: A.slice(0, -1) + 'k', refused: false })
  assert.is(q.size, 2, 'confirmations from different peers spread side by side')
  q.enqueue({ kind: 'dead', peer: A, inc: 1, from: B, refused: false })
  assert.equal(q.about(A).map(u => u.kind), ['dead'], 'a death replaces the suspicions')
  let sent = 0
  while (q.take(8, 5).length > 0) sent++
  assert.is(sent, 5)
  assert.is(q.size, 0)
})

Codec.run()
