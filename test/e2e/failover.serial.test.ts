// Failover with real monkd processes: 3 peers, SIGKILL the owner of a runnable, it runs on
// another peer; the killed peer restarts (same home, same id) and nothing runs twice.
// Process runtime always; Docker too when an engine answers (required in CI).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerMessage, PsRow, RunnableMessage } from '../../cli/api/messages.js'
import { DockerRuntime } from '../../actors/runtime/docker.js'
import { LABEL_INSTANCE } from '../../actors/runtime/runtime.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'
import { whenDocker, TEST_IMAGE } from '../helpers/runtime-docker.js'
import { rmOnExit } from '../helpers/tmp.js'

/** A typed request: the message is checked against the protocol at compile time. */
const send = <R = unknown>(p: MonkdProcess, path: string, msg: PeerMessage | RunnableMessage): Promise<R> => p.client.request<R>(path, msg)

const kit = (ns: string) => `namespace: ${ns}
worker:
  defines: runnable
  containers:
    main:
      image: ${TEST_IMAGE}
      bash: exec sleep 3600
`

async function scenario (runtime: 'process' | 'docker'): Promise<void> {
  const base = rmOnExit(mkdtempSync(join(tmpdir(), `monk-failover-${runtime}-`)))
  const ns = `fo-${runtime}-${process.pid}`
  const instance = `${ns}/worker`
  const peers: MonkdProcess[] = []
  try {
    peers.push(await spawnMonkd('a', join(base, 'a'), ['--runtime', runtime]))
    const token = (await peers[0]!.client.request<{ token: string }>('peer', { type: 'cluster.token' })).token
    peers.push(await spawnMonkd('b', join(base, 'b'), ['--runtime', runtime, '--join', token]))
    peers.push(await spawnMonkd('c', join(base, 'c'), ['--runtime', runtime, '--join', token]))
    await until('3 peers see each other', async () => (await peers[0]!.client.request<Array<{ alive: boolean }>>('peer', { type: 'cluster.peers' })).filter(p => p.alive).length === 3)
    const load = await send<{ errors: unknown[] }>(peers[1]!, 'peer', { type: 'templates.load', files: { '/k/k.yaml': kit(ns) }, paths: ['/k/k.yaml'] })
    assert.equal(load.errors, [])
    await until('the template reached peer c', async () => (await send<Array<{ path: string }>>(peers[2]!, 'peer', { type: 'templates.list' })).some(t => t.path === instance))
    await send(peers[2]!, 'peer', { type: 'workload.run', path: instance })
    const first = await until('the worker runs', async () => {
      const r = (await peers[0]!.client.request<PsRow[]>('peer', { type: 'workload.ps' })).find(x => x.instance === instance)
      return r?.status === 'running' ? r : undefined
    }, 30_000)
    const victim = peers.find(p => first.peerName === p.name)
    assert.ok(victim, `owner ${first.peerName} is one of ours`)
    const victimId = first.peer
    victim.child.kill('SIGKILL')
    const killedAt = Date.now()
    const survivor = peers.find(p => p !== victim) as MonkdProcess
    const moved = await until('the worker runs on another peer', async () => {
      const r = (await survivor.client.request<PsRow[]>('peer', { type: 'workload.ps' })).find(x => x.instance === instance)
      return r?.status === 'running' && r.peer !== victimId ? r : undefined
    }, 30_000, 50)
    console.log(`  ${runtime}: ${instance} moved from ${first.peerName} to ${moved.peerName} in ${Date.now() - killedAt} ms`)
    // The killed peer comes back with the same home: it sees the newer claim and stops its copy.
    const back = await spawnMonkd(victim.name, victim.home, ['--runtime', runtime])
    peers[peers.indexOf(victim)] = back
    const st = await back.client.request<{ peerId: string }>('peer', { type: 'peer.status' })
    assert.is(st.peerId, victimId, 'a restarted peer keeps its id')
    const countRunning = async (): Promise<number> => {
      let n = 0
      for (const p of peers) {
        const rt = runtime === 'docker' ? await DockerRuntime.open({}) : undefined
        try {
          const list = rt ? await rt.list({ [LABEL_INSTANCE]: instance }) : await processList(p.home, instance)
          n += list.filter(c => c.running).length
        } finally { await rt?.close() }
        if (runtime === 'docker') break // one engine serves every peer: count once
      }
      return n
    }
    await until('exactly one copy runs after the old owner returned', async () => await countRunning() === 1, 30_000, 200)
    await new Promise(resolve => setTimeout(resolve, 2000))
    assert.is(await countRunning(), 1, 'still one copy two seconds later')
    const final = (await back.client.request<PsRow[]>('peer', { type: 'workload.ps' })).find(x => x.instance === instance)
    assert.is(final?.peer, moved.peer, 'the instance stays where it moved (sticky)')
    await send(back, 'peer', { type: 'workload.purge', path: instance })
    await until('purged', async () => await countRunning() === 0, 30_000, 200)
  } finally {
    for (const p of peers) p.child.kill('SIGKILL')
    if (runtime === 'docker') {
      const rt = await DockerRuntime.open({}).catch(() => undefined)
      for (const c of await rt?.list({ [LABEL_INSTANCE]: instance }) ?? []) await rt?.remove(c.id, { force: true }).catch(() => {})
      await rt?.close()
    } else {
      for (const h of ['a', 'b', 'c']) for (const c of await processList(join(base, h), instance).catch(() => [])) if (c.pid) { try { process.kill(-c.pid, 'SIGKILL') } catch { /* gone */ } }
    }
  }
}

