// Failure detection with real processes: SIGKILL one of 5 peers and every other peer declares it
// dead (target 2 s on loopback); SIGSTOP one and φ declares it dead, SIGCONT and it comes back.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
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

Detect('SIGSTOP (socket open, process silent): φ declares it dead; SIGCONT brings it back up', async () => {
  const victim = c.peers[3]!
  const survivors = c.peers.filter(p => p !== victim)
  const t0 = Date.now()
  victim.kill('SIGSTOP')
  try {
    const downs = await downEverywhere(victim.peerId, survivors, t0, 15_000)
    const worst = Math.max(...downs.map(d => d.at - t0))
    console.log(`    SIGSTOP declared dead everywhere after ${worst} ms (${downs.map(d => `${d.at - t0} ms/${d.reason}`).join(', ')})`)
    assert.ok(worst <= 10_000, `slowest detection ${worst} ms`)
    assert.ok(downs.every(d => d.reason === 'failed' || d.reason === 'unreachable'))
  } finally {
    victim.kill('SIGCONT')
  }
  const t1 = Date.now()
  await Promise.all(survivors.map(async p => await p.waitFor(e => e.ev === 'up' && e.peer === victim.peerId && e.at >= t1, 20_000, 'up after SIGCONT')))
  await waitAllAlive(c.peers, 5, 20_000)
})

Detect.run()
