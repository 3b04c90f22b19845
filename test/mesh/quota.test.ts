// Per-writer quotas (issue 13, "Limits"): one writer holds at most maxWriterEntries entries and
// maxWriterBytes encoded bytes in a replica. A local write over it fails with QuotaError naming
// the limit; a remote entry over it is refused and counted, so a peer with the cluster key cannot
// grow every other peer's memory without bound. Unit tests, then real peers where the writer runs
// with a raised quota of its own (a patched peer) and the victim keeps its own bound.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock } from '../../mesh/clock.js'
import type { Entry } from '../../mesh/entry.js'
import { QuotaError } from '../../mesh/errors.js'
import { HlcClock } from '../../mesh/hlc.js'
import type { Mesh } from '../../mesh/index.js'
import { Replica } from '../../mesh/replica.js'
import { allAlive, startCluster, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'
import { fakePeer } from '../helpers/mesh-ids.js'

const A = fakePeer(1)
const B = fakePeer(2)
const limits = { maxKeyBytes: 1024, maxEntryBytes: 4096, maxDeltaBytes: 8192, maxDeltaEntries: 100, maxValueDepth: 32 }
const Quota = suite('mesh per-writer quota')

function replica (self: string, quota: { entries: number, bytes: number }, over: Entry[] = []): Replica {
  const clock = new ManualClock(1_700_000_000_000)
  return new Replica({ self, hlc: new HlcClock(self, clock, 60_000), clock, limits, buckets: 16, quota, onOverQuota: e => over.push(e) })
}

Quota('local writes: the entry quota and the byte quota each stop a write with QuotaError naming the limit', () => {
  const r = replica(A, { entries: 3, bytes: 1_000_000 })
  for (let i = 0; i < 3; i++) r.write(`want/${i}`, i)
  r.write('want/0', 'overwriting a key of ours adds no entry')
  assert.throws(() => r.write('want/3', 3), (err: unknown) => err instanceof QuotaError && /4 entries, more than the 3 allowed per writer/.test((err as Error).message) && (err as QuotaError).code === 'MESH_QUOTA')
  assert.is(r.get('want/3'), undefined)
  const b = replica(A, { entries: 1000, bytes: 3000 })
  b.write('want/a', 'x'.repeat(1000))
  b.write('want/b', 'x'.repeat(1000))
  assert.throws(() => b.write('want/c', 'x'.repeat(1000)), (err: unknown) => err instanceof QuotaError && /bytes, more than the 3000 allowed/.test((err as Error).message))
  b.write('want/a', 'small') // shrinking a value frees bytes
  b.write('want/c', 'x'.repeat(1000))
  assert.ok(b.usageOf(A).bytes <= 3000)
})

Quota('remote entries over a writer\'s quota are refused and reported; other writers are not affected', () => {
  const over: Entry[] = []
  const r = replica(A, { entries: 5, bytes: 1_000_000 }, over)
  const from = (w: string, n: number): Entry[] => Array.from({ length: n }, (_, i) => ({ key: `want/${w.slice(-1)}/${i}`, hlc: { wall: 1_700_000_000_000, counter: i, peer: w }, value: i }))
  const applied = r.merge(from(B, 8))
  assert.is(applied.length, 5)
  assert.is(over.length, 3)
  assert.equal(r.usageOf(B).entries, 5)
  assert.is(r.merge(from(fakePeer(3), 2)).length, 2, 'another writer still writes')
  // a writer replacing another's entry takes one entry of its own quota, and frees the other's
  r.merge([{ key: `want/${fakePeer(3).slice(-1)}/0`, hlc: { wall: 1_700_000_000_001, counter: 0, peer: fakePeer(4) }, value: 'x' }])
  assert.is(r.usageOf(fakePeer(3)).entries, 1)
  assert.is(r.usageOf(fakePeer(4)).entries, 1)
})

let c: TestCluster
Quota.after(async () => { await c?.close() })

Quota('real peers: a writer with a raised quota of its own fills the victim only up to the victim\'s bound', async () => {
  const bound = 200 * 1024
  c = await startCluster(2, { config: { maxWriterBytes: bound } })
  const [victim] = c.peers as [Mesh]
  const rogue = await c.add({ config: { maxWriterBytes: 64 * 1024 * 1024 } })
  await waitFor('3 peers alive', () => allAlive(c.peers))
  const before = victim.counters().rejectedQuota
  const big = 'x'.repeat(40 * 1024)
  for (let i = 0; i < 12; i++) await rogue.put(`want/fill/${i}`, big) // ~480 KiB, over the victim's 200 KiB
  await waitFor('the victim refused the rest', () => victim.counters().rejectedQuota > before, 20_000)
  const held = victim.scan('want/fill/').filter(e => typeof e.value === 'string').length
  assert.ok(held >= 3 && held <= 5, `the victim holds 3-5 of the 40 KiB entries within 200 KiB, got ${held}`)
  assert.is(rogue.scan('want/fill/').length, 12, 'the writer itself holds all of its own (its raised quota)')
  await c.peers[1]!.put('want/other', 'still replicates')
  await waitFor('another writer still replicates to the victim', () => victim.get('want/other') === 'still replicates')
})

Quota.run()
