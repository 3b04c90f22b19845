import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  compareInstanceKeys, parseInstanceKey, peerWeight, place, rankClaims, replicaKeys,
  type Claim, type DesiredInstance, type PeerView, type Placed, type Placement, type PlacementResult,
} from '../../actors/placement.js'
import { PlacementError } from '../../actors/errors.js'
import { rendezvousScore, unitHash } from '../../actors/rendezvous.js'
import { rng } from '../helpers/actors-random.js'
import {
  agreedRound, applyAs, claimsInput, cloneClaims, converge, liveClaimants, randomInstances, randomPeer, type ClaimTable,
} from '../helpers/actors-placement-sim.js'

const GiB = 1024 ** 3

function peer (id: string, extra: Partial<PeerView> = {}): PeerView {
  return { id, name: `name-${id}`, tags: [], alive: true, capacity: { cpu: 4, memory: 8 * GiB }, ...extra }
}

function claim (peerId: string, epoch = 1, startedAt = 0): Claim {
  return { peerId, epoch, startedAt }
}

function run (instances: DesiredInstance[], peers: PeerView[], claims: Record<string, Claim[]> = {}): PlacementResult {
  return place({ instances, peers, claims: new Map(Object.entries(claims)) })
}

function ownerOf (r: PlacementResult, key: string): string | null {
  const p = r.byInstance.get(key)
  assert.ok(p, `no placement for ${key}`)
  return p.owner
}

function placed (p: Placement | undefined): Placed {
  assert.ok(p && p.owner !== null, `expected a placed instance, got ${JSON.stringify(p)}`)
  return p as Placed
}

/** Peer id that unweighted rendezvous (equal weights) picks for `key`. */
function hashWinner (key: string, ids: string[]): string {
  return [...ids].sort((a, b) => rendezvousScore(key, b, 1) - rendezvousScore(key, a, 1))[0]!
}

/** An instance key for which `ids[0]` is NOT the hash winner among ids (so stickiness is visible). */
function keyNotWonBy (loser: string, ids: string[]): string {
  for (let i = 0; ; i++) if (hashWinner(`ns/k${i}`, ids) !== loser) return `ns/k${i}`
}

// ---------------------------------------------------------------------------------------------
const Rules = suite('placement rules')

Rules('eligibility: a dead peer is never chosen', () => {
  const r = run([{ key: 'ns/a' }], [peer('a', { alive: false }), peer('b')])
  assert.is(ownerOf(r, 'ns/a'), 'b')
})

Rules('eligibility: a draining peer takes no new work', () => {
  const r = run([{ key: 'ns/a' }], [peer('a', { draining: true }), peer('b')])
  assert.is(ownerOf(r, 'ns/a'), 'b')
})

Rules('eligibility: every --tag must be present, and affinity.tag too', () => {
  const peers = [peer('a', { tags: ['db'] }), peer('b', { tags: ['db', 'eu'] }), peer('c', { tags: ['eu'] })]
  assert.is(ownerOf(run([{ key: 'ns/x', tags: ['db', 'eu'] }], peers), 'ns/x'), 'b')
  assert.is(ownerOf(run([{ key: 'ns/x', tags: ['db'], affinity: { tag: 'eu' } }], peers), 'ns/x'), 'b')
  assert.is(ownerOf(run([{ key: 'ns/x', affinity: { tag: 'eu' } }], [peers[0]!, peers[2]!]), 'ns/x'), 'c')
})

Rules('eligibility: --peer pins by name or by id, and wins over tags', () => {
  const peers = [peer('a', { tags: ['db'] }), peer('b', { tags: [] })]
  assert.is(ownerOf(run([{ key: 'ns/x', peer: 'name-b', tags: ['db'] }], peers), 'ns/x'), 'b')
  assert.is(ownerOf(run([{ key: 'ns/x', peer: 'b', affinity: { tag: 'db' } }], peers), 'ns/x'), 'b')
})

