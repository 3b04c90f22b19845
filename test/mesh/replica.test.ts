// Unit tests of the replica: LWW merge (order-independent, deterministic tie-break), owner rules,
// tombstones, change notifications by prefix, digest consistency and purge.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock, SeededRandom } from '../../mesh/clock.js'
import { defaults } from '../../mesh/defaults.js'
import type { Entry } from '../../mesh/entry.js'
import { KeyError, OwnershipError, ValueError } from '../../mesh/errors.js'
import { HlcClock } from '../../mesh/hlc.js'
import { Replica, type Change } from '../../mesh/replica.js'
import { TombstoneCollector } from '../../mesh/tombstones.js'
import { fakePeer } from '../helpers/mesh-ids.js'

const A = fakePeer(1)
const B = fakePeer(2)
const C = fakePeer(3)
const limits = { maxKeyBytes: 1024, maxEntryBytes: 4096, maxDeltaBytes: 8192, maxDeltaEntries: 100, maxValueDepth: 32 }

function replica (self: string, clock = new ManualClock()): Replica {
  return new Replica({ self, hlc: new HlcClock(self, clock, defaults.maxClockSkewMs), clock, limits, buckets: 16 })
}
const e = (key: string, value: Entry['value'], wall: number, peer: string, counter = 0): Entry => ({ key, hlc: { wall, counter, peer }, value })
const root = (r: Replica): string => Buffer.from(r.digest.rootHash()).toString('hex')

const Merge = suite('replica merge')

Merge('the greater HLC wins, whatever the arrival order', () => {
  const r1 = replica(C)
  const r2 = replica(C)
  const old = e('want/x', 'old', 100, A)
  const newer = e('want/x', 'new', 200, A)
  r1.merge([old]); r1.merge([newer])
  r2.merge([newer]); r2.merge([old])
  assert.is(r1.get('want/x'), 'new')
  assert.is(r2.get('want/x'), 'new')
  assert.is(root(r1), root(r2))
})

Merge('equal wall and counter: the larger peer id wins on every replica', () => {
  const fromA = e('want/x', 'A', 100, A)
  const fromB = e('want/x', 'B', 100, B)
  for (const order of [[fromA, fromB], [fromB, fromA]]) {
    const r = replica(C)
    for (const x of order) r.merge([x])
    assert.is(r.get('want/x'), 'B')
  }
})

Merge('random interleavings of many writes converge to the same state and digest (property)', () => {
  const rnd = new SeededRandom(42)
  const writes: Entry[] = []
  for (let i = 0; i < 400; i++) {
    const peer = [A, B, C][Math.floor(rnd.next() * 3)]!
    const key = `want/k${Math.floor(rnd.next() * 30)}`
    const value = rnd.next() < 0.2 ? undefined : i
    writes.push(e(key, value, 1000 + Math.floor(rnd.next() * 50), peer, Math.floor(rnd.next() * 3)))
  }
  const roots = new Set<string>()
  const states = new Set<string>()
  for (let trial = 0; trial < 6; trial++) {
    const r = replica(fakePeer(9))
    const shuffled = [...writes]
    for (let i = shuffled.length - 1; i > 0; i--) { const j = Math.floor(rnd.next() * (i + 1)); [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!] }
    // deliver in random batches, some twice (idempotence)
    for (let i = 0; i < shuffled.length;) { const n = 1 + Math.floor(rnd.next() * 20); r.merge(shuffled.slice(i, i + n)); if (rnd.next() < 0.3) r.merge(shuffled.slice(i, i + n)); i += n }
    roots.add(root(r))
    states.add(JSON.stringify(r.scan('')))
  }
  assert.is(roots.size, 1)
  assert.is(states.size, 1)
})

Merge('a local write is stamped after everything observed, so it wins locally and remotely', () => {
  const clock = new ManualClock(1000)
  const r = replica(A, clock)
  r.merge([e('want/x', 'remote', 5000, B)])
  const mine = r.write('want/x', 'local')!
  assert.is(r.get('want/x'), 'local')
  const other = replica(C)
  other.merge([e('want/x', 'remote', 5000, B)])
  other.merge([mine])
  assert.is(other.get('want/x'), 'local')
})

const Owners = suite('replica owner rules')

const ownerCases: Array<[string, string, boolean]> = [
  ['own peer record', `peer/${A}`, true],
  ["another peer's record", `peer/${B}`, false],
  ['own claim with a nested instance path', `claim/ns/app/0/${A}`, true],
  ["another peer's claim", `claim/ns/app/${B}`, false],
  ["another peer's status", `status/ns/app/${B}`, false],
  ['want (any peer)', 'want/ns/app', true],
  ['tpl (any peer)', 'tpl/ns/app', true],
  ['unlisted prefix (any peer)', 'misc/thing', true],
]
for (const [name, key, allowed] of ownerCases) {
  Owners(`local write: ${name} is ${allowed ? 'allowed' : 'refused with OwnershipError'}`, () => {
    const r = replica(A)
    if (allowed) { r.write(key, 1); assert.is(r.get(key), 1) } else {
      try { r.write(key, 1); assert.unreachable('accepted') } catch (err) { assert.instance(err, OwnershipError); assert.is((err as OwnershipError).code, 'MESH_NOT_OWNER') }
      assert.is(r.get(key), undefined)
    }
  })
}

