// Integration (real libp2p on loopback, short timers): deleted keys stay deleted when a peer comes
// back with an old replica: after a clean leave and restart from its home, and after a partition
// longer than the purge age. Acknowledged writes newer than the deletes survive on both sides.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { allAlive, converged, startCluster, stopPeer, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'
import type { Mesh } from '../../mesh/index.js'

// tombstones may go after 300 ms once acknowledged; checked every 100 ms
const config = { tombstoneMinAgeMs: 300, purgeIntervalMs: 100 }
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

const Tombstones = suite('mesh tombstones')
let c: TestCluster | undefined
Tombstones.after.each(async () => { await c?.close(); c = undefined })

Tombstones('a peer that left and restarts from its old home brings back nothing deleted while it was away', async () => {
  c = await startCluster(2, { config })
  const [a, b] = c.peers as [Mesh, Mesh]
  await waitFor('2 peers alive', () => allAlive(c!.peers))
  for (let i = 0; i < 20; i++) await a.put(`want/k/${i}`, i)
  await a.put('secret/ns/token', 'sealed')
  await waitFor('converged before the leave', () => converged([a, b]))
  const home = c.homes[1]!

  await b.leave()
  await stopPeer(b)
  await waitFor('a sees b gone', () => !a.alive().includes(b.peerId), 10_000)
  for (let i = 0; i < 10; i++) await a.delete(`want/k/${i}`)
  await a.delete('secret/ns/token')
  await a.put('want/new-while-away', 'a')
  // many purge rounds past the minimum age: with b counting, nothing may be purged
  await sleep(config.tombstoneMinAgeMs + 15 * config.purgeIntervalMs)
  assert.ok(a.entry('want/k/0'), 'the tombstone is kept while a peer that left has not acknowledged it')

  const back = await c.add({ home, restart: true })
  assert.is(back.peerId, b.peerId)
  assert.is(back.get('want/k/0'), 0, 'the old replica came back from disk')
  await back.put('want/k/15', 'rewritten after the restart')
  await back.whenSynced()
  await waitFor('converged after the restart', () => converged([a, back]), 15_000)
  for (const p of [a, back]) {
    for (let i = 0; i < 10; i++) assert.is(p.get(`want/k/${i}`), undefined, `want/k/${i} stays deleted on ${p === a ? 'a' : 'b'}`)
    assert.is(p.get('secret/ns/token'), undefined, 'the removed secret stays removed')
    assert.is(p.get('want/k/12'), 12, 'undeleted keys stay')
    assert.is(p.get('want/new-while-away'), 'a')
    assert.is(p.get('want/k/15'), 'rewritten after the restart', 'a write after the restart is kept')
  }

  // once both hold the tombstones and exchanged, they are purged everywhere, and stay gone
  await waitFor('tombstones purged on both', () => [a, back].every(p => p.entry('want/k/0') === undefined), 15_000)
  assert.is(a.get('want/k/3'), undefined)
})

Tombstones('a partition longer than the purge age resurrects nothing; writes on both sides survive', async () => {
  c = await startCluster(3, { config })
  const [a, b, d] = c.peers as [Mesh, Mesh, Mesh]
  await waitFor('3 peers alive', () => allAlive(c!.peers))
  for (let i = 0; i < 20; i++) await a.put(`want/p/${i}`, i)
  await waitFor('converged before the cut', () => converged([a, b, d]))

  const left = [a, b]
  await Promise.all([a.gater.block([d.peerId]), b.gater.block([d.peerId]), d.gater.block([a.peerId, b.peerId])])
  await waitFor('d is cut off', () => a.alive().length === 2 && d.alive().length === 1, 15_000)
  for (let i = 0; i < 10; i++) await left[i % 2]!.delete(`want/p/${i}`)
  await waitFor('the deletes reached both on the left', () => left.every(p => p.get('want/p/9') === undefined))
  // acknowledged writes on both sides, after the deletes
  await a.put('want/left-side', 'a')
  await d.put('want/right-side', 'd')
  await d.put('want/p/1', 'rewritten on the cut side after the delete')
  await sleep(config.tombstoneMinAgeMs + 15 * config.purgeIntervalMs)

  await Promise.all([a.gater.unblock([d.peerId]), b.gater.unblock([d.peerId]), d.gater.unblock([a.peerId, b.peerId])])
  await waitFor('healed and converged', () => allAlive([a, b, d]) && converged([a, b, d]), 30_000)
  for (const p of [a, b, d]) {
    for (const i of [0, 2, 3, 4, 5, 6, 7, 8, 9]) assert.is(p.get(`want/p/${i}`), undefined, `want/p/${i} stays deleted`)
    assert.is(p.get('want/p/1'), 'rewritten on the cut side after the delete', 'a newer write beats the delete')
    assert.is(p.get('want/left-side'), 'a')
    assert.is(p.get('want/right-side'), 'd')
    assert.is(p.get('want/p/15'), 15)
  }
})

// past the hard TTL the cluster purges without the absent peer's acknowledgement; the purge
// horizon makes the peers that purged refuse the old keys and tombstone them where they come from
const ttlConfig = { ...config, tombstoneTtlMs: 1500 }

