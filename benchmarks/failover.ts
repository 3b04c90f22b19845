// How long after a fault of a peer do its instances run elsewhere? N monkd processes (built, from
// dist/), K instances; fault the owner of the most, time each instance until it runs on a live peer
// (seen via ps). Faults:
//   kill    SIGKILL of the owner's monkd (its connections close at once; its workloads live on)
//   silent  SIGSTOP of the owner's monkd AND its workloads (process-runtime process groups, Docker
//           containers paused): a machine that vanishes without closing its connections.
//           Everything gets SIGCONT / unpause afterwards, before cleanup.
// A second row per setting times a scaled runnable: N replicas (one per peer), fault the peer of
// one replica, time until that replica runs again on a live peer (the others stay put).
// A third row (SIGKILL, process runtime) times the overlay's re-route: a web server on one peer and
// a client on p0 whose connection has a local endpoint there; SIGKILL the server's monkd and its
// workload (a machine that died), then fetch through the same endpoint every 20 ms until a fetch
// succeeds: the server runs on another peer and the tunnel goes there (workload "connection re-route").
// Usage: npm run bench -- failover [--append] [--peers 3,5,10] [--instances 10] [--trials 2]
//          [--runtimes process,docker] [--faults kill,silent | --silent] [--no-scaled] [--no-reroute]
//          [--no-build]
// Targets: p50 <= 3 s at N = 5 with the process runtime; at 50 peers / 20 instances p50 <= 1 s after
// SIGKILL and <= 3 s silent.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import Docker from 'dockerode'
import { createClient, type ApiClient } from '../cli/api/client.js'
import type { Describe, PeerMessage, PsRow } from '../cli/api/messages.js'
import { DockerRuntime } from '../actors/runtime/docker.js'
import { LABEL_INSTANCE, LABEL_PEER } from '../actors/runtime/runtime.js'
import { peerNodeFlags } from '../test/helpers/mesh-procs.js'
import { until } from '../test/helpers/monkd.js'
import { dockerForTests, TEST_IMAGE } from '../test/helpers/runtime-docker.js'

const root = resolve(import.meta.dirname, '..')
const arg = (name: string, d: string): string => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] ?? d : d }
const sizes = arg('peers', '3,5,10').split(',').map(Number)
const K = Number(arg('instances', '10'))
const trials = Number(arg('trials', '2'))
let runtimes = arg('runtimes', 'process,docker').split(',') as Array<'process' | 'docker'>
type Fault = 'kill' | 'silent'
const faults = (process.argv.includes('--silent') ? 'silent' : arg('faults', 'kill')).split(',') as Fault[]
for (const f of faults) if (f !== 'kill' && f !== 'silent') throw new Error(`--faults: unknown fault ${f} (kill, silent)`)
for (const n of sizes) if (!Number.isInteger(n) || n < 2) throw new Error(`--peers: ${n} is not a peer count >= 2`)
if (!process.argv.includes('--no-build')) {
  console.log('building dist/ (npm run build; skip with --no-build)')
  if (spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed: the benchmark runs monkd from dist/')
}

interface MonkdProcess { name: string, home: string, child: ChildProcess, client: ApiClient, output: () => string }

/** Starts the built `dist/cli/monkd.js` under plain node and waits until its socket answers. */
async function spawnMonkd (name: string, home: string, args: string[]): Promise<MonkdProcess> {
  const child = spawn(process.execPath, [...peerNodeFlags, join(root, 'dist/cli/monkd.js'), '--home', home, '--name', name, '--listen', '/ip4/127.0.0.1/tcp/0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', d => { out = (out + String(d)).slice(-20_000) })
  child.stderr?.on('data', d => { out = (out + String(d)).slice(-20_000) })
  const client = createClient({ socketPath: join(home, 'monkd.sock'), timeoutMs: 30_000 })
  await until(`monkd ${name} to answer on its socket`, async () => {
    if (child.exitCode !== null) throw new Error(`monkd ${name} exited with ${child.exitCode}: ${out}`)
    return await client.ping().then(() => true, () => false)
  }, 120_000, 200)
  return { name, home, child, client, output: () => out }
}

/** Direct children of `pid` (from /proc/<child>/stat). */
function childrenOf (pid: number): number[] {
  const out: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d))
    } catch { /* gone meanwhile */ }
  }
  return out
}