Owners('malformed keys and values are refused before anything is applied', () => {
  const r = replica(A)
  for (const key of ['', '/x', 'x/', 'a//b', 'peer', `peer/${A}/extra`, 'x\n']) {
    try { r.write(key, 1); assert.unreachable(`accepted key ${JSON.stringify(key)}`) } catch (err) { assert.instance(err, KeyError) }
  }
  try { r.write('want/x', { bad: undefined } as never); assert.unreachable('accepted undefined inside a value') } catch (err) { assert.instance(err, ValueError) }
  assert.is(r.entryCount, 0)
})

const Tomb = suite('replica tombstones')

Tomb('delete leaves a tombstone that beats older writes and loses to newer ones', () => {
  const clock = new ManualClock(1000)
  const r = replica(A, clock)
  r.write('want/x', 1)
  const t = r.write('want/x', undefined)!
  assert.is(r.get('want/x'), undefined)
  assert.is(r.entry('want/x'), t)
  assert.is(r.size, 0)
  assert.is(r.entryCount, 1)
  r.merge([e('want/x', 'stale', 500, B)])
  assert.is(r.get('want/x'), undefined)
  r.merge([e('want/x', 'fresh', t.hlc.wall + 1, B)])
  assert.is(r.get('want/x'), 'fresh')
  assert.is(r.write('want/never', undefined), undefined, 'deleting an absent key writes nothing')
})

Tomb('purge needs the minimum age and an ack from every required peer started after the delete', () => {
  const clock = new ManualClock(1000)
  const r = replica(A, clock)
  let required = [B, C]
  const tc = new TombstoneCollector({ replica: r, clock, requiredPeers: () => required, minAgeMs: 1000, ttlMs: 100_000 })
  r.write('want/x', 1)
  const before = clock.monotonic()
  clock.advance(10)
  r.write('want/x', undefined)
  tc.ack(B, before)
  tc.ack(C, before)
  clock.advance(2000)
  assert.equal(tc.purgeable(), [], 'acks from exchanges that began before the delete do not count')
  tc.ack(B, clock.monotonic())
  assert.equal(tc.purgeable(), [], 'C has not acknowledged')
  tc.ack(C, clock.monotonic())
  const purgeable = tc.purgeable()
  assert.is(purgeable.length, 1)
  const rootBefore = root(r)
  assert.is(r.purge(purgeable).length, 1)
  assert.is(r.entryCount, 0)
  assert.is.not(root(r), rootBefore)
  assert.is(root(r), root(replica(B)), 'an empty replica and a purged one have the same digest')
  required = []
})

Tomb('the TTL purges even without acknowledgements; a newer write is never purged', () => {
  const clock = new ManualClock(1000)
  const r = replica(A, clock)
  const tc = new TombstoneCollector({ replica: r, clock, requiredPeers: () => [B], minAgeMs: 1000, ttlMs: 50_000 })
  r.write('want/x', 1)
  r.write('want/x', undefined)
  clock.advance(49_000)
  assert.equal(tc.purgeable(), [])
  clock.advance(2000)
  const old = tc.purgeable()
  assert.is(old.length, 1)
  r.write('want/x', 2)
  assert.equal(r.purge(old), [], 'the tombstone was replaced meanwhile')
  assert.is(r.get('want/x'), 2)
})

const Notify = suite('replica change notifications')

Notify('listeners get changes under their prefix only, with previous value and origin', () => {
  const clock = new ManualClock()
  const r = replica(A, clock)
  const seen: Change[] = []
  const off = r.onChange('want/', c => seen.push(c))
  r.write('want/x', 1)
  r.write('tpl/y', 1)
  r.merge([e('want/x', 2, clock.now() + 10_000, B), e('want/z', 3, 1, B)])
  r.write('want/x', undefined)
  assert.equal(seen.map(c => [c.key, c.value, c.previous, c.origin]), [
    ['want/x', 1, undefined, 'local'],
    ['want/x', 2, 1, 'remote'],
    ['want/z', 3, undefined, 'remote'],
    ['want/x', undefined, 2, 'local'],
  ])
  off()
  r.write('want/q', 1)
  assert.is(seen.length, 4)
})

Notify('a losing merge notifies nothing; a throwing listener is reported and does not stop others', () => {
  const errors: unknown[] = []
  const clock = new ManualClock()
  const r = new Replica({ self: A, hlc: new HlcClock(A, clock, 60_000), clock, limits, buckets: 16, onListenerError: err => errors.push(err) })
  let count = 0
  r.onChange('', () => { throw new Error('boom') })
  r.onChange('', () => { count++ })
  r.merge([e('want/x', 1, 100, B)])
  r.merge([e('want/x', 0, 50, B)])
  assert.is(count, 1)
  assert.is(errors.length, 1)
})

Notify('scan returns live keys under a prefix in key order; entriesInBuckets covers every entry', () => {
  const r = replica(A)
  for (const k of ['want/b', 'want/a', 'tpl/x', 'want/c']) r.write(k, k)
  r.write('want/c', undefined)
  assert.equal(r.scan('want/').map(x => x.key), ['want/a', 'want/b'])
  const all = r.entriesInBuckets(Array.from({ length: 16 }, (_, i) => i))
  assert.is(all.length, 4)
})

Merge.run()
Owners.run()
Tomb.run()
Notify.run()
