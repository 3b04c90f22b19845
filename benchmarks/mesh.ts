// How fast does the mesh spread a write and detect a dead peer, at what idle cost, against
// HashiCorp Serf on the same host? Peers are separate processes on 127.0.0.1 for both systems.
//
//   npm run bench -- mesh [--peers 3,10,25] [--writes 200] [--kills 10] [--sigstops 3]
//                         [--idle-secs 15] [--no-serf] [--serf-profile lan]
//
// monk: write-to-visible-everywhere = last remote apply (onChange in each peer) − local apply in
// the writer; detection = last `down` event in the survivors − the SIGKILL. Serf: user event
// propagation = last "Received event" log line of the others − the origin's own line (both seen by
// this process on the agents' stdout); detection = last EventMemberFailed − the SIGKILL. Idle
// bytes sent per peer per second while nothing happens, as application payload: monk (TCP only)
// from the kernel's per-socket bytes_sent (`ss -tinp`); Serf from its own memberlist counters
// (memberlist.udp.sent + memberlist.tcp.sent, collected over statsd), because /proc wchar misses
// sendto(2) and ss has no UDP byte counts. RSS from /proc/<pid>/status.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import type { PeerEvent } from '../test/helpers/mesh-peer.js'
import { procRssMb, startProcCluster, tcpBytesDelta, tcpBytesSent, waitAllAlive } from '../test/helpers/mesh-procs.js'

interface Row {
  system: 'monk' | 'serf'
  peers: number
  propagation_ms_p50: number | null
  propagation_ms_p99: number | null
  detection_ms_p50: number | null
  detection_ms_p99: number | null
  rss_mb: number | null
  idle_bytes_per_s: number | null
}

