// The SWIM shell (mesh/membership.ts) on real libp2p peers: an insider (a node holding the cluster
// key) sends malformed and oversized frames on /monk/<cid>/swim/1; the victim counts and drops
// them, stays alive in everyone's view, and membership goes on. Idle membership is pings and acks.
import type { PrivateKey } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { encode } from 'cborg'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defaults, protocols } from '../../mesh/defaults.js'
import { FrameWriter, frame } from '../../mesh/framing.js'
import { createNode, type MeshNode } from '../../mesh/node.js'
import { encodeSwim } from '../../mesh/swim-codec.js'
import { allAlive, startCluster, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const Shell = suite('swim shell (3 peers + an insider)')
let c: TestCluster
let rogue: MeshNode | undefined

Shell.before(async () => {
  c = await startCluster(3)
  await waitFor('3 peers alive everywhere', () => allAlive(c.peers))
})
Shell.after(async () => {
  await rogue?.stop()
  await c.close()
})

Shell('idle membership: probes flow, nobody is suspected', async () => {
  const before = c.peers.map(p => p.counters())
  await new Promise(resolve => setTimeout(resolve, 4 * defaults.swimProbeIntervalMs))
  const after = c.peers.map(p => p.counters())
  for (const [i, k] of after.entries()) {
    assert.ok(k.swimSent > before[i]!.swimSent && k.swimReceived > before[i]!.swimReceived, `peer ${i} exchanged no swim messages`)
    assert.is(k.suspicions, before[i]!.suspicions, `peer ${i} suspected someone while idle`)
  }
})

Shell('malformed and oversized swim frames are counted and dropped; the victim stays alive', async () => {
  const victim = c.peers[1]!
  rogue = await createNode({ privateKey: await generateKeyPair('Ed25519') as unknown as PrivateKey, listen: ['/ip4/127.0.0.1/tcp/0'], clusterKey: c.cluster.key, gater: {}, maxDeltaBytes: defaults.maxDeltaBytes })
  const addr = multiaddr(victim.addresses()[0]!)
  const before = victim.counters()
  const stream = await rogue.dialProtocol(addr, protocols.swim(victim.clusterId))
  const writer = new FrameWriter(stream)
  const bad = [
    new Uint8Array([0xff, 0x00]),
    encode({ not: 'swim' }),
    encode([1, 99, 0, 0, []]),
    encode([1, 1, 0, 0, [[2, 'nobody', 1]]]),
    encode([9, 1, 0, 0, []]),
  ]
  for (let i = 0; i < 100; i++) writer.write(bad[i % bad.length]!)
  // a valid ping from an unknown insider is answered, not a crash either
  writer.write(encodeSwim({ type: 'ping', seq: 1, inc: 1, updates: [] }))
  await waitFor('100 malformed frames counted', () => victim.counters().rejectedMalformed - before.rejectedMalformed >= 100, 10_000)
  assert.is(victim.counters().rejectedMalformed - before.rejectedMalformed, 100)
  // a frame over the size limit ends the stream and is counted as oversized
  const big = await rogue.dialProtocol(addr, protocols.swim(victim.clusterId))
  const raw = frame(new Uint8Array(64 * 1024).fill(0x41))
  void big.sink((async function * () { yield raw })()).catch(() => {})
  await waitFor('oversized frame counted', () => victim.counters().rejectedOversized > before.rejectedOversized, 10_000)
  writer.end()
  await new Promise(resolve => setTimeout(resolve, 2 * defaults.swimProbeIntervalMs))
  // the insider's valid ping made it a member (it holds the key); the three peers still see each other
  for (const p of c.peers) for (const q of c.peers) assert.ok(p.alive().includes(q.peerId), `${p.peerId} does not see ${q.peerId} alive`)
  // (the insider itself, which answers no probes, may be suspected: it is not one of the three)
  const real = new Set(c.peers.map(p => p.peerId))
  for (const p of c.peers) for (const info of p.peers()) if (real.has(info.id)) assert.ok(info.state === 'alive' && !info.suspect, `${p.peerId} holds ${info.id} ${info.state}${info.suspect ? ' (suspect)' : ''}`)
})

Shell.run()
