// Integration: with 30% of gossip deltas dropped on receipt, anti-entropy still converges.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { allAlive, converged, startCluster, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const Drop = suite('mesh gossip loss')
let c: TestCluster

Drop.before(async () => {
  c = await startCluster(3)
  await waitFor('3 peers alive everywhere', () => allAlive(c.peers))
  await waitFor('all synced', () => c.peers.every(p => p.synced))
})
Drop.after(async () => { await c.close() })

Drop('30% of deltas dropped: every write still arrives everywhere, repaired by anti-entropy', async () => {
  for (const p of c.peers) p.testing.setGossipDropRate(0.3)
  const before = c.peers.map(p => p.counters().syncEntriesReceived)
  // one delta per write, so the drop hits many separate deltas
  for (let i = 0; i < 150; i++) {
    await c.peers[i % 3]!.put(`want/lossy/${i}`, i)
    await new Promise(resolve => setTimeout(resolve, 8))
  }
  await waitFor('every peer holds all 150 writes', () => c.peers.every(p => p.scan('want/lossy/').length === 150), 30_000)
  await waitFor('identical digests', () => converged(c.peers))
  const dropped = c.peers.reduce((n, p) => n + p.counters().droppedByTestHook, 0)
  const received = c.peers.reduce((n, p) => n + p.counters().deltasReceived + p.counters().droppedByTestHook, 0)
  const repaired = c.peers.reduce((n, p, i) => n + p.counters().syncEntriesReceived - before[i]!, 0)
  assert.ok(dropped / received > 0.2 && dropped / received < 0.4, `dropped ${dropped} of ${received} deltas`)
  assert.ok(repaired > 0, 'anti-entropy carried the lost entries')
})

Drop.run()
