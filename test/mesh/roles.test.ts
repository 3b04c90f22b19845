// Integration (real libp2p on 127.0.0.1, admission enforced): a peer holding only the cluster key
// is not admitted and nothing it writes is applied; a worker writes only its own records; an
// operator writes everything; invites are single-use / expiring; refusals hold on gossip and on
// anti-entropy; entries that arrive before their writer's admission are held, not lost.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createCluster, startMesh, type Mesh, type MeshOptions } from '../../mesh/index.js'
import { RoleError } from '../../mesh/errors.js'
import { fastConfig, tempHome, waitFor } from '../helpers/mesh-cluster.js'
import { rmSync } from 'node:fs'

const Roles = suite('mesh admission and roles')
const peers: Mesh[] = []
const homes: string[] = []
Roles.after(async () => {
  await Promise.all(peers.map(async p => { await p.stop().catch(() => {}) }))
  for (const h of homes) rmSync(h, { recursive: true, force: true })
})

async function start (opts: Partial<MeshOptions>): Promise<Mesh> {
  const home = tempHome('roles')
  homes.push(home)
  const m = await startMesh({ home, listen: ['/ip4/127.0.0.1/tcp/0'], config: fastConfig, admission: true, name: `p${peers.length}`, ...opts })
  peers.push(m)
  return m
}

let founder: Mesh
let operator: Mesh
let worker: Mesh
let stranger: Mesh

Roles('founders are operators; invites admit with their role; the cluster key alone admits nobody', async () => {
  founder = await start({ cluster: createCluster() })
  assert.is(founder.roleOf(founder.peerId), 'operator')
  operator = await start({ token: await founder.invite({ role: 'operator', uses: 1, ttlMs: 0 }) })
  worker = await start({ token: await founder.invite({ role: 'worker', uses: 1, ttlMs: 60_000 }) })
  // a token without an invite: the cluster key and the founders, nothing to redeem
  stranger = await start({ token: founder.token() })
  await waitFor('operator and worker admitted everywhere', () => [founder, operator, worker].every(p =>
    p.roleOf(operator.peerId) === 'operator' && p.roleOf(worker.peerId) === 'worker'))
  await waitFor('the stranger connected', () => founder.connections().includes(stranger.peerId))
  assert.is(founder.roleOf(stranger.peerId), undefined)
  assert.is(stranger.roleOf(stranger.peerId), undefined)
  // the worker's own records are applied; the stranger's are not
  await waitFor('worker record everywhere', () => founder.get(`peer/${worker.peerId}`) !== undefined && operator.get(`peer/${worker.peerId}`) !== undefined)
  await waitFor('the stranger\'s writes refused', () => founder.counters().rejectedRole > 0)
  assert.is(founder.get(`peer/${stranger.peerId}`), undefined, 'a non-admitted peer has no peer record anywhere')
})

Roles('a single-use invite cannot be redeemed twice; an expired one not at all', async () => {
  const once = await founder.invite({ role: 'operator', uses: 1, ttlMs: 0 })
  const first = await start({ token: once })
  await waitFor('first redeemer admitted', () => founder.roleOf(first.peerId) === 'operator')
  const warnings: string[] = []
  const second = await start({ token: once, onWarning: w => warnings.push(w) })
  const expired = await start({ token: await founder.invite({ role: 'worker', uses: null, ttlMs: 1 }), onWarning: w => warnings.push(w) })
  await waitFor('both refused', () => warnings.some(w => w.includes('unknown or spent')) && warnings.some(w => w.includes('expired')))
  assert.is(founder.roleOf(second.peerId), undefined)
  assert.is(founder.roleOf(expired.peerId), undefined)
  await second.stop()
  await expired.stop()
})

