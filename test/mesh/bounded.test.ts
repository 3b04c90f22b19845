// Integration: 12 peers with a small connection bound. No peer connects to all others, yet writes
// reach everyone, and a 6+6 partition heals to one state (DESIGN §4 "connections are bounded").
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { allAlive, converged, startCluster, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const n = 12
// fill to 3, close idle connections above 5 after 1.5 s unused
const config = { connTarget: 3, connMax: 5, connIdleMs: 1500 }
// what a peer may hold at any moment: connMax, plus connections in use right now that may not be
// closed (membership's probe neighbours, ~5 of 11 here with 3 rings, and gossipsub mesh peers,
// Dlo..Dhi = 3..6, overlapping them; an anti-entropy partner not idle yet). Below a full mesh (11)
const bound = config.connMax + 4

const Bounded = suite('mesh with bounded connections')
let c: TestCluster

Bounded.before(async () => {
  c = await startCluster(n, { config })
  await waitFor(`${n} peers alive everywhere`, () => allAlive(c.peers), 60_000, 100)
})
Bounded.after(async () => { await c?.close() })

/** Samples every peer's connection count for `ms`: the largest and the mean count per peer. */
async function sampleConnections (ms: number): Promise<{ most: number[]; mean: number[] }> {
  const most = c.peers.map(() => 0)
  const sum = c.peers.map(() => 0)
  let samples = 0
  const end = Date.now() + ms
  while (Date.now() < end) {
    c.peers.forEach((p, i) => { const k = p.connections().length; most[i] = Math.max(most[i]!, k); sum[i]! += k })
    samples++
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return { most, mean: sum.map(x => x / samples) }
}

Bounded('connection counts stay within the bound while every write converges', async () => {
  // idle connections above connMax close after connIdleMs
  await waitFor('every peer within the bound', () => c.peers.every(p => p.connections().length <= bound), 20_000, 100)
  const writing = (async () => {
    for (let i = 0; i < 120; i++) await c.peers[i % n]!.put(`want/b/${i}`, i)
  })()
  const { most, mean } = await sampleConnections(4000)
  await writing
  await waitFor('every peer holds all 120 writes', () => c.peers.every(p => p.scan('want/b/').length === 120), 30_000, 50)
  await waitFor('identical digests', () => converged(c.peers), 30_000, 50)
  // while writing, a sync partner or a probe may add a connection for a moment: the time average
  // stays within the bound, a peak at most 2 above it, and nobody holds a full mesh for long
  for (const [i, m] of mean.entries()) assert.ok(m <= bound, `peer ${i} held ${m.toFixed(1)} connections on average (bound ${bound})`)
  for (const [i, m] of most.entries()) assert.ok(m <= bound + 2, `peer ${i} held ${m} connections at a peak (bound ${bound} + 2)`)
  const overall = mean.reduce((a, b) => a + b, 0) / n
  assert.ok(overall <= bound - 1, `mean ${overall.toFixed(1)} connections per peer`)
  // and once quiet, idle connections above connMax close again
  await waitFor('every peer within the bound once quiet', () => c.peers.every(p => p.connections().length <= bound), 20_000, 100)
})

Bounded('a 6+6 partition heals to one state', async () => {
  const left = c.peers.slice(0, n / 2)
  const right = c.peers.slice(n / 2)
  await Promise.all([
    ...left.map(p => p.gater.block(right.map(r => r.peerId))),
    ...right.map(p => p.gater.block(left.map(l => l.peerId))),
  ])
  const sameSide = (side: typeof left): boolean => side.every(p => p.alive().length === side.length)
  await waitFor('each side sees only itself alive', () => sameSide(left) && sameSide(right), 30_000, 100)
  for (const p of c.peers) {
    const mine = left.includes(p) ? left : right
    assert.is(p.connections().filter(id => !mine.some(q => q.peerId === id)).length, 0, 'no connection crosses the cut')
  }
  for (let i = 0; i < 30; i++) {
    await left[i % left.length]!.put(`want/left/${i}`, i)
    await right[i % right.length]!.put(`want/right/${i}`, i)
  }
  await waitFor('each side converged internally', () => converged(left) && converged(right), 30_000, 50)
  assert.is(left[0]!.get('want/right/0'), undefined, 'the cut held')

  for (const p of c.peers) p.gater.unblock()
  await waitFor('one state everywhere', () => converged(c.peers), 60_000, 100)
  await waitFor('everyone alive again', () => allAlive(c.peers), 60_000, 100)
  for (const p of c.peers) {
    assert.is(p.scan('want/left/').length, 30)
    assert.is(p.scan('want/right/').length, 30)
  }
  await waitFor('every peer within the bound again', () => c.peers.every(p => p.connections().length <= bound), 20_000, 100)
})

Bounded.run()
