// Totals on what one peer can make another hold at once (issue 13, "Limits"): entries in one
// anti-entropy exchange, and request streams served at once (per peer and in all). Over a limit
// the exchange ends with what was received so far applied and the overflow counted; a request is
// answered at once with an error naming the limit. Real libp2p nodes on 127.0.0.1; the rogue is a
// bare node with the cluster key that speaks /monk/sync/1 by hand.
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeSyncFrame, encodeSyncFrame, type CodecLimits } from '../../mesh/codec.js'
import { defaults, protocols } from '../../mesh/defaults.js'
import type { Entry } from '../../mesh/entry.js'
import { FrameReader, FrameWriter } from '../../mesh/framing.js'
import { Gater } from '../../mesh/gater.js'
import { RequestError, type Mesh } from '../../mesh/index.js'
import { createNode, type MeshNode } from '../../mesh/node.js'
import { EntrySigner } from '../../mesh/signing.js'
import { allAlive, startCluster, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const Limits = suite('mesh limits on exchanges and requests')
let c: TestCluster
let bare: MeshNode | undefined
Limits.after(async () => {
  try { await bare?.stop() } catch {}
  await c?.close()
})

const limits: CodecLimits = { maxKeyBytes: defaults.maxKeyBytes, maxEntryBytes: defaults.maxEntryBytes, maxDeltaBytes: defaults.maxDeltaBytes, maxDeltaEntries: defaults.maxDeltaEntries, maxValueDepth: defaults.maxValueDepth }

Limits('one sync exchange carries at most maxSyncExchangeEntries: the rest is refused and counted, what came first is kept', async () => {
  c = await startCluster(2, { config: { maxSyncExchangeEntries: 500, maxOpenRequestsPerPeer: 3, maxOpenRequests: 5 } })
  const [victim] = c.peers as [Mesh]
  await waitFor('2 peers alive', () => allAlive(c.peers))
  const key = await generateKeyPair('Ed25519') as unknown as PrivateKey
  const signer = new EntrySigner(key, peerIdFromPrivateKey(key).toString())
  bare = await createNode({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], clusterKey: c.cluster.key, gater: new Gater().libp2p, maxDeltaBytes: defaults.maxDeltaBytes })
  const addr = multiaddr(victim.addresses().find(a => a.includes('/ip4/127.0.0.1/'))!)
  await bare.dial(addr)
  const stream = await bare.dialProtocol(addr, protocols.sync)
  const writer = new FrameWriter(stream)
  const reader = new FrameReader(stream.source, defaults.maxSyncFrameBytes)
  writer.write(encodeSyncFrame({ kind: 'root', buckets: defaults.syncBuckets, root: new Uint8Array(16).fill(1) }))
  assert.is(decodeSyncFrame((await reader.next())!, limits, defaults.syncBuckets).kind, 'buckets')
  const before = victim.counters()
  // 20 frames of 100 valid entries each, never `last`: an exchange that would never end
  const wall = Date.now()
  for (let f = 0; f < 20; f++) {
    const entries: Entry[] = Array.from({ length: 100 }, (_, i) => signer.sign({ key: `want/flood/${f}/${i}`, hlc: { wall, counter: f * 100 + i, peer: signer.self }, value: i }))
    try { writer.write(encodeSyncFrame({ kind: 'entries', want: f === 0 ? [] : undefined, entries, last: false })) } catch { break }
  }
  await waitFor('the victim ended the exchange over its limit', () => victim.counters().syncOverLimit > before.syncOverLimit, 20_000)
  const held = victim.scan('want/flood/').length
  assert.ok(held > 0 && held <= 500, `the victim kept what came first, at most 500 entries, got ${held}`)
  assert.ok(victim.counters().syncFailed > before.syncFailed, 'the exchange counts as failed')
  stream.abort(new Error('done'))
})

Limits('request streams served at once are bounded per peer and in all; over the bound the requester gets an error naming it', async () => {
  const [victim, other] = c.peers as [Mesh, Mesh]
  let release: () => void = () => {}
  const gate = new Promise<void>(resolve => { release = resolve })
  let serving = 0
  let most = 0
  await victim.handle('/monk/test/slow/1', async req => { serving++; most = Math.max(most, serving); await gate; serving--; return req })
  const refusedBefore = victim.counters().requestsRefused
  const sent = Array.from({ length: 10 }, (_, i) => other.request(victim.peerId, '/monk/test/slow/1', new Uint8Array([i]), { timeoutMs: 20_000 }).then(() => 'ok', (err: unknown) => err))
  await waitFor('three requests are being served and the seven others refused', () => serving === 3 && victim.counters().requestsRefused - refusedBefore === 7, 20_000)
  release()
  const results = await Promise.all(sent)
  const refused = results.filter(r => r !== 'ok') as Error[]
  assert.is(most, 3, 'never more than 3 at once from one peer')
  assert.ok(refused.length === 7 && refused.every(e => e instanceof RequestError && /has 3 requests from peer .* open, the most it serves per peer/.test(e.message)), refused.map(e => e.message).join('\n'))
  // once they are done, requests are served again
  const again = await other.request(victim.peerId, '/monk/test/slow/1', new Uint8Array([42]), { timeoutMs: 10_000 })
  assert.equal([...again], [42])
})

Limits.run()
