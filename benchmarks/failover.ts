// How long after SIGKILL of a peer do its instances run elsewhere? N monkd processes, K instances,
// kill the owner of the most, time each instance until it runs on a live peer (seen via ps).
// Usage: npm run bench -- failover [--peers 3,5,10] [--instances 10] [--trials 2] [--runtimes process,docker]
// Target: p50 <= 3 s at N = 5 with the process runtime.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { PeerMessage, PsRow } from '../cli/api/messages.js'
import { DockerRuntime } from '../actors/runtime/docker.js'
import { LABEL_INSTANCE } from '../actors/runtime/runtime.js'
import { spawnMonkd, until, type MonkdProcess } from '../test/helpers/monkd.js'
import { dockerForTests, TEST_IMAGE } from '../test/helpers/runtime-docker.js'

const root = resolve(import.meta.dirname, '..')
const arg = (name: string, d: string): string => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] ?? d : d }
const sizes = arg('peers', '3,5,10').split(',').map(Number)
const K = Number(arg('instances', '10'))
const trials = Number(arg('trials', '2'))
let runtimes = arg('runtimes', 'process,docker').split(',') as Array<'process' | 'docker'>
const send = <R = unknown>(p: MonkdProcess, msg: PeerMessage): Promise<R> => p.client.request<R>('peer', msg)
const pct = (xs: number[], p: number): number | null => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? null : null }

const docker = await dockerForTests()
if (!docker.ok) { console.log(`docker: skipped (${docker.reason})`); runtimes = runtimes.filter(r => r !== 'docker') } else await docker.runtime.close()

async function trial (runtime: 'process' | 'docker', n: number, t: number): Promise<number[]> {
  const base = mkdtempSync(join(tmpdir(), `monk-bench-fo-`))
  const ns = `bench-${runtime}-${n}-${t}-${process.pid}`
  const peers: MonkdProcess[] = []
  try {
    peers.push(await spawnMonkd('p0', join(base, 'p0'), ['--runtime', runtime, '--log-level', 'warn']))
    const token = (await send<{ token: string }>(peers[0]!, { type: 'cluster.token' })).token
    peers.push(...await Promise.all(Array.from({ length: n - 1 }, (_, i) => spawnMonkd(`p${i + 1}`, join(base, `p${i + 1}`), ['--runtime', runtime, '--join', token, '--log-level', 'warn']))))
    await until(`${n} peers alive`, async () => (await send<Array<{ alive: boolean }>>(peers[0]!, { type: 'cluster.peers' })).filter(p => p.alive).length === n, 60_000)
    const yaml = [`namespace: ${ns}`, ...Array.from({ length: K }, (_, i) => `w${i}:\n  defines: runnable\n  containers:\n    main:\n      image: ${TEST_IMAGE}\n      bash: exec sleep 3600`)].join('\n') + '\n'
    const load = await send<{ errors: unknown[] }>(peers[0]!, { type: 'templates.load', files: { '/b/k.yaml': yaml }, paths: ['/b/k.yaml'] })
    if (load.errors.length) throw new Error(`setup failed: ${JSON.stringify(load.errors)}`)
    for (let i = 0; i < K; i++) await send(peers[0]!, { type: 'workload.run', path: `${ns}/w${i}` })
    const running = await until('every instance running', async () => {
      const ps = (await send<PsRow[]>(peers[0]!, { type: 'workload.ps' })).filter(r => r.instance.startsWith(`${ns}/`))
      return ps.length === K && ps.every(r => r.status === 'running') ? ps : undefined
    }, 120_000, 100)
    const byPeer = new Map<string, string[]>()
    for (const r of running) byPeer.set(r.peerName, [...(byPeer.get(r.peerName) ?? []), r.instance])
    const [victimName, victimInstances] = [...byPeer.entries()].sort((a, b) => b[1].length - a[1].length)[0]!
    const victim = peers.find(p => p.name === victimName)!
    const watcher = peers.find(p => p !== victim)!
    const victimId = running.find(r => r.peerName === victimName)!.peer
    const moved = new Map<string, number>()
    victim.child.kill('SIGKILL')
    const t0 = performance.now()
    while (moved.size < victimInstances.length && performance.now() - t0 < 60_000) {
      const ps = await send<PsRow[]>(watcher, { type: 'workload.ps' })
      const now = performance.now() - t0
      for (const r of ps) if (victimInstances.includes(r.instance) && !moved.has(r.instance) && r.status === 'running' && r.peer !== victimId) moved.set(r.instance, now)
      await new Promise(res => setTimeout(res, 10))
    }
    if (moved.size < victimInstances.length) throw new Error(`only ${moved.size}/${victimInstances.length} instances moved within 60 s`)
    console.log(`  ${runtime} N=${n} trial ${t}: killed ${victimName} with ${victimInstances.length} instances; all moved in ${Math.max(...moved.values()).toFixed(0)} ms`)
    return [...moved.values()]
  } finally {
    for (const p of peers) p.child.kill('SIGKILL')
    if (runtime === 'docker') {
      const rt = await DockerRuntime.open({})
      for (let i = 0; i < K; i++) for (const c of await rt.list({ [LABEL_INSTANCE]: `${ns}/w${i}` })) await rt.remove(c.id, { force: true }).catch(() => {})
      await rt.close()
    } else {
      // process-runtime workloads outlive their daemon: kill them by their process group
      const { execFileSync } = await import('node:child_process')
      try { execFileSync('pkill', ['-KILL', '-f', `${base}/`]) } catch { /* none left */ }
    }
    rmSync(base, { recursive: true, force: true })
  }
}

const rows: Array<Record<string, unknown>> = []
for (const runtime of runtimes) {
  for (const n of sizes) {
    const times: number[] = []
    for (let t = 0; t < trials; t++) times.push(...await trial(runtime, n, t))
    rows.push({ runtime, peers: n, instances: K, failover_ms_p50: Math.round(pct(times, 0.5) ?? NaN), failover_ms_p99: Math.round(pct(times, 0.99) ?? NaN), samples: times.length })
  }
}
console.table(rows)
const target = rows.find(r => r.runtime === 'process' && r.peers === 5)
if (target) console.log(`target: process runtime, N=5: p50 ${String(target.failover_ms_p50)} ms (<= 3000 ms) ${Number(target.failover_ms_p50) <= 3000 ? 'OK' : 'MISSED'}`)
mkdirSync(join(root, 'benchmarks/results'), { recursive: true })
writeFileSync(join(root, 'benchmarks/results/failover.json'), JSON.stringify(rows, null, 2) + '\n')