Rules('eligibility: affinity.name wins over affinity.tag; --peer wins over affinity.name', () => {
  const peers = [peer('a', { tags: ['db'] }), peer('b'), peer('c')]
  assert.is(ownerOf(run([{ key: 'ns/x', affinity: { name: 'name-b', tag: 'db' } }], peers), 'ns/x'), 'b')
  assert.is(ownerOf(run([{ key: 'ns/x', peer: 'c', affinity: { name: 'name-b' } }], peers), 'ns/x'), 'c')
})

Rules('eligibility: a pin to a dead peer leaves the instance unplaced with the reason', () => {
  const r = run([{ key: 'ns/x', peer: 'a' }], [peer('a', { alive: false }), peer('b')])
  const p = r.byInstance.get('ns/x')!
  assert.is(p.owner, null)
  if (p.owner !== null) return
  assert.is(p.code, 'no-eligible-peer')
  assert.equal(p.excluded, { dead: 1, pin: 1 })
  assert.match(p.message, /ns\/x/)
})

Rules('eligibility: resource requests need room in capacity; unreported resources count as none', () => {
  const peers = [peer('a', { capacity: { cpu: 1, memory: 8 * GiB } }), peer('b', { capacity: { cpu: 8, memory: 1 * GiB } }), peer('c', { capacity: { cpu: 8, memory: 8 * GiB } })]
  assert.is(ownerOf(run([{ key: 'ns/x', requests: { cpu: 2, memory: 2 * GiB } }], peers), 'ns/x'), 'c')
  const gpu = run([{ key: 'ns/g', requests: { 'nvidia.com/gpu': 1 } }], [...peers, peer('d', { capacity: { cpu: 1, 'nvidia.com/gpu': 1 } })])
  assert.is(ownerOf(gpu, 'ns/g'), 'd')
  const none = run([{ key: 'ns/x', requests: { cpu: 16 } }], peers).byInstance.get('ns/x')!
  assert.is(none.owner, null)
  if (none.owner === null) assert.equal(none.excluded, { resources: 3 })
})

Rules('eligibility: ignore-pressure skips the resources check', () => {
  const r = run([{ key: 'ns/x', requests: { cpu: 16 }, affinity: { ignorePressure: true } }], [peer('a', { capacity: { cpu: 1 } })])
  assert.is(ownerOf(r, 'ns/x'), 'a')
})

Rules('eligibility: resources given in one pass are taken off the peer for the rest of the pass', () => {
  const peers = [peer('a', { capacity: { cpu: 3 } }), peer('b', { capacity: { cpu: 2.5 } })]
  const r = run([{ key: 'ns/x', requests: { cpu: 2 } }, { key: 'ns/y', requests: { cpu: 2 } }, { key: 'ns/z', requests: { cpu: 2 } }], peers)
  const owners = ['ns/x', 'ns/y', 'ns/z'].map(k => ownerOf(r, k))
  assert.is(owners.filter(o => o === 'a').length, 1)
  assert.is(owners.filter(o => o === 'b').length, 1)
  assert.is(owners.filter(o => o === null).length, 1)
})

Rules('resident: needs an otherwise-empty peer and keeps it to itself', () => {
  const peers = [peer('a'), peer('b')]
  const claims = { 'ns/busy': [claim('a')] }
  const r = run([{ key: 'ns/busy' }, { key: 'ns/res', affinity: { resident: true } }, { key: 'ns/other' }], peers, claims)
  assert.is(ownerOf(r, 'ns/busy'), 'a')
  assert.is(ownerOf(r, 'ns/res'), 'b') // a runs ns/busy
  assert.is(ownerOf(r, 'ns/other'), 'a') // b is reserved
  const full = run([{ key: 'ns/busy' }, { key: 'ns/res', affinity: { resident: true } }], [peer('a')], claims).byInstance.get('ns/res')!
  assert.is(full.owner, null)
  if (full.owner === null) assert.equal(full.excluded, { 'not-empty': 1 })
})

Rules('resident: when a resident and another instance both claim one peer, the resident moves', () => {
  const r = run([{ key: 'ns/res', affinity: { resident: true } }, { key: 'ns/x' }], [peer('a'), peer('b')], { 'ns/res': [claim('a')], 'ns/x': [claim('a')] })
  assert.is(ownerOf(r, 'ns/x'), 'a')
  assert.is(ownerOf(r, 'ns/res'), 'b')
  assert.equal(r.stop, [{ instance: 'ns/res', peerId: 'a', epoch: 1, reason: 'ineligible', why: 'not-empty', keptBy: 'b' }])
})