/** Freezes (or thaws) a peer as a vanished machine: its monkd and its workloads. Returns how to undo it. */
async function silence (victim: MonkdProcess, victimId: string, runtime: 'process' | 'docker'): Promise<() => Promise<void>> {
  const pid = victim.child.pid!
  // process runtime: each workload leads its own process group under monkd
  const groups = runtime === 'process' ? childrenOf(pid) : []
  const docker = new Docker()
  const containers = runtime === 'docker' ? (await docker.listContainers({ filters: { label: [`${LABEL_PEER}=${victimId}`] } })).map(c => c.Id) : []
  process.kill(pid, 'SIGSTOP')
  for (const g of groups) { try { process.kill(-g, 'SIGSTOP') } catch { /* exited */ } }
  await Promise.all(containers.map(async id => { await docker.getContainer(id).pause().catch(() => {}) }))
  return async () => {
    await Promise.all(containers.map(async id => { await docker.getContainer(id).unpause().catch(() => {}) }))
    for (const g of groups) { try { process.kill(-g, 'SIGCONT') } catch { /* exited */ } }
    try { process.kill(pid, 'SIGCONT') } catch { /* exited */ }
  }
}
const send = <R = unknown>(p: MonkdProcess, msg: PeerMessage): Promise<R> => p.client.request<R>('peer', msg)
const pct = (xs: number[], p: number): number | null => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? null : null }

const docker = await dockerForTests()
if (!docker.ok) { console.log(`docker: skipped (${docker.reason})`); runtimes = runtimes.filter(r => r !== 'docker') } else await docker.runtime.close()

/** Starts N daemons (p0 founds, the others join in waves of 5) and waits until all are alive. */
async function startCluster (runtime: 'process' | 'docker', n: number, base: string, peers: MonkdProcess[], tag: (i: number) => string[] = () => []): Promise<void> {
  peers.push(await spawnMonkd('p0', join(base, 'p0'), ['--runtime', runtime, '--log-level', 'warn', ...tag(0)]))
  const token = (await send<{ token: string }>(peers[0]!, { type: 'cluster.token' })).token
  for (let i = 1; i < n; i += 5) {
    peers.push(...await Promise.all(Array.from({ length: Math.min(5, n - i) }, (_, j) => spawnMonkd(`p${i + j}`, join(base, `p${i + j}`), ['--runtime', runtime, '--join', token, '--log-level', 'warn', ...tag(i + j)]))))
  }
  await until(`${n} peers alive`, async () => (await send<Array<{ alive: boolean }>>(peers[0]!, { type: 'cluster.peers' })).filter(p => p.alive).length === n, 60_000 + n * 3000, 500)
}

