// Integration (real libp2p on 127.0.0.1): forged, replayed and wrongly signed entries are dropped
// over gossip and over anti-entropy. The rogue holds the cluster key and runs a real libp2p node:
// a full mesh peer publishing raw deltas (gossip), and a bare node speaking /monk/sync/1 by hand
// with frames it makes up (sync). Each path also carries one valid entry, so a refusal is not
// just a broken channel.
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeSyncFrame, encodeDelta, encodeSyncFrame, type CodecLimits } from '../../mesh/codec.js'
import { defaults, protocols } from '../../mesh/defaults.js'
import type { Entry } from '../../mesh/entry.js'
import { FrameReader, FrameWriter } from '../../mesh/framing.js'
import { Gater } from '../../mesh/gater.js'
import type { Mesh } from '../../mesh/index.js'
import { createNode, type MeshNode } from '../../mesh/node.js'
import { EntrySigner } from '../../mesh/signing.js'
import { allAlive, converged, startCluster, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const Signed = suite('mesh signed entries')
let c: TestCluster
let bare: MeshNode | undefined
Signed.after(async () => {
  try { await bare?.stop() } catch {}
  await c.close()
})

const limits: CodecLimits = { maxKeyBytes: defaults.maxKeyBytes, maxEntryBytes: defaults.maxEntryBytes, maxDeltaBytes: defaults.maxDeltaBytes, maxDeltaEntries: defaults.maxDeltaEntries, maxValueDepth: defaults.maxValueDepth }

Signed('gossip: entries with a missing or wrong signature, or another writer\'s, are refused and counted', async () => {
  c = await startCluster(3)
  const [victim, honest, rogue] = c.peers as [Mesh, Mesh, Mesh]
  await waitFor('3 peers alive', () => allAlive(c.peers))
  await honest.put('want/a', 'v1')
  const oldA = honest.testing.entry('want/a')!
  await honest.put('want/a', 'v2')
  await rogue.put('want/r', 'rogue v1')
  const rogueOld = rogue.testing.entry('want/r')!
  await rogue.put('want/r', 'rogue v2')
  await waitFor('converged', () => converged(c.peers))
  const before = victim.counters()
  const now = Date.now()
  const hlc = (counter: number) => ({ wall: now + 1000, counter, peer: rogue.peerId })
  // the rogue's own name, newer HLC, but no signature / a signature of other bytes
  await rogue.testing.publishRaw(encodeDelta([{ key: 'want/g1', hlc: hlc(0), value: 'unsigned' }]))
  await rogue.testing.publishRaw(encodeDelta([{ key: 'want/r', hlc: hlc(1), value: 'tampered', sig: rogueOld.sig! }]))
  await rogue.testing.publishRaw(encodeDelta([{ ...rogueOld, value: 'tampered value, old signature' }]))
  // an honest peer's genuine entry, replayed by the rogue: the publisher is not its writer
  await rogue.testing.publishRaw(encodeDelta([oldA]))
  // the rogue's own genuine older entry, replayed: LWW keeps the newer one
  await rogue.testing.publishRaw(encodeDelta([rogueOld]))
  // control: a valid write still arrives over the same path
  await rogue.put('want/control', 'valid')
  await waitFor('the valid write arrived', () => victim.get('want/control') === 'valid')
  await waitFor('refusals counted', () => victim.counters().rejectedSignature - before.rejectedSignature >= 2)
  const after = victim.counters()
  assert.is(after.rejectedSignature - before.rejectedSignature, 2, 'unsigned and wrongly signed deltas (the tampered old entry loses LWW and is not checked)')
  assert.ok(after.rejectedOwner > before.rejectedOwner, 'the replayed entry of another writer is refused')
  assert.is(victim.get('want/g1'), undefined)
  assert.is(victim.get('want/r'), 'rogue v2')
  assert.is(victim.get('want/a'), 'v2')
})

Signed('sync: a rogue node relaying forged, replayed and re-signed entries gets only its own valid one applied', async () => {
  const [victim, honest] = c.peers as [Mesh, Mesh]
  await honest.put(`claim/ns/app/${honest.peerId}`, { epoch: 1 })
  await honest.put('want/b', 'b1')
  const genuineB = honest.testing.entry('want/b')!
  const oldA = (() => { const e = honest.testing.entry('want/a')!; return e })()
  await waitFor('the victim has the honest writes', () => victim.get('want/b') === 'b1' && victim.get(`claim/ns/app/${honest.peerId}`) !== undefined)

  // two copies of @libp2p/interface in node_modules: the key is the same object either way (as in mesh/store.ts)
  const key = await generateKeyPair('Ed25519') as unknown as PrivateKey
  const rogueId = peerIdFromPrivateKey(key).toString()
  const signer = new EntrySigner(key, rogueId)
  bare = await createNode({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], clusterKey: c.cluster.key, gater: new Gater().libp2p, maxDeltaBytes: defaults.maxDeltaBytes })
  const wall = Date.now() + 2000
  const forHonest = (k: string, counter: number, value: Entry['value']): Entry => ({ key: k, hlc: { wall, counter, peer: honest.peerId }, value })
  const forged: Entry[] = [
    // in the honest peer's name, on keys only it may write: the owner rule passes, the signature does not
    forHonest(`claim/ns/app/${honest.peerId}`, 0, { epoch: 99 }),
    forHonest(`peer/${honest.peerId}`, 1, { name: 'forged' }),
    forHonest('want/b', 2, 'run id > /tmp/x'),
    // a genuine signature moved to a newer HLC / another key
    { ...genuineB, hlc: { ...genuineB.hlc, wall } },
    { ...genuineB, key: 'want/b2' },
    // the rogue's own key signing in the honest peer's name
    { ...forHonest('want/c', 3, 'x'), sig: signer.sign({ key: 'want/c', hlc: { wall, counter: 3, peer: rogueId }, value: 'x' }).sig! },
    // a genuine, older entry replayed
    oldA,
    // control: the rogue's own signed write
    signer.sign({ key: 'want/from-rogue-node', hlc: { wall: Date.now(), counter: 0, peer: rogueId }, value: 'valid' }),
  ]
  const before = victim.counters()
  await syncOnce(bare, victim, forged)
  await waitFor('the control entry arrived', () => victim.get('want/from-rogue-node') === 'valid')
  const after = victim.counters()
  assert.is(after.rejectedSignature - before.rejectedSignature, 6, JSON.stringify({ before: before.rejectedSignature, after: after.rejectedSignature }))
  assert.equal(victim.get(`claim/ns/app/${honest.peerId}`), { epoch: 1 })
  assert.is((victim.get(`peer/${honest.peerId}`) as Record<string, unknown>).name, 'p1')
  assert.is(victim.get('want/b'), 'b1')
  assert.is(victim.get('want/b2'), undefined)
  assert.is(victim.get('want/c'), undefined)
  assert.is(victim.get('want/a'), 'v2')
  await honest.put('want/after', 'still works')
  await waitFor('the cluster still replicates', () => victim.get('want/after') === 'still works')
})

/** One anti-entropy exchange initiated by `node` with `victim`, offering `entries` as its side. */
async function syncOnce (node: MeshNode, victim: Mesh, entries: Entry[]): Promise<void> {
  const addr = victim.addresses().find(a => a.includes('/ip4/127.0.0.1/'))!
  await node.dial(multiaddr(addr))
  const stream = await node.dialProtocol(multiaddr(addr), protocols.sync)
  const writer = new FrameWriter(stream)
  const reader = new FrameReader(stream.source, defaults.maxSyncFrameBytes)
  const read = async () => decodeSyncFrame((await reader.next())!, limits, defaults.syncBuckets)
  writer.write(encodeSyncFrame({ kind: 'root', buckets: defaults.syncBuckets, root: new Uint8Array(16).fill(1) }))
  const buckets = await read()
  assert.is(buckets.kind, 'buckets')
  writer.write(encodeSyncFrame({ kind: 'entries', want: [], entries, last: true }))
  const back = await read()
  assert.is(back.kind, 'entries')
  writer.write(encodeSyncFrame({ kind: 'ack' }))
  writer.end()
  await writer.done
  await reader.close()
}

Signed.run()