/** Process-runtime containers of a peer's home, read without taking over its state lock. */
async function processList (home: string, instance: string): Promise<Array<{ running: boolean, pid: number | null }>> {
  const { readdirSync, readFileSync } = await import('node:fs')
  const dir = join(home, 'runtime', 'process', 'containers')
  const out: Array<{ running: boolean, pid: number | null }> = []
  let names: string[] = []
  try { names = readdirSync(dir) } catch { return out }
  for (const n of names) {
    let rec: { spec?: { labels?: Record<string, string> }, pid?: number | null } | undefined
    try { rec = JSON.parse(readFileSync(join(dir, n, 'state.json'), 'utf8')) as typeof rec } catch { continue }
    if (rec?.spec?.labels?.[LABEL_INSTANCE] !== instance) continue
    const pid = typeof rec.pid === 'number' ? rec.pid : null
    let running = false
    if (pid) { try { process.kill(pid, 0); running = true } catch { running = false } }
    out.push({ running, pid })
  }
  return out
}

/** SIGTERM: the peer leaves cleanly, hands its work over, and its containers are gone. */
async function cleanLeave (): Promise<void> {
  const base = rmOnExit(mkdtempSync(join(tmpdir(), 'monk-leave-')))
  const ns = `leave-${process.pid}`
  const instance = `${ns}/worker`
  const peers: MonkdProcess[] = []
  try {
    peers.push(await spawnMonkd('a', join(base, 'a'), ['--runtime', 'process']))
    const token = (await send<{ token: string }>(peers[0]!, 'peer', { type: 'cluster.token' })).token
    peers.push(await spawnMonkd('b', join(base, 'b'), ['--runtime', 'process', '--join', token]))
    await until('2 peers alive', async () => (await send<Array<{ alive: boolean }>>(peers[0]!, 'peer', { type: 'cluster.peers' })).filter(p => p.alive).length === 2)
    await send(peers[0]!, 'peer', { type: 'templates.load', files: { '/k/k.yaml': kit(ns) }, paths: ['/k/k.yaml'] })
    await send(peers[0]!, 'peer', { type: 'workload.run', path: instance })
    const first = await until('running', async () => (await send<PsRow[]>(peers[0]!, 'peer', { type: 'workload.ps' })).find(r => r.instance === instance && r.status === 'running'))
    const leaver = peers.find(p => p.name === first.peerName) as MonkdProcess
    const stayer = peers.find(p => p !== leaver) as MonkdProcess
    leaver.child.kill('SIGTERM')
    await until('monkd exits 0 after SIGTERM', () => leaver.child.exitCode === 0, 20_000)
    const moved = await until('runs on the remaining peer', async () => (await send<PsRow[]>(stayer, 'peer', { type: 'workload.ps' })).find(r => r.instance === instance && r.status === 'running' && r.peerName === stayer.name), 20_000)
    assert.ok(moved)
    assert.equal((await processList(leaver.home, instance)).filter(c => c.running), [], 'the leaver left no copy running')
    const peersNow = await send<Array<{ name: string, alive: boolean }>>(stayer, 'peer', { type: 'cluster.peers' })
    assert.not.ok(peersNow.some(p => p.name === leaver.name && p.alive))
  } finally {
    for (const p of peers) p.child.kill('SIGKILL')
    for (const h of ['a', 'b']) for (const c of await processList(join(base, h), instance).catch(() => [])) if (c.pid) { try { process.kill(-c.pid, 'SIGKILL') } catch { /* gone */ } }
  }
}

