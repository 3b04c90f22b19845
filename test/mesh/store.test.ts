// Unit tests of the store: group-committed writes survive a reopen; identity, cluster and HLC
// high-water mark persist; purged keys are gone; a second open of the same home fails clearly.
import { rmSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { defaults } from '../../mesh/defaults.js'
import type { Entry } from '../../mesh/entry.js'
import { StoreError } from '../../mesh/errors.js'
import { Store } from '../../mesh/store.js'
import { tempHome } from '../helpers/mesh-cluster.js'
import { fakePeer } from '../helpers/mesh-ids.js'

const limits = { maxKeyBytes: defaults.maxKeyBytes, maxEntryBytes: defaults.maxEntryBytes, maxDeltaBytes: defaults.maxDeltaBytes, maxDeltaEntries: defaults.maxDeltaEntries, maxValueDepth: defaults.maxValueDepth }
const A = fakePeer(1)
const e = (key: string, value: Entry['value'], wall: number): Entry => ({ key, hlc: { wall, counter: 0, peer: A }, value })

const Persist = suite('store')
let home: string
Persist.before.each(() => { home = tempHome('store') })
Persist.after.each(() => { rmSync(home, { recursive: true, force: true }) })

Persist('concurrent writes are group-committed and all survive a reopen, with the high-water mark', async () => {
  const s = await Store.open(home)
  let hw = { wall: 0, counter: 0 }
  s.trackHighWater(() => hw)
  const writes: Array<Promise<void>> = []
  for (let i = 0; i < 500; i++) {
    hw = { wall: 1000 + i, counter: 0 }
    writes.push(s.write([e(`want/${i}`, i % 7 === 0 ? undefined : { i }, 1000 + i)], i % 2 === 0))
  }
  await Promise.all(writes)
  await s.remove(['want/3'])
  await s.close()
  const again = await Store.open(home)
  const entries = await again.loadEntries(limits)
  assert.is(entries.length, 499)
  assert.equal(entries.find(x => x.key === 'want/10')!.value, { i: 10 })
  assert.is(entries.find(x => x.key === 'want/7')!.value, undefined, 'tombstones persist')
  assert.not.ok(entries.some(x => x.key === 'want/3'), 'removed keys are gone')
  assert.equal(await again.loadHighWater(), { wall: 1499, counter: 0 })
  await again.close()
})

Persist('identity and cluster persist across reopen', async () => {
  const s = await Store.open(home)
  const id1 = peerIdFromPrivateKey(await s.identity()).toString()
  assert.is(await s.cluster(), undefined)
  await s.saveCluster({ id: '0123456789abcdef', key: new Uint8Array(32).fill(5), bootstrap: ['/ip4/127.0.0.1/tcp/1/p2p/' + A] })
  await s.close()
  const again = await Store.open(home)
  assert.is(peerIdFromPrivateKey(await again.identity()).toString(), id1)
  const c = await again.cluster()
  assert.is(c?.id, '0123456789abcdef')
  assert.equal(c?.key, new Uint8Array(32).fill(5))
  await again.close()
})

Persist('a second open of a home in use fails with StoreError', async () => {
  const s = await Store.open(home)
  try {
    await Store.open(home)
    assert.unreachable('opened twice')
  } catch (err) {
    assert.instance(err, StoreError)
    assert.is((err as StoreError).code, 'MESH_STORE')
  } finally {
    await s.close()
  }
})

Persist.run()
