// Does SWIM membership declare anyone dead who is not? Long runs of real peer processes on this host.
//
//   npm run bench -- soak --peers 50 --minutes 10              idle: no peer may be declared dead
//   npm run bench -- soak --peers 20 --minutes 5 --pause       two peers SIGSTOPped for --pause-ms
//        [--pause-ms 1000] [--every-ms 10000] [--paused 2]     every --every-ms (staggered): only
//        [--long-every 0] [--long-pause-ms 3000]               they may be declared dead, and only
//        [--no-build] [--tsx]                                  for a pause longer than the bound
//
// The bound is swimProbeIntervalMs + swimSuspicionMinMs (defaults.ts; 1.5 s up to 100 peers): a
// peer silent for less is never declared dead. With --long-every N, every Nth pause lasts
// --long-pause-ms instead (above the bound), to show those are declared dead and come back.
// Peers run from dist/ (built first unless --no-build; --tsx runs the sources). Writes
// benchmarks/results/soak.json (one row per run, appended).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defaults } from '../mesh/defaults.js'
import { startProcCluster, waitAllAlive } from '../test/helpers/mesh-procs.js'

function option (name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const pauseMode = process.argv.includes('--pause')
const peers = Number(option('peers', pauseMode ? '20' : '50'))
const minutes = Number(option('minutes', pauseMode ? '5' : '10'))
const pauseMs = Number(option('pause-ms', '1000'))
const everyMs = Number(option('every-ms', '10000'))
const pausedCount = Number(option('paused', '2'))
const longEvery = Number(option('long-every', '0'))
const longPauseMs = Number(option('long-pause-ms', '3000'))
const dist = !process.argv.includes('--tsx')
const bound = defaults.swimProbeIntervalMs + defaults.swimSuspicionMinMs
for (const [name, v] of [['peers', peers], ['minutes', minutes], ['pause-ms', pauseMs], ['every-ms', everyMs], ['paused', pausedCount]] as const) {
  if (!Number.isFinite(v) || v <= 0) { console.error(`--${name}: ${v} is not a positive number`); process.exit(2) }
}
if (pauseMode && pausedCount >= peers) { console.error(`--paused ${pausedCount} must be fewer than --peers ${peers}`); process.exit(2) }

const root = resolve(import.meta.dirname, '..')
if (dist && !process.argv.includes('--no-build')) {
  console.log('building dist/ (npm run build; skip with --no-build)')
  const b = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
  if (b.status !== 0) throw new Error('npm run build failed')
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

interface Pause { peer: string; from: number; to: number | undefined }
interface Death { observer: string; peer: string; reason: string; at: number }

console.log(`soak: ${peers} peers for ${minutes} min${pauseMode ? `, ${pausedCount} paused for ${pauseMs} ms every ${everyMs} ms${longEvery ? ` (every ${longEvery}th for ${longPauseMs} ms)` : ''}` : ', idle'}; bound ${bound} ms`)
const progress = (m: string): void => { process.stderr.write(`  ${new Date().toISOString().slice(11, 19)} ${m}\n`) }
const c = await startProcCluster(peers, { parallel: peers > 20 ? 2 : 4, dist, readyTimeoutMs: 60_000 + peers * 1000, settleCpu: true, log: progress })
const pauses: Pause[] = []
const deaths: Death[] = []
let stopped = false
try {
  await waitAllAlive(c.peers, peers, 60_000 + peers * 2000, 1000, progress)
  console.log('all peers see each other alive; soaking')
  const start = Date.now()
  for (const p of c.peers) p.on(e => { if (e.ev === 'down' && e.reason !== 'left') deaths.push({ observer: p.peerId, peer: e.peer, reason: e.reason, at: e.at }) })
  const paused = pauseMode ? c.peers.slice(1, 1 + pausedCount) : []
  // each paused peer runs its own cycle, staggered across the period
  const cycles = paused.map(async (p, i) => {
    await sleep(Math.floor(everyMs * (i + 1) / (paused.length + 1)))
    for (let n = 1; !stopped; n++) {
      const ms = longEvery > 0 && n % longEvery === 0 ? longPauseMs : pauseMs
      const rec: Pause = { peer: p.peerId, from: Date.now(), to: undefined }
      pauses.push(rec)
      p.kill('SIGSTOP')
      await sleep(ms)
      p.kill('SIGCONT')
      rec.to = Date.now()
      await sleep(Math.max(0, everyMs - ms))
    }
  })
  let lastReport = start
  while (Date.now() - start < minutes * 60_000) {
    await sleep(1000)
    if (c.peers.some(p => p.exited)) throw new Error('a peer process died during the soak')
    if (Date.now() - lastReport >= 60_000) {
      lastReport = Date.now()
      console.log(`  +${Math.round((Date.now() - start) / 60_000)} min: ${deaths.length} deaths declared so far, ${pauses.length} pauses`)
    }
  }
  stopped = true
  await Promise.all(cycles)
  for (const p of c.peers) p.kill('SIGCONT')

  const pausedIds = new Set(paused.map(p => p.peerId))
  const others = deaths.filter(d => !pausedIds.has(d.peer))
  // a death of a paused peer is within the rules only if it belongs to a pause longer than the bound:
  // one that began before the verdict and ended at most `slack` before it (an observer that was
  // itself paused, the other victim, reads its timers late and reports late)
  const slack = Math.max(pauseMs, longEvery > 0 ? longPauseMs : 0) + 2000
  const long = (p: Pause): boolean => (p.to ?? Date.now()) - p.from > bound
  const causeOf = (d: Death): Pause | undefined => pauses.find(p => p.peer === d.peer && long(p) && p.from <= d.at && (p.to === undefined || d.at <= p.to + slack))
  const early = deaths.filter(d => pausedIds.has(d.peer) && causeOf(d) === undefined)
  const longDeclared = new Set(deaths.filter(d => pausedIds.has(d.peer)).map(causeOf).filter(p => p !== undefined))
  const longPauses = pauses.filter(p => p.to !== undefined && p.to - p.from > bound)
  const row = {
    at: new Date().toISOString(),
    mode: pauseMode ? 'pause' : 'idle',
    peers,
    minutes,
    bound_ms: bound,
    pause_ms: pauseMode ? pauseMs : null,
    pauses: pauses.length,
    long_pauses: longPauses.length,
    long_pauses_declared_dead: longDeclared.size,
    deaths_total: deaths.length,
    false_deaths_of_others: others.length,
    deaths_of_paused_within_bound: early.length,
    runtime: dist ? 'dist' : 'tsx',
  }
  console.log(JSON.stringify(row, null, 2))
  for (const d of [...others, ...early].slice(0, 20)) console.log(`  FALSE: ${d.observer.slice(-6)} declared ${d.peer.slice(-6)} ${d.reason} at +${d.at - start} ms`)
  const out = resolve(import.meta.dirname, 'results')
  mkdirSync(out, { recursive: true })
  const file = join(out, 'soak.json')
  const rows = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { rows: unknown[] }).rows : []
  writeFileSync(file, JSON.stringify({ rows: [...rows, row] }, null, 2) + '\n')
  console.log(`wrote ${file}`)
  if (others.length > 0 || early.length > 0) process.exitCode = 1
} finally {
  stopped = true
  for (const p of c.peers) p.kill('SIGCONT')
  await c.close()
}