/** A joining peer (real process) must not take running work: joins move nothing (DESIGN §5). */
async function joinMovesNothing (): Promise<void> {
  const base = rmOnExit(mkdtempSync(join(tmpdir(), 'monk-join-')))
  const ns = `join-${process.pid}`
  const peers: MonkdProcess[] = []
  const n = 8
  try {
    peers.push(await spawnMonkd('a', join(base, 'a'), ['--runtime', 'process']))
    const token = (await send<{ token: string }>(peers[0]!, 'peer', { type: 'cluster.token' })).token
    peers.push(await spawnMonkd('b', join(base, 'b'), ['--runtime', 'process', '--join', token]))
    await until('2 peers alive', async () => (await send<Array<{ alive: boolean }>>(peers[0]!, 'peer', { type: 'cluster.peers' })).filter(p => p.alive).length === 2)
    const yaml = [`namespace: ${ns}`, ...Array.from({ length: n }, (_, i) => `w${i}:\n  defines: runnable\n  containers:\n    main:\n      image: ${TEST_IMAGE}\n      bash: exec sleep 3600`)].join('\n') + '\n'
    await send(peers[0]!, 'peer', { type: 'templates.load', files: { '/k/k.yaml': yaml }, paths: ['/k/k.yaml'] })
    for (let i = 0; i < n; i++) await send(peers[0]!, 'peer', { type: 'workload.run', path: `${ns}/w${i}` })
    const before = await until('all running', async () => {
      const ps = (await send<PsRow[]>(peers[0]!, 'peer', { type: 'workload.ps' })).filter(r => r.instance.startsWith(ns))
      return ps.length === n && ps.every(r => r.status === 'running') ? new Map(ps.map(r => [r.instance, r.peer])) : undefined
    }, 30_000)
    peers.push(await spawnMonkd('c', join(base, 'c'), ['--runtime', 'process', '--join', token]))
    await until('3 peers alive', async () => (await send<Array<{ alive: boolean }>>(peers[2]!, 'peer', { type: 'cluster.peers' })).filter(p => p.alive).length === 3)
    await new Promise(resolve => setTimeout(resolve, 5000))
    const after = (await send<PsRow[]>(peers[2]!, 'peer', { type: 'workload.ps' })).filter(r => r.instance.startsWith(ns))
    assert.equal(new Map(after.map(r => [r.instance, r.peer])), before, 'no instance moved to the joiner')
    assert.equal((await processList(join(base, 'c'), `${ns}/w0`)).length, 0)
  } finally {
    for (const p of peers) p.child.kill('SIGKILL')
    const { execFileSync } = await import('node:child_process')
    try { execFileSync('pkill', ['-KILL', '-f', `${base}/`]) } catch { /* none left */ }
  }
}

const Failover = suite('failover with real monkd processes')
Failover('a peer that joins takes no running work', async () => { await joinMovesNothing() })
Failover('SIGTERM: a clean leave hands the work to the remaining peer', async () => { await cleanLeave() })
Failover('process runtime: SIGKILL the owner, it runs elsewhere, the old owner returns, one copy', async () => { await scenario('process') })
await whenDocker(Failover, 'docker runtime: SIGKILL the owner, it runs elsewhere, the old owner returns, one copy', async () => { await scenario('docker') }, 'failover')
Failover.run()