Tombstones('a peer stopped longer than the TTL comes back without resurrecting purged keys', async () => {
  c = await startCluster(2, { config: ttlConfig })
  const [a, b] = c.peers as [Mesh, Mesh]
  await waitFor('2 peers alive', () => allAlive(c!.peers))
  // written by both: a's own keys coming back look forged to a; b's are caught by the purge horizon
  for (let i = 0; i < 10; i++) await (i % 2 ? b : a).put(`want/t/${i}`, i)
  await waitFor('converged', () => converged([a, b]))
  const home = c.homes[1]!
  await b.leave()
  await stopPeer(b)
  for (let i = 0; i < 5; i++) await a.delete(`want/t/${i}`)
  await waitFor('a purged the tombstones by TTL', () => a.entry('want/t/0') === undefined && a.entry('want/t/4') === undefined, 15_000)
  await a.put('want/t/2', 'rewritten after the purge')

  const back = await c.add({ home, restart: true })
  assert.is(back.get('want/t/0'), 0, 'the old replica came back from disk')
  await back.put('want/after-restart', 'b')
  await back.whenSynced()
  await waitFor('converged after the restart', () => converged([a, back]), 20_000)
  for (const p of [a, back]) {
    for (const i of [0, 1, 3, 4]) assert.is(p.get(`want/t/${i}`), undefined, `want/t/${i} stays deleted`)
    assert.is(p.get('want/t/2'), 'rewritten after the purge')
    assert.is(p.get('want/t/7'), 7)
    assert.is(p.get('want/after-restart'), 'b')
  }
  assert.ok(a.counters().rejectedStale > 0, 'a refused the stale keys written by b')
})

Tombstones('a single peer cut off longer than the TTL resurrects nothing after the heal', async () => {
  c = await startCluster(3, { config: ttlConfig })
  const [a, b, d] = c.peers as [Mesh, Mesh, Mesh]
  await waitFor('3 peers alive', () => allAlive(c!.peers))
  for (let i = 0; i < 10; i++) await a.put(`want/q/${i}`, i)
  await waitFor('converged before the cut', () => converged([a, b, d]))
  await Promise.all([a.gater.block([d.peerId]), b.gater.block([d.peerId]), d.gater.block([a.peerId, b.peerId])])
  await waitFor('d is cut off', () => a.alive().length === 2 && d.alive().length === 1, 15_000)
  for (let i = 0; i < 5; i++) await a.delete(`want/q/${i}`)
  await waitFor('purged by TTL on the left', () => [a, b].every(p => p.entry('want/q/0') === undefined && p.entry('want/q/4') === undefined), 15_000)
  await d.put('want/q/1', 'rewritten on the cut side after the delete')
  await d.put('want/d-side', 'd')
  await a.put('want/a-side', 'a')

  await Promise.all([a.gater.unblock([d.peerId]), b.gater.unblock([d.peerId]), d.gater.unblock([a.peerId, b.peerId])])
  await waitFor('healed and converged', () => allAlive([a, b, d]) && converged([a, b, d]), 30_000)
  for (const p of [a, b, d]) {
    for (const i of [0, 2, 3, 4]) assert.is(p.get(`want/q/${i}`), undefined, `want/q/${i} stays deleted`)
    assert.is(p.get('want/q/1'), 'rewritten on the cut side after the delete')
    assert.is(p.get('want/q/8'), 8)
    assert.is(p.get('want/d-side'), 'd')
    assert.is(p.get('want/a-side'), 'a')
  }
})

// periodic anti-entropy picks random partners: a peer needs ~N·ln N rounds to exchange with all N
// others, so after a restart the peer that came back kept tombstones the others had purged and the
// replicas differed for minutes (chaos seed 1, round 4). With periodic rounds pushed out of the
// test's reach, purge must still finish everywhere: each peer syncs with the peers holding it back.
Tombstones('after a leave and restart every peer purges the same tombstones, without waiting for random sync rounds', async () => {
  c = await startCluster(3, { config: { ...config, syncIntervalMs: 60_000 } })
  const [a, , d] = c.peers as [Mesh, Mesh, Mesh]
  await waitFor('3 peers alive', () => allAlive(c!.peers))
  for (let i = 0; i < 10; i++) await a.put(`want/g/${i}`, i)
  await waitFor('converged before the leave', () => converged(c!.peers))
  const b = c.peers[1]!
  const home = c.homes[1]!
  await b.leave()
  await stopPeer(b)
  await waitFor('a sees b gone', () => !a.alive().includes(b.peerId), 10_000)
  for (let i = 0; i < 3; i++) await a.delete(`want/g/${i}`)
  const back = await c.add({ home, restart: true })
  await back.whenSynced()
  await waitFor('b alive everywhere again', () => allAlive([a, back, d]), 10_000)
  await d.delete('want/g/5')
  const peers = [a, back, d]
  const gone = ['want/g/0', 'want/g/1', 'want/g/2', 'want/g/5']
  await waitFor('every tombstone purged on every peer, replicas identical', () => peers.every(p => gone.every(k => p.entry(k) === undefined)) && converged(peers), 10_000)
  for (const p of peers) {
    for (const k of gone) assert.is(p.get(k), undefined, `${k} stays deleted`)
    assert.is(p.get('want/g/7'), 7, 'undeleted keys stay')
  }
})

Tombstones.run()