/** A scaled runnable with one replica per peer: fault the peer of one replica, time until it runs on a live peer. */
async function scaledTrial (runtime: 'process' | 'docker', fault: Fault, n: number, t: number): Promise<number> {
  const base = mkdtempSync(join(tmpdir(), `monk-bench-fos-`))
  const ns = `bench-scaled-${runtime}-${fault}-${n}-${t}-${process.pid}`
  const path = `${ns}/rep`
  const peers: MonkdProcess[] = []
  let thaw: (() => Promise<void>) | undefined
  try {
    await startCluster(runtime, n, base, peers)
    const yaml = `namespace: ${ns}\nrep:\n  defines: runnable\n  containers:\n    main:\n      image: ${TEST_IMAGE}\n      bash: exec sleep 3600\n`
    const load = await send<{ errors: unknown[] }>(peers[0]!, { type: 'templates.load', files: { '/b/k.yaml': yaml }, paths: ['/b/k.yaml'] })
    if (load.errors.length) throw new Error(`setup failed: ${JSON.stringify(load.errors)}`)
    await send(peers[0]!, { type: 'workload.scale', path, replicas: n })
    const running = await until('every replica running', async () => {
      const ps = (await send<PsRow[]>(peers[0]!, { type: 'workload.ps' })).filter(r => r.instance.startsWith(`${path}#`))
      return ps.length === n && ps.every(r => r.status === 'running') ? ps : undefined
    }, 120_000, 100)
    const lost = running.find(r => r.peerName !== 'p0') ?? running[0]!
    const victim = peers.find(p => p.name === lost.peerName)!
    const watcher = peers.find(p => p !== victim)!
    if (fault === 'kill') victim.child.kill('SIGKILL')
    else thaw = await silence(victim, lost.peer, runtime)
    const t0 = performance.now()
    while (performance.now() - t0 < 60_000) {
      const r = (await send<PsRow[]>(watcher, { type: 'workload.ps' })).find(x => x.instance === lost.instance)
      if (r?.status === 'running' && r.peer !== lost.peer) {
        const ms = performance.now() - t0
        console.log(`  ${runtime} N=${n} ${fault} scaled trial ${t}: ${lost.instance} ran again on ${r.peerName} after ${ms.toFixed(0)} ms`)
        return ms
      }
      await new Promise(res => setTimeout(res, 10))
    }
    throw new Error(`${lost.instance} did not run again within 60 s`)
  } finally {
    await thaw?.()
    for (const p of peers) p.child.kill('SIGKILL')
    if (runtime === 'docker') {
      const rt = await DockerRuntime.open({})
      for (let i = 0; i < n; i++) for (const c of await rt.list({ [LABEL_INSTANCE]: `${path}#${i}` })) await rt.remove(c.id, { force: true }).catch(() => {})
      await rt.close()
    } else {
      try { execFileSync('pkill', ['-KILL', '-f', `${base}/`]) } catch { /* none left */ }
    }
    rmSync(base, { recursive: true, force: true })
  }
}

async function trial (runtime: 'process' | 'docker', fault: Fault, n: number, t: number): Promise<number[]> {
  const base = mkdtempSync(join(tmpdir(), `monk-bench-fo-`))
  const ns = `bench-${runtime}-${fault}-${n}-${t}-${process.pid}`
  const peers: MonkdProcess[] = []
  let thaw: (() => Promise<void>) | undefined
  try {
    // in waves of 5: 50 daemons starting at once on 2 cores would time each other out
    await startCluster(runtime, n, base, peers)
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
    if (fault === 'kill') victim.child.kill('SIGKILL')
    else thaw = await silence(victim, victimId, runtime)
    const t0 = performance.now()
    while (moved.size < victimInstances.length && performance.now() - t0 < 60_000) {
      const ps = await send<PsRow[]>(watcher, { type: 'workload.ps' })
      const now = performance.now() - t0
      for (const r of ps) if (victimInstances.includes(r.instance) && !moved.has(r.instance) && r.status === 'running' && r.peer !== victimId) moved.set(r.instance, now)
      await new Promise(res => setTimeout(res, 10))
    }
    if (moved.size < victimInstances.length) throw new Error(`only ${moved.size}/${victimInstances.length} instances moved within 60 s`)
    console.log(`  ${runtime} N=${n} ${fault} trial ${t}: ${fault === 'kill' ? 'killed' : 'froze'} ${victimName} with ${victimInstances.length} instances; all moved in ${Math.max(...moved.values()).toFixed(0)} ms`)
    return [...moved.values()]
  } finally {
    await thaw?.()
    for (const p of peers) p.child.kill('SIGKILL')
    if (runtime === 'docker') {
      const rt = await DockerRuntime.open({})
      for (let i = 0; i < K; i++) for (const c of await rt.list({ [LABEL_INSTANCE]: `${ns}/w${i}` })) await rt.remove(c.id, { force: true }).catch(() => {})
      await rt.close()
    } else {
      // process-runtime workloads outlive their daemon: kill them by their process group
      try { execFileSync('pkill', ['-KILL', '-f', `${base}/`]) } catch { /* none left */ }
    }
    rmSync(base, { recursive: true, force: true })
  }
}

