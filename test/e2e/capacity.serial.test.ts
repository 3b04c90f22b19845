// Capacity with real monkd processes: peers publish what they offer (declared with --cpu and
// --memory here) and placement reserves `resources.requests` against it. A request no peer has room
// for waits, with the reason (which peer was passed over, for what) in ps and describe; a second
// request that would overcommit a peer waits too; both run once a bigger peer joins.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe, PeerRow, PsRow } from '../../cli/api/messages.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'
import { existsSync, readdirSync, readFileSync } from 'node:fs'

const kit = (ns: string): string => `namespace: ${ns}
base:
  containers:
    main:
      bash: exec sleep 3600
small:
  defines: runnable
  inherits: ./base
  containers:
    main:
      resources:
        requests: {cpu: 600m, memory: 256Mi}
small2:
  defines: runnable
  inherits: ./small
big:
  defines: runnable
  inherits: ./base
  containers:
    main:
      resources:
        requests: {cpu: 2, memory: 1Gi}
`

const C = suite('capacity with real monkd processes')
C('a request larger than any peer waits with a reason, never overcommits, and runs once a bigger peer joins', async () => {
  const base = mkdtempSync(join(tmpdir(), 'monk-capacity-'))
  const ns = `cap-${process.pid}`
  const peers: MonkdProcess[] = []
  const ps = async (inst: string): Promise<PsRow | undefined> => (await peers[0]!.client.request<PsRow[]>('peer', { type: 'workload.ps' })).find(r => r.instance === `${ns}/${inst}`)
  try {
    peers.push(await spawnMonkd('small-peer', join(base, 'a'), ['--runtime', 'process', '--cpu', '1', '--memory', '1Gi']))
    const load = await peers[0]!.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files: { '/k/k.yaml': kit(ns) }, paths: ['/k/k.yaml'] })
    assert.equal(load.errors, [])
    await peers[0]!.client.request('peer', { type: 'workload.run', path: `${ns}/small` })
    await until('small runs on small-peer', async () => (await ps('small'))?.status === 'running')
    await peers[0]!.client.request('peer', { type: 'workload.run', path: `${ns}/small2` })
    await peers[0]!.client.request('peer', { type: 'workload.run', path: `${ns}/big` })
    const big = await until('big waits with a reason', async () => { const r = await ps('big'); return r?.waiting ? r : undefined })
    assert.is(big.peer, '')
    assert.match(big.waiting ?? '', new RegExp(`no eligible peer for ${ns}/big: 1 without room for the requests \\(small-peer: cpu 2 requested, 0\\.4 free of 1, memory 1Gi requested, 768Mi free of 1Gi\\)`))
    const small2 = await until('small2 waits: 0.6 + 0.6 cores would overcommit 1', async () => { const r = await ps('small2'); return r?.waiting ? r : undefined })
    assert.match(small2.waiting ?? '', /small-peer: cpu 0\.6 requested, 0\.4 free of 1/)
    const d = await peers[0]!.client.request<Describe>(`runnable/${ns}/big`, { type: 'runnable.describe' })
    assert.equal([d.status, d.peer], ['not placed', null])
    assert.match(d.waiting ?? '', /without room for the requests \(small-peer: cpu 2 requested/)
    const rowsA = await peers[0]!.client.request<PeerRow[]>('peer', { type: 'cluster.peers' })
    assert.equal(rowsA.map(r => [r.name, r.capacity, r.reserved]), [['small-peer', { cpu: 1, memory: 1024 ** 3 }, { cpu: 0.6, memory: 256 * 1024 ** 2 }]])
    // still waiting a while later: nothing runs where it does not fit
    await new Promise(resolve => setTimeout(resolve, 1500))
    assert.is((await ps('big'))?.status, 'starting')

    const token = (await peers[0]!.client.request<{ token: string }>('peer', { type: 'cluster.token' })).token
    peers.push(await spawnMonkd('big-peer', join(base, 'b'), ['--runtime', 'process', '--cpu', '4', '--memory', '8Gi', '--join', token]))
    const ran = await until('big runs on big-peer', async () => { const r = await ps('big'); return r?.status === 'running' ? r : undefined }, 40_000)
    assert.is(ran.peerName, 'big-peer')
    assert.is((await until('small2 runs', async () => { const r = await ps('small2'); return r?.status === 'running' ? r : undefined }, 40_000)).peerName, 'big-peer')
    assert.is((await ps('small'))?.peerName, 'small-peer', 'small stays where it ran')
    const rows = await peers[0]!.client.request<PeerRow[]>('peer', { type: 'cluster.peers' })
    const reserved = Object.fromEntries(rows.map(r => [r.name, r.reserved?.['cpu']]))
    assert.equal(reserved, { 'small-peer': 0.6, 'big-peer': 2.6 })
  } finally {
    for (const p of peers) p.child.kill('SIGKILL')
    for (const h of ['a', 'b']) {
      const dir = join(base, h, 'runtime', 'process', 'containers')
      for (const n of existsSync(dir) ? readdirSync(dir) : []) {
        try { const pid = (JSON.parse(readFileSync(join(dir, n, 'state.json'), 'utf8')) as { pid?: number | null }).pid; if (typeof pid === 'number') process.kill(-pid, 'SIGKILL') } catch { /* gone */ }
      }
    }
    rmSync(base, { recursive: true, force: true })
  }
})
C.run()