Roles('a worker cannot write templates, wants, secrets or admissions: refused locally, and over gossip from a patched worker', async () => {
  for (const key of ['tpl/ns/x', 'want/ns/x/0', 'secret/global/x', 'provider/aws', 'node/m-1', `admit/${stranger.peerId}`]) {
    try {
      await worker.put(key, 'x')
      assert.unreachable(`worker wrote ${key}`)
    } catch (err) {
      assert.instance(err, RoleError)
      assert.match((err as Error).message, /worker/)
    }
  }
  await worker.put(`status/ns/x/0/${worker.peerId}`, 'mine')
  const before = founder.counters().rejectedRole
  // a patched worker skips its own check; its signed entries reach the others over gossip
  await worker.testing.writeUnchecked('want/ns/evil/0', { template: 'ns/evil', peer: founder.peerId })
  await worker.testing.writeUnchecked(`admit/${stranger.peerId}`, { role: 'operator', by: worker.peerId, at: Date.now() })
  await stranger.testing.writeUnchecked('tpl/ns/evil', { run: 'id' })
  await waitFor('worker status arrived', () => founder.get(`status/ns/x/0/${worker.peerId}`) === 'mine')
  await waitFor('refusals counted', () => founder.counters().rejectedRole - before >= 2)
  await operator.put('tpl/ns/good', { ok: true })
  await waitFor('operator template arrived', () => founder.get('tpl/ns/good') !== undefined && worker.get('tpl/ns/good') !== undefined)
  for (const p of [founder, operator]) {
    assert.is(p.get('want/ns/evil/0'), undefined)
    assert.is(p.get('tpl/ns/evil'), undefined)
    assert.is(p.roleOf(stranger.peerId), undefined)
  }
})

Roles('anti-entropy refuses the same writes (gossip off at the receiver)', async () => {
  founder.testing.setGossipDropRate(1)
  try {
    const before = founder.counters().rejectedRole
    await worker.testing.writeUnchecked('want/ns/evil-sync/0', { template: 'ns/evil' })
    await operator.put('want/ns/good-sync/0', { template: 'ns/good' })
    await waitFor('the worker holds both', () => worker.get('want/ns/good-sync/0') !== undefined)
    assert.ok(await founder.testing.syncWith(worker.peerId), 'sync with the worker completed')
    assert.is(founder.get('want/ns/good-sync/0') !== undefined, true, 'the operator\'s write came through sync')
    assert.is(founder.get('want/ns/evil-sync/0'), undefined)
    assert.ok(founder.counters().rejectedRole > before)
  } finally {
    founder.testing.setGossipDropRate(0)
  }
})

Roles('a write that arrives before its writer\'s admission is held, then applied', async () => {
  // the late peer hears no gossip: everything reaches it by anti-entropy, in one exchange, where
  // the joiner's records are screened before the admission that comes with them is merged
  const late = await start({ token: founder.token() })
  late.testing.setGossipDropRate(1)
  const joiner = await start({ token: await operator.invite({ role: 'worker', uses: 1, ttlMs: 0 }) })
  await waitFor('joiner admitted at the operator', () => operator.roleOf(joiner.peerId) === 'worker' && joiner.roleOf(joiner.peerId) === 'worker')
  await joiner.put(`status/ns/j/0/${joiner.peerId}`, 'joined')
  await waitFor('late peer has the joiner\'s status', async () => {
    await late.testing.syncWith(joiner.peerId)
    return late.get(`status/ns/j/0/${joiner.peerId}`) === 'joined'
  })
  assert.is(late.roleOf(joiner.peerId), 'worker')
  assert.is(late.testing.held(joiner.peerId), 0, 'nothing of the joiner left held once admitted')
})

Roles('a removed peer\'s new writes are refused, and its invite does not bring it back', async () => {
  await founder.admit(worker.peerId, 'removed')
  await waitFor('removal everywhere', () => [operator, worker].every(p => p.roleOf(worker.peerId) === undefined))
  const before = founder.counters().rejectedRole
  await worker.put(`status/ns/x/0/${worker.peerId}`, 'after removal')
  await waitFor('refused', () => founder.counters().rejectedRole > before)
  assert.is(founder.get(`status/ns/x/0/${worker.peerId}`), 'mine')
})

Roles.run()
