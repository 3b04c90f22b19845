// Integration (real libp2p): a connection over which every new stream fails is replaced. Chaos runs
// saw a peer whose streams to another failed for minutes after a partition and a restart, while
// libp2p still held the connection open; the pool now hangs such a connection up after a few
// failures in a row (dialer.ts streamResult), and the next use dials a fresh one.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Mesh } from '../../mesh/index.js'
import { startCluster, waitFor, allAlive, type TestCluster } from '../helpers/mesh-cluster.js'

let c: TestCluster | undefined
test.after(async () => { await c?.close() })

test('three failed stream opens over 5 s hang the connection up; the peer is not declared down', async () => {
  c = await startCluster(2)
  const [a, b] = c.peers as [Mesh, Mesh]
  await waitFor('both alive', () => allAlive([a, b]))
  const downs: string[] = []
  a.onPeerDown(peer => { downs.push(peer) })
  // no exchange in flight (one started on connect would still complete)
  await waitFor('a sync completes', async () => await a.testing.syncWith(b.peerId))
  await b.testing.refuseSync()
  assert.is(await a.testing.syncWith(b.peerId), false, 'a sync to a peer that refuses the protocol fails')
  assert.is(a.counters().staleConnectionResets, 0, 'failures within 5 s are no reason to hang up')
  await new Promise(resolve => setTimeout(resolve, 2600))
  assert.is(await a.testing.syncWith(b.peerId), false)
  await new Promise(resolve => setTimeout(resolve, 2600))
  assert.is(await a.testing.syncWith(b.peerId), false)
  await waitFor('the connection is hung up', () => a.counters().staleConnectionResets === 1, 5000)
  // membership dials again on its next probe: both stay alive, nobody was declared down
  await waitFor('connected again', () => a.counters().connections === 1, 10_000)
  await new Promise(resolve => setTimeout(resolve, 1500))
  assert.ok(allAlive([a, b]), 'both still alive')
  assert.equal(downs, [], 'the hang-up was no failure hint')
})

test.run()
