// Monk Hub: how long from `hub add` of a source holding the whole corpus until every peer resolves
// every kit, what the hub adds to the replica, and how long one changed kit takes to reach every
// peer after the fetch. N monkd processes (built, dist/), one git repository made from
// ../shared/corpus at run time, served by `git daemon` on 127.0.0.1.
//
//   npm run bench -- hub [--peers 3] [--trials 1] [--append] [--no-build]
//
// first_sync_ms: `hub.add` sent to one peer → every peer's `templates.list` holds as many hub
//   templates as the source's status counts (the fetch, compile and writes are inside).
// replica_bytes: the hub's template records in one peer's replica (keys + JSON values).
// update_ms: one kit changed and committed, `hub.sync` sent; time from the sync's reply (fetched,
//   compiled, written on the fetcher) until every peer resolves the new value; sync_ms is the
//   whole `hub.sync` round trip.
// Targets at 3 peers: first sync <= 10 s, one changed kit everywhere <= 2 s after the fetch.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createClient, type ApiClient } from '../cli/api/client.js'
import type { HubRow, TemplateInfo, TemplateRow } from '../cli/api/messages.js'
import { commitAll, corpusRepo, haveCorpus, serveGit } from '../test/helpers/hub-git.js'
import { peerNodeFlags } from '../test/helpers/mesh-procs.js'
import { until } from '../test/helpers/monkd.js'

const root = resolve(import.meta.dirname, '..')
const arg = (name: string, d: string): string => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] ?? d : d }
const sizes = arg('peers', '3').split(',').map(Number)
const trials = Number(arg('trials', '1'))
if (!haveCorpus) { console.error('benchmarks/hub: ../shared/corpus is absent'); process.exit(2) }
if (!process.argv.includes('--no-build')) {
  console.log('building dist/ (npm run build; skip with --no-build)')
  if (spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed')
}

interface Monkd { name: string, child: ChildProcess, client: ApiClient, output: () => string }

async function spawnMonkd (name: string, home: string, args: string[]): Promise<Monkd> {
  const child = spawn(process.execPath, [...peerNodeFlags, join(root, 'dist/cli/monkd.js'), '--home', home, '--name', name, '--listen', '/ip4/127.0.0.1/tcp/0', '--runtime', 'process', '--no-hub-defaults', '--template-autoupdate', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', d => { out = (out + String(d)).slice(-20_000) })
  child.stderr?.on('data', d => { out = (out + String(d)).slice(-20_000) })
  const client = createClient({ socketPath: join(home, 'monkd.sock'), timeoutMs: 180_000 })
  await until(`monkd ${name} to answer`, async () => {
    if (child.exitCode !== null) throw new Error(`monkd ${name} exited with ${child.exitCode}: ${out}`)
    return await client.ping().then(() => true, () => false)
  }, 120_000, 200)
  return { name, child, client, output: () => out }
}

function yamlFiles (dir: string): number {
  let n = 0
  for (const name of readdirSync(dir)) {
    if (name === '.git') continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) n += yamlFiles(p)
    else if (/\.ya?ml$/i.test(name)) n++
  }
  return n
}

interface Row { peers: number, kits: number, files: number, templates: number, first_sync_ms: number, replica_bytes: number, update_ms: number, sync_ms: number, trial: number, at: string }

async function once (n: number, trial: number): Promise<Row> {
  const base = mkdtempSync(join(tmpdir(), 'monk-bench-hub-'))
  const repo = join(base, 'git', 'corpus')
  const peers: Monkd[] = []
  const server = await (async () => { corpusRepo(repo); return await serveGit(join(base, 'git')) })()
  try {
    peers.push(await spawnMonkd('p0', join(base, 'p0'), []))
    const { token } = await peers[0]!.client.request<{ token: string }>('peer', { type: 'cluster.token' })
    for (let i = 1; i < n; i++) peers.push(await spawnMonkd(`p${i}`, join(base, `p${i}`), ['--join', token]))
    await until(`${n} peers alive everywhere`, async () => {
      for (const p of peers) if ((await p.client.request<Array<{ alive: boolean }>>('peer', { type: 'cluster.peers' })).filter(x => x.alive).length !== n) return false
      return true
    }, 120_000, 200)

    const t0 = Date.now()
    const added = await peers[0]!.client.request<HubRow>('peer', { type: 'hub.add', name: 'corpus', url: server.url('corpus') })
    if (added.error !== null) throw new Error(`hub add failed: ${added.error}`)
    const everywhere = async (ok: (p: Monkd) => Promise<boolean>): Promise<void> => {
      await until('every peer', async () => { for (const p of peers) if (!await ok(p)) return false; return true }, 120_000, 100)
    }
    await everywhere(async p => (await p.client.request<TemplateRow[]>('peer', { type: 'templates.list' })).filter(r => r.repo === 'corpus').length === added.templates)
    const firstSync = Date.now() - t0
    const row = (await peers[n - 1]!.client.request<HubRow[]>('peer', { type: 'hub.ls' }))[0]!

    // one changed kit: memcached's image variable, same line
    const f = join(repo, 'monk-memcached', 'memcached.yaml')
    const value = `"1.6.${trial + 30}"`
    writeFileSync(f, readFileSync(f, 'utf8').replace(/(memcached-image:\n\s+value: )\S+/, `$1${value}`))
    commitAll(repo, `memcached ${value}`)
    const s0 = Date.now()
    const synced = await peers[0]!.client.request<HubRow[]>('peer', { type: 'hub.sync', name: 'corpus' })
    const fetched = Date.now()
    if (synced[0]?.error) throw new Error(`hub sync failed: ${synced[0].error}`)
    const want = value.replace(/"/g, '')
    await everywhere(async p => {
      const info = await p.client.request<TemplateInfo>('peer', { type: 'templates.info', path: 'memcached/memcached' })
      return JSON.stringify(info.value).includes(`"value":"${want}"`)
    })
    const done = Date.now()
    return { peers: n, kits: row.kits, files: yamlFiles(repo), templates: row.templates, first_sync_ms: firstSync, replica_bytes: row.bytes, update_ms: done - fetched, sync_ms: done - s0, trial, at: new Date().toISOString() }
  } finally {
    for (const p of peers) p.child.kill('SIGKILL')
    server.stop()
    rmSync(base, { recursive: true, force: true })
  }
}

const rows: Row[] = []
for (const n of sizes) {
  for (let t = 0; t < trials; t++) {
    const r = await once(n, t)
    console.log(JSON.stringify(r))
    rows.push(r)
  }
}
mkdirSync(join(root, 'benchmarks/results'), { recursive: true })
const resultFile = join(root, 'benchmarks/results/hub.json')
let earlier: Row[] = []
if (process.argv.includes('--append')) { try { earlier = JSON.parse(readFileSync(resultFile, 'utf8')) as Row[] } catch { /* none yet */ } }
writeFileSync(resultFile, JSON.stringify([...earlier, ...rows], null, 2) + '\n')
console.log(`wrote ${resultFile}`)
process.exit(0)
