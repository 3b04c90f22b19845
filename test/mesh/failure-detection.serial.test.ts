// Failure detection (SWIM, mesh/swim.ts) with real processes: SIGKILL one of 5 peers and every other
// peer declares it dead (a refused redial: 'unreachable'); SIGSTOP one beyond the bound and it is
// declared dead ('failed'), never before the suspicion floor; SIGCONT and it refutes and comes back;
// a pause shorter than the bound is refuted and never declared dead.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defaults } from '../../mesh/defaults.js'
import type { PeerEvent } from '../helpers/mesh-peer.js'
import { startProcCluster, waitAllAlive, type ProcCluster } from '../helpers/mesh-procs.js'

const Detect = suite('mesh failure detection (5 processes)')
let c: ProcCluster

Detect.before(async () => {
  c = await startProcCluster(5)
  await waitAllAlive(c.peers, 5, 30_000)
})
Detect.after(async () => { await c.close() })

type Down = Extract<PeerEvent, { ev: 'down' }>

async function downEverywhere (victim: string, survivors: ProcCluster['peers'], since: number, timeoutMs: number): Promise<Down[]> {
  return await Promise.all(survivors.map(async p => await p.waitFor(e => e.ev === 'down' && e.peer === victim && e.at >= since, timeoutMs, `down of ${victim}`) as Down))
}

Detect('SIGKILL: every other peer declares the victim dead, fast', async () => {
  const victim = c.peers[4]!
  const survivors = c.peers.slice(0, 4)
  const t0 = Date.now()
  victim.kill('SIGKILL')
  const downs = await downEverywhere(victim.peerId, survivors, t0, 10_000)
  const worst = Math.max(...downs.map(d => d.at - t0))
  console.log(`    SIGKILL declared dead everywhere after ${worst} ms (${downs.map(d => `${d.at - t0} ms/${d.reason}`).join(', ')})`)
  assert.ok(worst <= 5000, `slowest detection ${worst} ms`)
  // no survivor was declared dead by anyone
  for (const p of survivors) assert.not.ok(p.events.some(e => e.ev === 'down' && e.peer !== victim.peerId), 'false positive on a survivor')
  await c.restart(4)
  await waitAllAlive(c.peers, 5, 30_000)
})

Detect('SIGSTOP (socket open, process silent) beyond the bound: dead, not before the floor; SIGCONT: it refutes and comes back up', async () => {
  const victim = c.peers[3]!
  const survivors = c.peers.filter(p => p !== victim)
  const t0 = Date.now()
  victim.kill('SIGSTOP')
  try {
    const downs = await downEverywhere(victim.peerId, survivors, t0, 15_000)
    const worst = Math.max(...downs.map(d => d.at - t0))
    const first = Math.min(...downs.map(d => d.at - t0))
    console.log(`    SIGSTOP declared dead everywhere after ${worst} ms (${downs.map(d => `${d.at - t0} ms/${d.reason}`).join(', ')})`)
    assert.ok(worst <= 10_000, `slowest detection ${worst} ms`)
    assert.ok(first >= defaults.swimSuspicionMinMs, `declared dead ${first} ms after it stopped, before the suspicion floor`)
    assert.ok(downs.every(d => d.reason === 'failed'), 'a paused process refuses nothing: its death must come from a suspicion')
  } finally {
    victim.kill('SIGCONT')
  }
  const t1 = Date.now()
  await Promise.all(survivors.map(async p => await p.waitFor(e => e.ev === 'up' && e.peer === victim.peerId && e.at >= t1, 20_000, 'up after SIGCONT')))
  await waitAllAlive(c.peers, 5, 20_000)
})

Detect('a pause well below the bound is refuted: nobody declares the paused peer dead', async () => {
  const victim = c.peers[2]!
  const survivors = c.peers.filter(p => p !== victim)
  const bound = defaults.swimProbeIntervalMs + defaults.swimSuspicionMinMs
  const t0 = Date.now()
  victim.kill('SIGSTOP')
  await new Promise(resolve => setTimeout(resolve, bound / 3))
  victim.kill('SIGCONT')
  // long enough for any suspicion raised during the pause to have run out
  await new Promise(resolve => setTimeout(resolve, defaults.swimSuspicionMinMs * defaults.swimSuspicionMaxMult + 2000))
  const downs = survivors.flatMap(p => p.events.filter(e => e.ev === 'down' && e.peer === victim.peerId && e.at >= t0))
  assert.equal(downs, [], 'a peer paused below the bound was declared dead')
  await waitAllAlive(c.peers, 5, 10_000)
})

Detect.run()
