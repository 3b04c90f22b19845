// Integration: a restarted peer keeps its peer id and state (from its home) and catches up.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { allAlive, converged, startCluster, stopPeer, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const Restart = suite('mesh restart')
let c: TestCluster

Restart.before(async () => {
  c = await startCluster(3)
  await waitFor('3 peers alive everywhere', () => allAlive(c.peers))
})
Restart.after(async () => { await c.close() })

Restart('same id, state restored from disk before any sync, then catches up on what it missed', async () => {
  const victim = c.peers[2]!
  const id = victim.peerId
  const home = c.homes[2]!
  for (let i = 0; i < 100; i++) await c.peers[i % 3]!.put(`want/r/${i}`, i)
  await victim.put(`claim/ns/app/${id}`, { epoch: 1 })
  await victim.delete('want/r/7')
  await waitFor('converged before restart', () => converged(c.peers))
  const rootBefore = victim.testing.digestRoot()
  assert.ok(c.peers.every(p => p.counters().swimSentAnnounce === 0), 'a peer started on a fresh home does not announce itself')
  const hlcBefore = victim.entry(`claim/ns/app/${id}`)!.hlc

  await stopPeer(victim)
  await waitFor('others see it gone', () => c.peers.slice(0, 2).every(p => !p.alive().includes(id)), 10_000)
  await c.peers[0]!.put('want/while-down', 'missed')

  // restart with no token and no cluster: the home remembers both
  const back = await c.add({ home, restart: true })
  assert.is(back.peerId, id)
  assert.is(back.clusterId, c.cluster.id)
  assert.is(back.get('want/r/99'), 99, 'state is there before any sync')
  assert.is(back.get('want/r/7'), undefined)
  assert.ok(back.entry('want/r/7'), 'the tombstone survived')
  assert.equal(back.get(`claim/ns/app/${id}`), { epoch: 1 })
  assert.is(back.get('want/while-down'), undefined)
  assert.is.not(back.testing.digestRoot(), rootBefore, 'its own peer record was rewritten at start')
  assert.is(back.synced, false, 'not synced before its first exchange')

  // it was restarted from its home (its own record was there): it announced itself to the members
  // it knows, so those holding it dead take it back at once (issue 11: held dead > 60 s in chaos)
  const readyAt = Date.now()
  await waitFor('a restarted peer announces itself (at its first probe periods)', () => back.counters().swimSentAnnounce >= 1, 2000)
  await waitFor('alive everywhere within 5 s of its start', () => [c.peers[0]!, c.peers[1]!].every(p => p.alive().includes(id)), 5000)
  assert.ok(Date.now() - readyAt <= 5000)
  await back.whenSynced()
  await waitFor('caught up', () => back.get('want/while-down') === 'missed', 10_000)
  await waitFor('alive everywhere again', () => [c.peers[0]!, c.peers[1]!, back].every(p => p.alive().length === 3), 10_000)
  await back.put(`claim/ns/app/${id}`, { epoch: 2 })
  const hlcAfter = back.entry(`claim/ns/app/${id}`)!.hlc
  assert.ok(hlcAfter.wall > hlcBefore.wall || (hlcAfter.wall === hlcBefore.wall && hlcAfter.counter > hlcBefore.counter), 'HLC continues after the high-water mark')
  await waitFor('new claim everywhere', () => [c.peers[0]!, c.peers[1]!].every(p => (p.get(`claim/ns/app/${id}`) as { epoch: number }).epoch === 2))
})

Restart.run()