function option (name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const sizes = option('peers', '3,10,25').split(',').map(Number)
const writes = Number(option('writes', '200'))
const kills = Number(option('kills', '10'))
const sigstops = Number(option('sigstops', '3'))
const idleSecs = Number(option('idle-secs', '15'))
const serfProfile = option('serf-profile', 'lan')
const withSerf = !process.argv.includes('--no-serf')

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
function quantile (xs: number[], q: number): number | null {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
}
const round = (x: number | null, d = 1): number | null => x === null ? null : Math.round(x * 10 ** d) / 10 ** d
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length

// ---------------------------------------------------------------- monk

async function monk (n: number): Promise<{ row: Row; sigstop: number[] }> {
  console.log(`\nmonk, ${n} peers: starting ${n} processes`)
  const c = await startProcCluster(n, { parallel: 4 })
  try {
    await waitAllAlive(c.peers, n, 60_000 + n * 2000)
    await Promise.all(c.peers.map(async p => { await p.command({ op: 'watch', prefix: 'bench/' }) }))
    await sleep(3000)

    // idle traffic and memory
    const s0 = tcpBytesSent()
    const t0 = Date.now()
    await sleep(idleSecs * 1000)
    const s1 = tcpBytesSent()
    const secs = (Date.now() - t0) / 1000
    const idle = mean(c.peers.map(p => tcpBytesDelta(s0, s1, p.pid) / secs))
    const rss = mean(c.peers.map(p => p.rssMb()))
    console.log(`  idle ${Math.round(idle)} B/s per peer, RSS ${rss.toFixed(0)} MB per peer`)

    // write-to-visible-everywhere
    const latencies: number[] = []
    let missing = 0
    for (let i = 0; i < writes; i++) {
      const writer = c.peers[i % n]!
      const key = `bench/w${i}`
      const seen = c.peers.map(p => p.waitFor(e => e.ev === 'change' && e.key === key, 10_000, `change ${key}`).catch(() => undefined))
      await writer.command({ op: 'put', key, value: { i } })
      const events = await Promise.all(seen) as Array<Extract<PeerEvent, { ev: 'change' }> | undefined>
      const local = events.find(e => e?.origin === 'local')
      const remote = events.filter(e => e?.origin === 'remote')
      if (!local || remote.length !== n - 1) { missing++; continue }
      latencies.push(Math.max(...remote.map(e => e!.at)) - local.at)
      await sleep(20)
    }
    console.log(`  propagation p50 ${quantile(latencies, 0.5)} ms, p99 ${quantile(latencies, 0.99)} ms over ${latencies.length} writes (${missing} not seen everywhere within 10 s)`)

    // SIGKILL → declared dead by every survivor
    const detections: number[] = []
    for (let k = 0; k < kills; k++) {
      const i = 1 + (k % (n - 1))
      const victim = c.peers[i]!
      const survivors = c.peers.filter(p => p !== victim)
      const started = Date.now()
      victim.kill('SIGKILL')
      const downs = await Promise.all(survivors.map(p => p.waitFor(e => e.ev === 'down' && e.peer === victim.peerId && e.at >= started, 30_000, 'down').catch(() => undefined)))
      if (downs.every(d => d)) detections.push(Math.max(...downs.map(d => (d as Extract<PeerEvent, { ev: 'down' }>).at)) - started)
      else console.log(`  kill ${k}: not declared dead everywhere within 30 s`)
      await c.restart(i)
      await waitAllAlive(c.peers, n, 60_000)
    }
    console.log(`  SIGKILL detection p50 ${quantile(detections, 0.5)} ms, p99 ${quantile(detections, 0.99)} ms over ${detections.length} kills`)

    // SIGSTOP (silent peer, connection left open): the φ path, for information
    const stops: number[] = []
    for (let k = 0; k < sigstops; k++) {
      const victim = c.peers[1 + (k % (n - 1))]!
      const survivors = c.peers.filter(p => p !== victim)
      const started = Date.now()
      victim.kill('SIGSTOP')
      const downs = await Promise.all(survivors.map(p => p.waitFor(e => e.ev === 'down' && e.peer === victim.peerId && e.at >= started, 30_000, 'down').catch(() => undefined)))
      victim.kill('SIGCONT')
      if (downs.every(d => d)) stops.push(Math.max(...downs.map(d => (d as Extract<PeerEvent, { ev: 'down' }>).at)) - started)
      await waitAllAlive(c.peers, n, 60_000)
    }
    if (sigstops) console.log(`  SIGSTOP detection (φ) p50 ${quantile(stops, 0.5)} ms over ${stops.length}`)

    return {
      row: {
        system: 'monk',
        peers: n,
        propagation_ms_p50: round(quantile(latencies, 0.5)),
        propagation_ms_p99: round(quantile(latencies, 0.99)),
        detection_ms_p50: round(quantile(detections, 0.5)),
        detection_ms_p99: round(quantile(detections, 0.99)),
        rss_mb: round(rss),
        idle_bytes_per_s: round(idle, 0),
      },
      sigstop: stops,
    }
  } finally {
    await c.close()
  }
}

// ---------------------------------------------------------------- serf

const usedPorts = new Set<number>()
async function freePort (): Promise<number> {
  for (;;) {
    const port = await anyPort()
    if (!usedPorts.has(port)) { usedPorts.add(port); return port }
  }
}
async function anyPort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** Minimal statsd listener: sums counter values per metric name with their arrival time. */
class Statsd {
  readonly samples: Array<{ at: number; name: string; value: number }> = []
  private readonly socket = createSocket('udp4')
  port = 0
  async start (): Promise<void> {
    this.socket.on('message', m => {
      const at = Date.now()
      for (const line of String(m).split('\n')) {
        const x = /^([^:]+):([0-9.]+)\|c/.exec(line)
        if (x) this.samples.push({ at, name: x[1]!, value: Number(x[2]) })
      }
    })
    await new Promise<void>(resolve => this.socket.bind(0, '127.0.0.1', resolve))
    this.port = this.socket.address().port
  }

  sum (suffix: string, from: number, to: number): number {
    return this.samples.filter(s => s.at >= from && s.at < to && s.name.endsWith(suffix)).reduce((n, s) => n + s.value, 0)
  }

  stop (): void { this.socket.close() }
}

interface SerfLine { at: number; text: string }

class SerfAgent {
  child!: ChildProcess
  readonly lines: SerfLine[] = []
  private readonly listeners = new Set<(l: SerfLine) => void>()
  constructor (readonly name: string, readonly port: number, readonly rpc: number, readonly configFile: string) {}

  start (join: number | undefined): void {
    const args = ['agent', `-node=${this.name}`, `-bind=127.0.0.1:${this.port}`, `-rpc-addr=127.0.0.1:${this.rpc}`, `-profile=${serfProfile}`, '-log-level=info', `-config-file=${this.configFile}`]
    if (join !== undefined) args.push(`-join=127.0.0.1:${join}`)
    this.child = spawn('serf', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let buf = ''
    const onData = (d: Buffer): void => {
      const at = Date.now()
      buf += String(d)
      let nl
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = { at, text: buf.slice(0, nl) }
        buf = buf.slice(nl + 1)
        this.lines.push(line)
        for (const l of this.listeners) l(line)
      }
    }
    this.child.stdout!.on('data', onData)
    this.child.stderr!.on('data', onData)
  }

  waitLine (pred: (text: string) => boolean, since: number, timeoutMs: number): Promise<SerfLine | undefined> {
    const past = this.lines.find(l => l.at >= since && pred(l.text))
    if (past) return Promise.resolve(past)
    return new Promise(resolve => {
      const timer = setTimeout(() => { this.listeners.delete(fn); resolve(undefined) }, timeoutMs)
      const fn = (l: SerfLine): void => { if (l.at >= since && pred(l.text)) { clearTimeout(timer); this.listeners.delete(fn); resolve(l) } }
      this.listeners.add(fn)
    })
  }

  async aliveMembers (): Promise<number> {
    return await new Promise(resolve => {
      execFile('serf', ['members', `-rpc-addr=127.0.0.1:${this.rpc}`, '-status=alive'], { encoding: 'utf8' }, (err, stdout) => {
        resolve(err ? -1 : stdout.trim().split('\n').filter(Boolean).length)
      })
    })
  }

  async stop (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise(resolve => this.child.once('exit', resolve))
    this.child.kill('SIGKILL')
    await exited
  }
}

async function waitSerfAlive (agents: SerfAgent[], n: number, timeoutMs: number): Promise<void> {
  const start = Date.now()
  for (;;) {
    const counts = await Promise.all(agents.map(async a => await a.aliveMembers()))
    if (counts.every(c => c === n)) return
    if (Date.now() - start > timeoutMs) throw new Error(`serf: not every agent sees ${n} alive members after ${timeoutMs} ms (${counts.join(',')})`)
    await sleep(500)
  }
}

async function serf (n: number): Promise<Row> {
  console.log(`\nserf (${serfProfile} profile), ${n} agents`)
  const statsd = new Statsd()
  await statsd.start()
  const dir = mkdtempSync(join(tmpdir(), 'monk-serf-'))
  const configFile = join(dir, 'serf.json')
  // the agents report memberlist's own byte counters here (flushed every 100 ms)
  writeFileSync(configFile, JSON.stringify({ statsd_addr: `127.0.0.1:${statsd.port}` }))
  const agents: SerfAgent[] = []
  for (let i = 0; i < n; i++) agents.push(new SerfAgent(`s${i}`, await freePort(), await freePort(), configFile))
  try {
    agents[0]!.start(undefined)
    await agents[0]!.waitLine(t => t.includes('Serf agent running'), 0, 10_000)
    for (const a of agents.slice(1)) a.start(agents[0]!.port)
    await waitSerfAlive(agents, n, 120_000)
    await sleep(3000)

    const t0 = Date.now()
    await sleep(idleSecs * 1000)
    const t1 = Date.now()
    await sleep(300) // let the last counters flush
    const secs = (t1 - t0) / 1000
    const idle = (statsd.sum('memberlist.udp.sent', t0, t1) + statsd.sum('memberlist.tcp.sent', t0, t1)) / n / secs
    const rss = mean(agents.map(a => procRssMb(a.child.pid!)))
    console.log(`  idle ${Math.round(idle)} B/s per agent, RSS ${rss.toFixed(0)} MB per agent`)

    const latencies: number[] = []
    let missing = 0
    for (let i = 0; i < writes; i++) {
      const origin = agents[i % n]!
      const name = `bench-${i}`
      const since = Date.now()
      const pattern = (t: string): boolean => t.includes(`Received event: user-event: ${name}`) && t.endsWith(name)
      const seen = agents.map(a => a.waitLine(pattern, since, 10_000))
      const r = spawnSync('serf', ['event', `-rpc-addr=127.0.0.1:${origin.rpc}`, '-coalesce=false', name], { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`serf event failed: ${r.stderr}`)
      const lines = await Promise.all(seen)
      const own = lines[i % n]
      const others = lines.filter((_, j) => j !== i % n)
      if (!own || others.some(l => !l)) { missing++; continue }
      latencies.push(Math.max(...others.map(l => l!.at)) - own.at)
      await sleep(20)
    }
    console.log(`  propagation p50 ${quantile(latencies, 0.5)} ms, p99 ${quantile(latencies, 0.99)} ms over ${latencies.length} events (${missing} not seen everywhere within 10 s)`)

    const detections: number[] = []
    for (let k = 0; k < kills; k++) {
      const i = 1 + (k % (n - 1))
      const victim = agents[i]!
      const survivors = agents.filter(a => a !== victim)
      const started = Date.now()
      await victim.stop()
      const failed = await Promise.all(survivors.map(a => a.waitLine(t => t.includes(`EventMemberFailed: ${victim.name} `), started, 60_000)))
      if (failed.every(l => l)) detections.push(Math.max(...failed.map(l => l!.at)) - started)
      else console.log(`  kill ${k}: not declared failed everywhere within 60 s`)
      victim.lines.length = 0
      victim.start(agents[i === 0 ? 1 : 0]!.port)
      await waitSerfAlive(agents, n, 120_000)
    }
    console.log(`  SIGKILL detection p50 ${quantile(detections, 0.5)} ms, p99 ${quantile(detections, 0.99)} ms over ${detections.length} kills`)
    return {
      system: 'serf',
      peers: n,
      propagation_ms_p50: round(quantile(latencies, 0.5)),
      propagation_ms_p99: round(quantile(latencies, 0.99)),
      detection_ms_p50: round(quantile(detections, 0.5)),
      detection_ms_p99: round(quantile(detections, 0.99)),
      rss_mb: round(rss),
      idle_bytes_per_s: round(idle, 0),
    }
  } finally {
    await Promise.all(agents.map(async a => { if (a.child) await a.stop() }))
    statsd.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------- main

function serfAvailable (): boolean {
  return spawnSync('serf', ['version'], { encoding: 'utf8' }).status === 0
}

const rows: Row[] = []
const notes: string[] = []
const useSerf = withSerf && serfAvailable()
if (withSerf && !useSerf) notes.push('serf not found on PATH: serf rows skipped (apt-get install serf)')
const dir = resolve(import.meta.dirname, 'results')
mkdirSync(dir, { recursive: true })
const save = (): void => { writeFileSync(join(dir, 'mesh.json'), JSON.stringify(rows, null, 2) + '\n') }
const failedRow = (system: Row['system'], n: number): Row => ({ system, peers: n, propagation_ms_p50: null, propagation_ms_p99: null, detection_ms_p50: null, detection_ms_p99: null, rss_mb: null, idle_bytes_per_s: null })
for (const n of sizes) {
  try {
    const m = await monk(n)
    rows.push(m.row)
    if (m.sigstop.length) notes.push(`monk ${n} peers: SIGSTOP (silent peer, φ path) detected everywhere after p50 ${quantile(m.sigstop, 0.5)} ms, max ${Math.max(...m.sigstop)} ms`)
  } catch (err) {
    notes.push(`monk ${n} peers FAILED: ${(err as Error).message}`)
    rows.push(failedRow('monk', n))
  }
  save()
  if (!useSerf) continue
  try {
    rows.push(await serf(n))
  } catch (err) {
    notes.push(`serf ${n} agents FAILED: ${(err as Error).message}`)
    rows.push(failedRow('serf', n))
  }
  save()
}

const cell = (v: number | string | null): string => String(v ?? '—')
const header = ['system', 'peers', 'prop p50 ms', 'prop p99 ms', 'detect p50 ms', 'detect p99 ms', 'RSS MB', 'idle B/s']
const table = rows.map(r => [r.system, r.peers, r.propagation_ms_p50, r.propagation_ms_p99, r.detection_ms_p50, r.detection_ms_p99, r.rss_mb, r.idle_bytes_per_s].map(cell))
const widths = header.map((h, i) => Math.max(h.length, ...table.map(t => t[i]!.length)))
console.log('\n' + header.map((h, i) => h.padStart(widths[i]!)).join('  '))
for (const t of table) console.log(t.map((c, i) => c.padStart(widths[i]!)).join('  '))
for (const n of notes) console.log(`note: ${n}`)
console.log(`(${writes} writes/events and ${kills} SIGKILLs per size; idle over ${idleSecs} s; serf profile ${serfProfile}; monk peers run under tsx)`)

save()
console.log(`wrote ${join(dir, 'mesh.json')}`)
