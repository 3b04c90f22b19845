// Scale with real monkd processes (process runtime; Docker too when an engine answers, required in
// CI): `workload.scale` to 3 on 3 peers puts one replica on each (ps shows ns/name#k); a connection
// to the scaled runnable resolves to a live replica; SIGKILL a peer and only its replica moves, to
// a surviving peer, while the other two stay where they ran.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PsRow } from '../../cli/api/messages.js'
import { DockerRuntime } from '../../actors/runtime/docker.js'
import { LABEL_INSTANCE } from '../../actors/runtime/runtime.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'
import { whenDocker, TEST_IMAGE } from '../helpers/runtime-docker.js'

const kit = (ns: string): string => `namespace: ${ns}
svc:
  defines: runnable
  services:
    data: {protocol: custom, port: 7000}
  containers:
    main:
      image: ${TEST_IMAGE}
      bash: exec sleep 3600
client:
  defines: runnable
  connections:
    svc: {runnable: ${ns}/svc, service: data}
  actions:
    where:
      code: connection-port("svc")
  containers:
    main:
      image: ${TEST_IMAGE}
      bash: exec sleep 3600
`

async function scenario (runtime: 'process' | 'docker'): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), `monk-scale-${runtime}-`))
  const ns = `scale-${runtime}-${process.pid}`
  const svc = `${ns}/svc`
  const peers: MonkdProcess[] = []
  const rows = async (via: MonkdProcess): Promise<PsRow[]> => (await via.client.request<PsRow[]>('peer', { type: 'workload.ps' })).filter(r => r.instance.startsWith(`${svc}#`))
  try {
    peers.push(await spawnMonkd('a', join(base, 'a'), ['--runtime', runtime]))
    const token = (await peers[0]!.client.request<{ token: string }>('peer', { type: 'cluster.token' })).token
    peers.push(await spawnMonkd('b', join(base, 'b'), ['--runtime', runtime, '--join', token]))
    peers.push(await spawnMonkd('c', join(base, 'c'), ['--runtime', runtime, '--join', token]))
    await until('3 peers see each other', async () => (await peers[0]!.client.request<Array<{ alive: boolean }>>('peer', { type: 'cluster.peers' })).filter(p => p.alive).length === 3)
    const load = await peers[0]!.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files: { '/k/k.yaml': kit(ns) }, paths: ['/k/k.yaml'] })
    assert.equal(load.errors, [])
    for (const p of peers) await until(`the templates reached ${p.name}`, async () => (await p.client.request<Array<{ path: string }>>('peer', { type: 'templates.list' })).some(t => t.path === `${ns}/client`))
    const reply = await peers[1]!.client.request<{ instances: string[] }>('peer', { type: 'workload.scale', path: svc, replicas: 3 })
    assert.equal(reply.instances, [`${svc}#0`, `${svc}#1`, `${svc}#2`])
    const first = await until('3 replicas run', async () => { const r = await rows(peers[0]!); return r.length === 3 && r.every(x => x.status === 'running') ? r : undefined }, 60_000)
    assert.equal(first.map(r => r.instance), [`${svc}#0`, `${svc}#1`, `${svc}#2`])
    assert.equal(new Set(first.map(r => r.peerName)).size, 3, `one replica per peer: ${first.map(r => `${r.instance}@${r.peerName}`).join(', ')}`)

    await peers[2]!.client.request('peer', { type: 'workload.run', path: `${ns}/client` })
    await until('client runs', async () => (await peers[0]!.client.request<PsRow[]>('peer', { type: 'workload.ps' })).some(r => r.instance === `${ns}/client` && r.status === 'running'), 60_000)
    const where = await peers[0]!.client.request<{ output: unknown }>(`runnable/${ns}/client`, { type: 'runnable.action', action: 'where', args: {} })
    assert.is(Number(where.output), 7000, 'the connection resolves to a replica')

    // SIGKILL the peer of a replica the client does not run beside (the client stays reachable)
    const clientPeer = (await peers[0]!.client.request<PsRow[]>('peer', { type: 'workload.ps' })).find(r => r.instance === `${ns}/client`)!.peerName
    const victimRow = first.find(r => r.peerName !== clientPeer)!
    const victim = peers.find(p => p.name === victimRow.peerName)!
    const survivor = peers.find(p => p !== victim)!
    victim.child.kill('SIGKILL')
    const killedAt = Date.now()
    const after = await until(`${victimRow.instance} runs again elsewhere`, async () => {
      const r = await rows(survivor)
      const moved = r.find(x => x.instance === victimRow.instance)
      return moved?.status === 'running' && moved.peerName !== victim.name ? r : undefined
    }, 40_000, 50)
    console.log(`  ${runtime}: ${victimRow.instance} back on ${after.find(x => x.instance === victimRow.instance)!.peerName} in ${Date.now() - killedAt} ms`)
    for (const r of first.filter(x => x !== victimRow)) {
      assert.is(after.find(x => x.instance === r.instance)?.peerName, r.peerName, `${r.instance} stayed on ${r.peerName}`)
    }
    const again = await survivor.client.request<{ output: unknown }>(`runnable/${ns}/client`, { type: 'runnable.action', action: 'where', args: {} })
    assert.is(Number(again.output), 7000, 'the connection still resolves to a live replica')

    await survivor.client.request('peer', { type: 'workload.scale', path: svc, replicas: 1 })
    await until('scaled down to one replica', async () => { const r = await rows(survivor); return r.length === 1 && r[0]?.instance === `${svc}#0` && r[0].status === 'running' })
    await survivor.client.request('peer', { type: 'workload.purge', path: svc })
    await survivor.client.request('peer', { type: 'workload.purge', path: `${ns}/client` })
  } finally {
    for (const p of peers) p.child.kill('SIGKILL')
    if (runtime === 'docker') {
      const rt = await DockerRuntime.open({}).catch(() => undefined)
      for (const inst of [`${svc}#0`, `${svc}#1`, `${svc}#2`, `${ns}/client`]) {
        for (const c of await rt?.list({ [LABEL_INSTANCE]: inst }) ?? []) await rt?.remove(c.id, { force: true }).catch(() => {})
      }
      await rt?.close()
    } else {
      for (const h of ['a', 'b', 'c']) {
        const dir = join(base, h, 'runtime', 'process', 'containers')
        for (const n of existsSync(dir) ? readdirSync(dir) : []) {
          try { const pid = (JSON.parse(readFileSync(join(dir, n, 'state.json'), 'utf8')) as { pid?: number | null }).pid; if (typeof pid === 'number') process.kill(-pid, 'SIGKILL') } catch { /* gone */ }
        }
      }
    }
    rmSync(base, { recursive: true, force: true })
  }
}

const S = suite('scale with real monkd processes')
S('process runtime: 3 replicas on 3 peers; a SIGKILLed peer\'s replica runs elsewhere, the others stay', async () => { await scenario('process') })
await whenDocker(S, 'docker runtime: 3 replicas on 3 peers; a SIGKILLed peer\'s replica runs elsewhere, the others stay', async () => { await scenario('docker') }, 'scale scenario')
S.run()