Rules('sticky: a live eligible claimant keeps the instance even when rendezvous prefers another peer', () => {
  const ids = ['a', 'b', 'c', 'd']
  const key = keyNotWonBy('a', ids)
  const r = run([{ key }], ids.map(id => peer(id)), { [key]: [claim('a', 4)] })
  const p = placed(r.byInstance.get(key))
  assert.is(p.owner, 'a')
  assert.is(p.how, 'sticky')
  assert.is(p.epoch, 4)
  assert.equal(r.stop, [])
})

Rules('sticky: a claimant keeps its instance even if its capacity no longer covers the request', () => {
  const r = run([{ key: 'ns/x', requests: { cpu: 2 } }], [peer('a', { capacity: { cpu: 1 } }), peer('b')], { 'ns/x': [claim('a')] })
  assert.is(ownerOf(r, 'ns/x'), 'a')
})

Rules('sticky: reservations of claimed instances count before anything new is placed', () => {
  // ns/a sorts first, but ns/b is already running on p and keeps its 2 cpus.
  const r = run([{ key: 'ns/a', requests: { cpu: 2 }, peer: 'p' }, { key: 'ns/b', requests: { cpu: 2 } }], [peer('p', { capacity: { cpu: 3 } })], { 'ns/b': [claim('p')] })
  assert.is(ownerOf(r, 'ns/b'), 'p')
  assert.is(ownerOf(r, 'ns/a'), null)
})

Rules('sticky: a dead claimant loses it; the new owner claims with a higher epoch', () => {
  const r = run([{ key: 'ns/x' }], [peer('a', { alive: false }), peer('b')], { 'ns/x': [claim('a', 7)] })
  const p = placed(r.byInstance.get('ns/x'))
  assert.is(p.owner, 'b')
  assert.is(p.how, 'rendezvous')
  assert.is(p.epoch, 8)
  assert.equal(r.stop, [], 'a dead peer gets no stop order: it cannot act on it')
})

Rules('sticky: a claimant that lost a required tag, or drains, is told to stop', () => {
  const tagLost = run([{ key: 'ns/x', tags: ['db'] }], [peer('a'), peer('b', { tags: ['db'] })], { 'ns/x': [claim('a')] })
  assert.is(ownerOf(tagLost, 'ns/x'), 'b')
  assert.equal(tagLost.stop, [{ instance: 'ns/x', peerId: 'a', epoch: 1, reason: 'ineligible', why: 'tags', keptBy: 'b' }])
  const draining = run([{ key: 'ns/x' }], [peer('a', { draining: true }), peer('b')], { 'ns/x': [claim('a')] })
  assert.is(ownerOf(draining, 'ns/x'), 'b')
  assert.equal(draining.stop.map(s => [s.peerId, s.reason, s.why]), [['a', 'ineligible', 'draining']])
})

Rules('duplicates: the higher epoch keeps the instance (a returning peer sees the newer claim and stops)', () => {
  const ids = ['a', 'b']
  const key = hashWinner('ns/d0', ids) === 'a' ? 'ns/d0' : keyNotWonBy('b', ids) // a would win on hash
  assert.is(hashWinner(key, ids), 'a')
  const r = run([{ key }], ids.map(id => peer(id)), { [key]: [claim('a', 1), claim('b', 2)] })
  assert.is(ownerOf(r, key), 'b')
  assert.equal(r.stop, [{ instance: key, peerId: 'a', epoch: 1, reason: 'duplicate', keptBy: 'b' }])
})

