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

Tombstones.run()
