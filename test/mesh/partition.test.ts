// Integration: 5 peers cut 2+3 at the transport by the gater, written on both sides, heal to one state.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { compareHlc } from '../../mesh/hlc.js'
import { allAlive, converged, startCluster, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const Partition = suite('mesh partition 2+3')
let c: TestCluster

Partition.before(async () => {
  c = await startCluster(5)
  await waitFor('5 peers alive everywhere', () => allAlive(c.peers), 30_000)
})
Partition.after(async () => { await c.close() })

Partition('both sides keep working while cut, then heal to identical state', async () => {
  const left = c.peers.slice(0, 2)
  const right = c.peers.slice(2)
  await c.peers[0]!.put('want/before', 'shared history')
  await waitFor('pre-partition write everywhere', () => c.peers.every(p => p.get('want/before') === 'shared history'))

  await Promise.all([
    ...left.map(p => p.gater.block(right.map(r => r.peerId))),
    ...right.map(p => p.gater.block(left.map(l => l.peerId))),
  ])
  const sameSide = (side: typeof left): boolean => side.every(p => p.alive().length === side.length)
  await waitFor('each side sees only itself alive', () => sameSide(left) && sameSide(right), 15_000)
  for (const p of c.peers) assert.is(p.connections().filter(id => !(left.includes(p) ? left : right).some(q => q.peerId === id)).length, 0, 'no connection crosses the cut')

  for (let i = 0; i < 50; i++) {
    await left[i % 2]!.put(`want/left/${i}`, i)
    await right[i % 3]!.put(`want/right/${i}`, i)
  }
  await left[0]!.put('want/both', 'left side')
  await right[0]!.put('want/both', 'right side')
  await left[1]!.delete('want/before')
  await right[1]!.put('want/before', 'rewritten on the right')
  // LWW by HLC: the greater HLC must win after the heal (not necessarily the later in real time)
  const expect = (key: string): unknown => {
    const l = left[0]!.entry(key)!
    const r = right[0]!.entry(key)!
    return compareHlc(l.hlc, r.hlc) > 0 ? l.value : r.value
  }

  await waitFor('each side converged internally', () => converged(left) && converged(right), 15_000)
  const expectBoth = expect('want/both')
  const expectBefore = expect('want/before')
  assert.is.not(left[0]!.get('want/both'), right[0]!.get('want/both'), 'the sides disagree before the heal')
  assert.is(left[0]!.get('want/right/0'), undefined, 'the cut really held')
  assert.is(right[0]!.get('want/left/0'), undefined, 'the cut really held')
  assert.is.not(left[0]!.testing.digestRoot(), right[0]!.testing.digestRoot())

  for (const p of c.peers) p.gater.unblock()
  await waitFor('one state everywhere', () => converged(c.peers), 30_000)
  await waitFor('everyone alive again', () => allAlive(c.peers), 30_000)
  const winnerBoth = c.peers[0]!.get('want/both')
  const winnerBefore = c.peers[0]!.get('want/before')
  for (const p of c.peers) {
    assert.is(p.scan('want/left/').length, 50)
    assert.is(p.scan('want/right/').length, 50)
    assert.is(p.get('want/both'), winnerBoth)
    assert.is(p.get('want/before'), winnerBefore)
  }
  assert.is(winnerBoth, expectBoth)
  assert.is(winnerBefore, expectBefore)
})

Partition.run()