Rules('duplicates: with equal epochs the higher hash h(instance, peer) keeps it, then the smaller peer id', () => {
  const ids = ['a', 'b', 'c']
  const r = run([{ key: 'ns/dup' }], ids.map(id => peer(id)), { 'ns/dup': ids.map(id => claim(id, 3)) })
  const expected = [...ids].sort((x, y) => unitHash('ns/dup', y) - unitHash('ns/dup', x))[0]
  assert.is(ownerOf(r, 'ns/dup'), expected)
  assert.is(r.stop.length, 2)
  assert.ok(r.stop.every(s => s.reason === 'duplicate' && s.keptBy === expected))
  assert.equal(rankClaims('ns/dup', [claim('z', 1, 0), claim('y', 1, 0)]).map(c => c.peerId), unitHash('ns/dup', 'z') > unitHash('ns/dup', 'y') ? ['z', 'y'] : ['y', 'z'])
})

Rules('force-move: claims below forceMove are not sticky; rendezvous picks again with epoch >= forceMove', () => {
  const ids = ['a', 'b', 'c', 'd']
  const key = keyNotWonBy('a', ids)
  const peers = ids.map(id => peer(id))
  const r = run([{ key, forceMove: 5 }], peers, { [key]: [claim('a', 4)] })
  const p = placed(r.byInstance.get(key))
  assert.is(p.how, 'rendezvous')
  assert.is.not(p.owner, 'a')
  assert.is(p.epoch, 5)
  assert.equal(r.stop, [{ instance: key, peerId: 'a', epoch: 4, reason: 'forced', keptBy: p.owner }])
  // Once the new owner claims at epoch 5 the instance is sticky again: force-move happens once.
  const again = run([{ key, forceMove: 5 }], peers, { [key]: [claim(p.owner, 5)] })
  assert.equal(again.byInstance.get(key), { instance: key, owner: p.owner, epoch: 5, how: 'sticky' })
})

Rules('force-move: if rendezvous picks the old claimant, it keeps running and rewrites its claim epoch', () => {
  const ids = ['a', 'b', 'c']
  const key = hashWinner('ns/f0', ids) === 'a' ? 'ns/f0' : [...Array(200).keys()].map(i => `ns/f${i}`).find(k => hashWinner(k, ids) === 'a')!
  const r = run([{ key, forceMove: 3 }], ids.map(id => peer(id)), { [key]: [claim('a', 2)] })
  assert.equal(r.byInstance.get(key), { instance: key, owner: 'a', epoch: 3, how: 'rendezvous' })
  assert.equal(r.stop, [])
})

Rules('claims of instances no longer desired are stopped (live peers only)', () => {
  const r = run([], [peer('a'), peer('b', { alive: false })], { 'ns/old': [claim('a'), claim('b')] })
  assert.equal(r.stop, [{ instance: 'ns/old', peerId: 'a', epoch: 1, reason: 'unwanted' }])
})

Rules('replicas: separate instances ns/name#i, spread across peers where possible', () => {
  assert.equal(replicaKeys('ns/web', 3), ['ns/web#0', 'ns/web#1', 'ns/web#2'])
  assert.equal(replicaKeys('ns/web'), ['ns/web'])
  assert.equal(parseInstanceKey('ns/web#12'), { base: 'ns/web', replica: 12 })
  assert.equal(parseInstanceKey('ns/web#x'), { base: 'ns/web#x', replica: null })
  assert.ok(compareInstanceKeys('ns/web#9', 'ns/web#10') < 0)
  assert.throws(() => replicaKeys('ns/web', -1), (e: unknown) => e instanceof PlacementError && e.code === 'placement-input')
  const peers = ['a', 'b', 'c'].map(id => peer(id))
  for (let t = 0; t < 20; t++) {
    const three = run(replicaKeys(`ns/s${t}`, 3).map(key => ({ key })), peers)
    assert.equal(new Set(three.placements.map(p => p.owner)).size, 3)
    const five = run(replicaKeys(`ns/s${t}`, 5).map(key => ({ key })), peers)
    const counts = ['a', 'b', 'c'].map(id => five.placements.filter(p => p.owner === id).length).sort()
    assert.equal(counts, [1, 2, 2])
  }
})

