// Integration (real libp2p): anti-entropy applies the owner rule to relayed entries. A peer of the
// cluster that forges entries in its store and serves them by sync cannot make other peers accept
// entries it may not write, nor take over a peer's own keys: the owner refuses them and writes its
// true value above the forgery, which repairs the peers that could not tell (mesh README, "Sync
// and trust").
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Entry } from '../../mesh/entry.js'
import type { Mesh } from '../../mesh/index.js'
import { Store } from '../../mesh/store.js'
import { allAlive, startCluster, stopPeer, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const Trust = suite('mesh sync trust')
let c: TestCluster
Trust.after(async () => { await c.close() })

const record = (m: Mesh, id: string): Record<string, unknown> | undefined => m.get(`peer/${id}`) as Record<string, unknown> | undefined

Trust('forged peer/, claim/ and status/ entries served by sync are refused or repaired by their owner', async () => {
  c = await startCluster(3)
  const [v, o, f] = c.peers as [Mesh, Mesh, Mesh]
  await waitFor('3 peers alive', () => allAlive(c.peers))
  const forgerHome = c.homes[2]!
  await stopPeer(f)

  // the forger edits its own store: entries in other peers' names, 20 s ahead (inside the skew limit)
  const wall = Date.now() + 20_000
  const forged: Entry[] = [
    { key: `peer/${v.peerId}`, hlc: { wall, counter: 0, peer: v.peerId }, value: { name: 'forged', tags: ['evil'], addrs: [], startedAt: 0 } },
    { key: `claim/ns/app/${v.peerId}`, hlc: { wall, counter: 1, peer: v.peerId }, value: { epoch: 99 } },
    { key: `status/ns/app/${v.peerId}`, hlc: { wall, counter: 2, peer: v.peerId }, value: { state: 'running' } },
  ]
  const store = await Store.open(forgerHome)
  await store.write(forged, true)
  await store.close()

  const rejectedBefore = v.counters().rejectedOwner + o.counters().rejectedOwner
  const back = await c.add({ home: forgerHome, restart: true })
  await waitFor('the forger completed an exchange (its forgeries are dropped one by one, not the whole exchange)', () => back.synced, 20_000)
  await waitFor('the forger synced with both', async () => (await back.testing.syncWith(v.peerId)) && (await back.testing.syncWith(o.peerId)), 20_000)

  // the owner never takes the forgery, and repairs the others
  assert.is(record(v, v.peerId)?.name, 'p0', 'v keeps its own record')
  assert.is(v.get(`claim/ns/app/${v.peerId}`), undefined, 'v has no forged claim')
  assert.ok(v.counters().rejectedOwner + o.counters().rejectedOwner > rejectedBefore, 'the forgeries were counted')
  await waitFor('every peer holds v\'s true record and no forged claim or status', () => [v, o, back].every(p =>
    record(p, v.peerId)?.name === 'p0' && p.get(`claim/ns/app/${v.peerId}`) === undefined && p.get(`status/ns/app/${v.peerId}`) === undefined), 20_000).catch(err => {
    for (const p of [v, o, back]) console.log(p.peerId.slice(-4), record(p, v.peerId)?.name, p.entry(`claim/ns/app/${v.peerId}`), p.entry(`status/ns/app/${v.peerId}`))
    throw err
  })
  // the repair wins by HLC, so it is the same everywhere
  const hv = v.entry(`peer/${v.peerId}`)!.hlc
  assert.ok(hv.wall >= wall, 'the true record was rewritten above the forgery')
})

Trust('entries written by a non-owner are dropped one by one; the rest of the exchange is applied', async () => {
  await c.close()
  c = await startCluster(3)
  const [v, o, f] = c.peers as [Mesh, Mesh, Mesh]
  await waitFor('3 peers alive', () => allAlive(c.peers))
  const forgerHome = c.homes[2]!
  await stopPeer(f)
  const wall = Date.now()
  const store = await Store.open(forgerHome)
  await store.write([
    { key: `claim/ns/db/${o.peerId}`, hlc: { wall, counter: 0, peer: f.peerId }, value: { epoch: 7 } },
    { key: `peer/${o.peerId}`, hlc: { wall, counter: 1, peer: f.peerId }, value: { name: 'forged-o' } },
    { key: 'want/legit', hlc: { wall, counter: 2, peer: f.peerId }, value: 'written by f while away' },
  ], true)
  await store.close()
  const rejectedBefore = v.counters().rejectedOwner + o.counters().rejectedOwner
  const back = await c.add({ home: forgerHome, restart: true })
  await waitFor('the others got the legitimate entry by sync', () => v.get('want/legit') === 'written by f while away' && o.get('want/legit') === 'written by f while away', 20_000)
  assert.ok(back.synced)
  for (const p of [v, o]) {
    assert.is(p.get(`claim/ns/db/${o.peerId}`), undefined, 'a claim written by a non-owner is refused')
    assert.is(record(p, o.peerId)?.name, 'p1', 'a peer record written by a non-owner is refused')
  }
  assert.ok(v.counters().rejectedOwner + o.counters().rejectedOwner > rejectedBefore)
})

Trust.run()