/** A free TCP port on loopback (the web server's; the process runtime shares the host's ports). */
async function freePort (): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1')
  await new Promise(resolve => srv.once('listening', resolve))
  const port = (srv.address() as { port: number }).port
  await new Promise(resolve => srv.close(resolve))
  return port
}

/** One GET through `endpoint` on a new connection: the body, or undefined when it failed. */
async function fetchOnce (endpoint: string): Promise<string | undefined> {
  const [host, port] = endpoint.split(':') as [string, string]
  return await new Promise(resolve => {
    const q = request({ host, port: Number(port), path: '/', agent: false, timeout: 1000 }, r => {
      let b = ''
      r.on('data', d => { b += String(d) })
      r.on('end', () => { resolve(r.statusCode === 200 ? b : undefined) })
      r.on('error', () => { resolve(undefined) })
    })
    q.on('timeout', () => { q.destroy(new Error('timeout')) })
    q.on('error', () => { resolve(undefined) })
    q.end()
  })
}

/**
 * The overlay's re-route (process runtime): p0 runs a client whose connection `web` has a local
 * endpoint on p0; the web server runs on another peer. SIGKILL that peer's monkd and its workload,
 * then time until a fetch through the same endpoint is answered again (by the server on a live peer).
 */
async function rerouteTrial (n: number, t: number): Promise<number> {
  const base = mkdtempSync(join(tmpdir(), 'monk-bench-for-'))
  const ns = `bench-reroute-${n}-${t}-${process.pid}`
  const peers: MonkdProcess[] = []
  try {
    await startCluster('process', n, base, peers, i => ['--tag', i === 0 ? 'client' : 'server'])
    const port = await freePort()
    writeFileSync(join(base, 'web.js'), `require('http').createServer((q, r) => r.end('pid ' + process.pid)).listen(${port}, '0.0.0.0')\n`)
    const yaml = `namespace: ${ns}
web:
  defines: runnable
  affinity: {tag: server}
  services:
    http: {protocol: tcp, port: ${port}}
  containers:
    main:
      bash: exec node ${join(base, 'web.js')}
client:
  defines: runnable
  affinity: {tag: client}
  connections:
    web: {target: ${ns}/web, service: http}
  variables:
    web: {type: string, value: '<- connection-hostname("web") ":" connection-port("web") concat-all', env: WEB}
  containers:
    main:
      bash: exec sleep 3600
`
    const load = await send<{ errors: unknown[] }>(peers[0]!, { type: 'templates.load', files: { '/b/k.yaml': yaml }, paths: ['/b/k.yaml'] })
    if (load.errors.length) throw new Error(`setup failed: ${JSON.stringify(load.errors)}`)
    await send(peers[0]!, { type: 'workload.run', path: `${ns}/web` })
    await send(peers[0]!, { type: 'workload.run', path: `${ns}/client` })
    const endpoint = await until('the client\'s connection has its endpoint', async () => {
      const d = await peers[0]!.client.request<Describe>(`runnable/${ns}/client`, { type: 'runnable.describe' })
      return d.connections?.[0]?.endpoint
    }, 120_000, 100)
    const before = await until(`a fetch through ${endpoint} is answered`, async () => await fetchOnce(endpoint), 120_000, 100)
    const web = (await send<PsRow[]>(peers[0]!, { type: 'workload.ps' })).find(r => r.instance === `${ns}/web`)
    const victim = peers.find(p => p.name === web?.peerName)
    if (!web || !victim || victim === peers[0]) throw new Error(`the web server runs on ${web?.peerName ?? 'no peer'}, not on a server peer`)
    // a machine that died: its monkd and its workloads (process groups led by monkd's children)
    const groups = childrenOf(victim.child.pid!)
    victim.child.kill('SIGKILL')
    for (const g of groups) { try { process.kill(-g, 'SIGKILL') } catch { /* gone */ } }
    const t0 = performance.now()
    while (performance.now() - t0 < 60_000) {
      const body = await fetchOnce(endpoint)
      if (body !== undefined && body !== before) {
        const ms = performance.now() - t0
        const now = (await send<PsRow[]>(peers[0]!, { type: 'workload.ps' })).find(r => r.instance === `${ns}/web`)
        console.log(`  process N=${n} kill re-route trial ${t}: killed ${victim.name}; a fetch through ${endpoint} was answered by ${now?.peerName ?? '?'} after ${ms.toFixed(0)} ms`)
        return ms
      }
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    throw new Error(`no fetch through ${endpoint} was answered within 60 s of the kill`)
  } finally {
    for (const p of peers) p.child.kill('SIGKILL')
    try { execFileSync('pkill', ['-KILL', '-f', `${base}/`]) } catch { /* none left */ }
    rmSync(base, { recursive: true, force: true })
  }
}

const rows: Array<Record<string, unknown>> = []
for (const fault of faults) {
  for (const runtime of runtimes) {
    for (const n of sizes) {
      const times: number[] = []
      for (let t = 0; t < trials; t++) times.push(...await trial(runtime, fault, n, t))
      rows.push({ runtime, fault, peers: n, workload: 'instances', instances: K, failover_ms_p50: Math.round(pct(times, 0.5) ?? NaN), failover_ms_p99: Math.round(pct(times, 0.99) ?? NaN), samples: times.length })
      if (process.argv.includes('--no-scaled')) continue
      // a scaled runnable: N replicas, one per peer; the time until the lost replica runs again
      const scaled: number[] = []
      for (let t = 0; t < trials; t++) scaled.push(await scaledTrial(runtime, fault, n, t))
      rows.push({ runtime, fault, peers: n, workload: `scaled x${n}`, instances: n, failover_ms_p50: Math.round(pct(scaled, 0.5) ?? NaN), failover_ms_p99: Math.round(pct(scaled, 0.99) ?? NaN), samples: scaled.length })
    }
    if (fault !== 'kill' || runtime !== 'process' || process.argv.includes('--no-reroute')) continue
    // the overlay: a consumer's next fetch through the same endpoint after the server's peer died
    for (const n of sizes) {
      const rerouted: number[] = []
      for (let t = 0; t < trials; t++) rerouted.push(await rerouteTrial(n, t))
      rows.push({ runtime, fault, peers: n, workload: 'connection re-route', instances: 1, failover_ms_p50: Math.round(pct(rerouted, 0.5) ?? NaN), failover_ms_p99: Math.round(pct(rerouted, 0.99) ?? NaN), samples: rerouted.length })
    }
  }
}
console.table(rows)
const target = rows.find(r => r.runtime === 'process' && r.fault === 'kill' && r.peers === 5 && r.workload === 'instances')
if (target) console.log(`target: process runtime, N=5: p50 ${String(target.failover_ms_p50)} ms (<= 3000 ms) ${Number(target.failover_ms_p50) <= 3000 ? 'OK' : 'MISSED'}`)
mkdirSync(join(root, 'benchmarks/results'), { recursive: true })
// --append keeps the rows of earlier runs (e.g. 50 peers × 20 instances beside 3–10 peers × 10)
const resultFile = join(root, 'benchmarks/results/failover.json')
const earlier: unknown[] = process.argv.includes('--append') ? (() => { try { const old: unknown = JSON.parse(readFileSync(resultFile, 'utf8')); return Array.isArray(old) ? old : [] } catch { return [] } })() : []
writeFileSync(resultFile, JSON.stringify([...earlier, ...rows], null, 2) + '\n')