Rules('weight: free capacity in (1 core, 1 GiB) slots; more free capacity wins more instances', () => {
  assert.is(peerWeight({ cpu: 8, memory: 2 * GiB }), 2)
  assert.is(peerWeight({ cpu: 0 }), 0.01)
  assert.is(peerWeight(undefined), 1)
  const peers = [peer('big', { free: { cpu: 12, memory: 64 * GiB } }), peer('small', { free: { cpu: 4, memory: 64 * GiB } })]
  const r = run(Array.from({ length: 2000 }, (_, i) => ({ key: `ns/w${i}` })), peers)
  const big = r.placements.filter(p => p.owner === 'big').length / 2000
  assert.ok(big > 0.7 && big < 0.8, `big peer share ${big} should be near 0.75`)
})

Rules('bad input is a PlacementError with a code', () => {
  const isInput = (e: unknown): boolean => e instanceof PlacementError && e.code === 'placement-input'
  assert.throws(() => run([{ key: 'ns/a' }, { key: 'ns/a' }], [peer('a')]), isInput)
  assert.throws(() => run([{ key: 'ns/a' }], [peer('a'), peer('a')]), isInput)
  assert.throws(() => run([{ key: 'ns/a', requests: { cpu: Number.NaN } }], [peer('a')]), isInput)
  assert.throws(() => run([{ key: 'ns/a' }], [peer('a')], { 'ns/a': [claim('a', Number.POSITIVE_INFINITY)] }), isInput)
})

Rules.run()

// ---------------------------------------------------------------------------------------------
const Props = suite('placement properties')
const CASES = 300

interface World { peers: PeerView[], instances: DesiredInstance[], table: ClaimTable }

function randomWorld (seed: number): World {
  const r = rng(seed)
  const peers = Array.from({ length: r.int(1, 12) }, (_, i) => randomPeer(r, i))
  const instances = randomInstances(r, peers, r.int(1, 30))
  // Start from arbitrary leftovers: random claims by random peers with random epochs.
  const table: ClaimTable = new Map()
  for (const inst of instances) {
    if (!r.chance(0.3)) continue
    const m = new Map<string, Claim>()
    for (let k = r.int(1, 3); k > 0; k--) { const p = r.pick(peers); m.set(p.id, { peerId: p.id, epoch: r.int(1, 4), startedAt: 0 }) }
    table.set(inst.key, m)
  }
  return { peers, instances, table }
}

/** Invariants of a converged state under an agreed view. */
function checkConverged (w: World, seed: number): PlacementResult {
  const result = place({ instances: w.instances, peers: w.peers, claims: claimsInput(w.table) })
  const byPeerResidents = new Map<string, number>()
  const byPeerCount = new Map<string, number>()
  for (const p of result.placements) {
    const live = liveClaimants(w.table, p.instance, w.peers)
    if (p.owner === null) { assert.equal(live, [], `seed ${seed}: unplaced ${p.instance} still runs on ${live}`); continue }
    assert.equal(live, [p.owner], `seed ${seed}: ${p.instance} must run exactly on its owner ${p.owner}, runs on [${live}]`)
    const owner = w.peers.find(x => x.id === p.owner)!
    assert.ok(owner.alive && owner.draining !== true, `seed ${seed}: ${p.instance} on a dead or draining peer`)
    const inst = w.instances.find(i => i.key === p.instance)!
    if (inst.affinity?.resident === true) byPeerResidents.set(p.owner, (byPeerResidents.get(p.owner) ?? 0) + 1)
    byPeerCount.set(p.owner, (byPeerCount.get(p.owner) ?? 0) + 1)
  }
  for (const [id, n] of byPeerResidents) assert.ok(n === 1 && byPeerCount.get(id) === 1, `seed ${seed}: resident peer ${id} shares its peer`)
  assert.equal(result.stop, [], `seed ${seed}: a converged state has nothing to stop`)
  return result
}

const owners = (r: PlacementResult): Map<string, string | null> => new Map(r.placements.map(p => [p.instance, p.owner]))

Props(`${CASES} random clusters: agreed views converge within 2 rounds to exactly one live claimant per placed instance`, () => {
  for (let seed = 1; seed <= CASES; seed++) {
    const w = randomWorld(seed)
    const rounds = converge(w.instances, w.peers, w.table)
    assert.ok(rounds <= 2, `seed ${seed}: took ${rounds} rounds`)
    checkConverged(w, seed)
  }
})

