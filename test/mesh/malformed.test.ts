// Integration: 1,000 malformed, oversized, wrongly-owned or skewed deltas from a peer inside the
// cluster leave the victim's replica unchanged; all are counted; the victim stays alive and working.
import { encode } from 'cborg'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { encodeDelta, stateWireVersion } from '../../mesh/codec.js'
import { defaults } from '../../mesh/defaults.js'
import { allAlive, converged, startCluster, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const Malformed = suite('mesh malformed deltas')
let c: TestCluster

Malformed.before(async () => {
  c = await startCluster(3)
  await waitFor('3 peers alive everywhere', () => allAlive(c.peers))
  await c.peers[1]!.put('want/x', 'original')
  await waitFor('converged', () => converged(c.peers))
})
Malformed.after(async () => { await c.close() })

Malformed('1,000 bad deltas: none applied, all counted, victim alive and still replicating', async () => {
  const [rogue, victim, bystander] = c.peers as [typeof c.peers[0], typeof c.peers[0], typeof c.peers[0]]
  const rootBefore = victim.testing.digestRoot()
  const countedBefore = rejected(victim)
  const now = Date.now()
  const makers: Array<(i: number) => Uint8Array> = [
    i => new Uint8Array([0xff, i & 0xff, 0x00, 0x13]),
    () => encode({ not: 'a delta' }),
    () => encode([stateWireVersion, 1, [['bad//key', now, 0, rogue.peerId, 0, 1]]]),
    () => encode([7, 1, [['want/x', now, 0, rogue.peerId, 0, 1]]]),
    () => new Uint8Array(3000).fill(0x81),
    () => new Uint8Array(defaults.maxDeltaBytes + 100).fill(0x41),
    // wrongly owned: the rogue writes the victim's status
    i => encodeDelta([{ key: `status/ns/app/${victim.peerId}`, hlc: { wall: now + 1000, counter: i, peer: rogue.peerId }, value: 'forged' }]),
    // forged writer: claims the victim wrote it, but the rogue signed the message
    i => encodeDelta([{ key: 'want/x', hlc: { wall: now + 1000, counter: i, peer: victim.peerId }, value: 'forged' }]),
    // a clock an hour ahead
    i => encodeDelta([{ key: 'want/x', hlc: { wall: now + 3_600_000, counter: i, peer: rogue.peerId }, value: 'future' }]),
    i => encode([stateWireVersion, 1, [['want/x', now, 0, rogue.peerId, 0, { __proto__: null, deep: JSON.parse('['.repeat(50) + ']'.repeat(50)) }, i]]]),
  ]
  for (let i = 0; i < 1000; i++) await rogue.testing.publishRaw(makers[i % makers.length]!(i))
  // A hundred of them are over 1 MiB: the pnet + Noise + yamux pipe takes ~10 s to carry them on
  // an idle machine and several times that on a loaded one, so a fixed deadline measured the load.
  // What may not happen is a rejection lost: the count must keep growing until all 1,000 are in.
  await waitForCount('rejections counted by the victim', () => rejected(victim) - countedBefore, 1000, 30_000)
  assert.is(rejected(victim) - countedBefore, 1000)
  const k = victim.counters()
  assert.ok(k.rejectedMalformed > 0 && k.rejectedOversized > 0 && k.rejectedOwner > 0 && k.rejectedSkew > 0, JSON.stringify(k))
  assert.is(victim.testing.digestRoot(), rootBefore, 'replica unchanged')
  assert.is(victim.get('want/x'), 'original')
  assert.is(victim.get(`status/ns/app/${victim.peerId}`), undefined)
  assert.ok(rogue.alive().includes(victim.peerId) && bystander.alive().includes(victim.peerId), 'victim alive')
  await rogue.put('want/after', 'still works')
  await bystander.put('want/after2', 'still works')
  await waitFor('valid writes still replicate to the victim', () => victim.get('want/after') === 'still works' && victim.get('want/after2') === 'still works')
  await waitFor('converged', () => converged(c.peers))
})

/** Waits until `count()` reaches `target`; fails when it stays unchanged for `stallMs` (slow is fine, stuck is not). */
async function waitForCount (what: string, count: () => number, target: number, stallMs: number): Promise<void> {
  let last = count()
  let changedAt = Date.now()
  while (last < target) {
    await new Promise(resolve => setTimeout(resolve, 50))
    const n = count()
    if (n !== last) { last = n; changedAt = Date.now() } else if (Date.now() - changedAt > stallMs) throw new Error(`${what}: stuck at ${n} of ${target} for ${stallMs} ms`)
  }
}

function rejected (m: TestCluster['peers'][number]): number {
  const k = m.counters()
  return k.rejectedMalformed + k.rejectedOversized + k.rejectedOwner + k.rejectedSkew
}

Malformed.run()
