// test-deadline-s: 480
// No false positives: 10 idle peer processes for MONK_MESH_SOAK_MS (default 5 minutes); no peer is
// ever declared dead by any other, and at the end everyone sees all 10 alive.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defaults } from '../../mesh/defaults.js'
import { startProcCluster, waitAllAlive, type ProcCluster } from '../helpers/mesh-procs.js'

const soakMs = Number(process.env.MONK_MESH_SOAK_MS ?? 300_000)
const Soak = suite(`mesh soak (10 idle processes, ${Math.round(soakMs / 1000)} s)`)
let c: ProcCluster

Soak.before(async () => {
  c = await startProcCluster(10)
  await waitAllAlive(c.peers, 10, 60_000)
})
Soak.after(async () => { await c.close() })

Soak('no peer is declared dead while all are alive and idle', async () => {
  const first = await Promise.all(c.peers.map(async p => await p.command<{ swimReceived: number; probes: number; suspicions: number }>({ op: 'counters' })))
  const start = Date.now()
  const downs: string[] = []
  for (const p of c.peers) p.on(e => { if (e.ev === 'down') downs.push(`${p.args.name} saw ${e.peer} ${e.reason} at +${e.at - start} ms`) })
  while (Date.now() - start < soakMs) {
    await new Promise(resolve => setTimeout(resolve, Math.min(5000, soakMs - (Date.now() - start) + 1)))
    assert.equal(downs, [], 'false positive')
    assert.ok(c.peers.every(p => !p.exited), 'a peer process died')
  }
  await waitAllAlive(c.peers, 10, 10_000)
  const counters = await Promise.all(c.peers.map(async p => await p.command<{ swimReceived: number; probes: number; suspicions: number }>({ op: 'counters' })))
  const received = counters.reduce((n, k, i) => n + k.swimReceived - first[i]!.swimReceived, 0)
  const periods = soakMs / defaults.swimProbeIntervalMs
  console.log(`    ${received} swim messages received in ${Math.round((Date.now() - start) / 1000)} s, ${counters.reduce((n, k, i) => n + k.probes - first[i]!.probes, 0)} pings, ${counters.reduce((n, k, i) => n + k.suspicions - first[i]!.suspicions, 0)} suspicions (refuted), 0 false positives`)
  // each peer probes one subject per period: a ping and an ack each, so ~2 received per peer per period
  assert.ok(received > 10 * periods * 2 * 0.7, `too few swim messages: ${received} (membership stalled?)`)
  assert.equal(downs, [])
})

Soak.run()