Props(`${CASES} random clusters: a join moves nothing`, () => {
  for (let seed = 1; seed <= CASES; seed++) {
    const w = randomWorld(seed)
    converge(w.instances, w.peers, w.table)
    const before = owners(checkConverged(w, seed))
    const joined = [...w.peers, randomPeer(rng(seed * 31), 99)]
    const after = place({ instances: w.instances, peers: joined, claims: claimsInput(w.table) })
    for (const [key, owner] of before) {
      if (owner !== null) assert.is(after.byInstance.get(key)!.owner, owner, `seed ${seed}: ${key} moved on a join`)
    }
    assert.equal(after.stop, [], `seed ${seed}: a join stopped something`)
  }
})

Props(`${CASES} random clusters: a death moves only the dead peer's instances, and its return runs nothing twice`, () => {
  for (let seed = 1; seed <= CASES; seed++) {
    const w = randomWorld(seed)
    converge(w.instances, w.peers, w.table)
    const before = owners(checkConverged(w, seed))
    const victim = rng(seed * 17).pick(w.peers)
    const afterDeath = w.peers.map(p => (p.id === victim.id ? { ...p, alive: false } : p))
    const r = place({ instances: w.instances, peers: afterDeath, claims: claimsInput(w.table) })
    for (const [key, owner] of before) {
      const now = r.byInstance.get(key)!.owner
      if (owner !== null && owner !== victim.id) assert.is(now, owner, `seed ${seed}: ${key} moved although ${owner} is alive`)
      assert.is.not(now, victim.id)
    }
    // Failover completes, then the victim returns with its stale claims still in the replica.
    const dead: World = { ...w, peers: afterDeath }
    converge(dead.instances, dead.peers, dead.table)
    const failedOver = owners(checkConverged(dead, seed))
    const back = place({ instances: w.instances, peers: w.peers, claims: claimsInput(w.table) })
    for (const [key, owner] of failedOver) {
      if (owner !== null) assert.is(back.byInstance.get(key)!.owner, owner, `seed ${seed}: ${key} moved back when ${victim.id} returned`)
    }
    for (const s of back.stop) assert.is(s.peerId, victim.id, `seed ${seed}: only the returning peer stops copies`)
    converge(w.instances, w.peers, w.table)
    checkConverged(w, seed)
  }
})

Props(`${CASES} random clusters: same inputs in any order give the same output`, () => {
  for (let seed = 1; seed <= CASES; seed++) {
    const w = randomWorld(seed)
    const r = rng(seed * 7)
    const a = place({ instances: w.instances, peers: w.peers, claims: claimsInput(w.table) })
    const shuffledClaims = new Map(r.shuffle([...claimsInput(w.table)]).map(([k, list]) => [k, r.shuffle(list)]))
    const b = place({ instances: r.shuffle(w.instances), peers: r.shuffle(w.peers).map(p => ({ ...p, tags: r.shuffle(p.tags) })), claims: shuffledClaims })
    assert.equal(b.placements, a.placements, `seed ${seed}`)
    assert.equal(b.stop, a.stop, `seed ${seed}`)
  }
})

Props(`${CASES} random clusters: peers acting on different views, then on an agreed view, end with one copy each`, () => {
  for (let seed = 1; seed <= CASES; seed++) {
    const w = randomWorld(seed)
    const r = rng(seed * 13)
    converge(w.instances, w.peers, w.table)
    // Each live peer has its own opinion of who is alive (a partition or a slow detector).
    const snapshot = cloneClaims(w.table)
    for (const self of w.peers) {
      if (!self.alive) continue
      const view = w.peers.map(p => (p.id !== self.id && r.chance(0.3) ? { ...p, alive: false } : p))
      applyAs(self.id, place({ instances: w.instances, peers: view, claims: claimsInput(snapshot) }), w.table, 1)
    }
    // Views agree again: duplicates resolve and nothing runs twice.
    agreedRound(w.instances, w.peers, w.table, 2)
    converge(w.instances, w.peers, w.table)
    checkConverged(w, seed)
  }
})

Props.run()
