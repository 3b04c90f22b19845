// How fast does the mesh spread a write and detect a dead peer, at what idle cost, against
// HashiCorp Serf on the same host? Peers are separate processes on 127.0.0.1 for both systems.
//
//   npm run bench -- mesh [--peers 3,10,25] [--writes 200] [--kills 10] [--sigstops 3]
//                         [--idle-secs 30] [--no-serf] [--serf-profile lan] [--no-build]
//                         [--profile DIR]   (CPU profile of p1 over the idle window, summarized)
//
// monk runs from dist/ (built first unless --no-build): each peer is dist/test/helpers/mesh-peer.js
// under plain node, the mesh of a monkd without its runtime and actors. Peers start in waves of 4
// (of 2 above 20 peers), each followed by a wait for their CPU to settle. Every phase and wait is
// printed to stderr as it happens, with the laggards of a wait named.
//
// monk: write-to-visible-everywhere = last remote apply (onChange in each peer) − local apply in
// the writer; detection = last `down` event in the survivors − the SIGKILL; silent detection the
// same after a SIGSTOP, which leaves the connections open (SIGCONT afterwards). Serf: user event
// propagation = last "Received event" log line of the others − the origin's own line (both seen by
// this process on the agents' stdout); detection = last EventMemberFailed − the SIGKILL or the
// SIGSTOP. Idle bytes sent per peer per second while nothing happens, as application payload: monk
// (TCP only) from the kernel's per-socket bytes_sent (`ss -tinp`); Serf from its own memberlist
// counters (memberlist.udp.sent + memberlist.tcp.sent, collected over statsd), because /proc wchar
// misses sendto(2) and ss has no UDP byte counts. RSS from /proc/<pid>/status; idle CPU per peer
// from utime+stime in /proc/<pid>/stat over the idle window, in percent of one core; connections
// per peer = established TCP sockets of each process at the end of the idle window (`ss`).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import type { PeerEvent } from '../test/helpers/mesh-peer.js'
import { defaults } from '../mesh/defaults.js'
import { formatSummary, summarize } from './cpuprofile.js'
import { type PeerProcess, procCpuSeconds, procRssMb, settleCpu, startProcCluster, tcpBytesDelta, tcpBytesSent, tcpConnections, waitAllAlive } from '../test/helpers/mesh-procs.js'

interface Row {
  system: 'monk' | 'serf'
  peers: number
  propagation_ms_p50: number | null
  propagation_ms_p99: number | null
  detection_ms_p50: number | null
  detection_ms_p99: number | null
  rss_mb: number | null
  idle_bytes_per_s: number | null
  silent_detection_ms_p50: number | null
  idle_cpu_pct: number | null
  connections_per_peer: number | null
}

function option (name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const sizes = option('peers', '3,10,25').split(',').map(Number)
const writes = Number(option('writes', '200'))
const kills = Number(option('kills', '10'))
const sigstops = Number(option('sigstops', '3'))
const idleSecs = Number(option('idle-secs', '30'))
const serfProfile = option('serf-profile', 'lan')
const withSerf = !process.argv.includes('--no-serf')
const build = !process.argv.includes('--no-build')
const profileDir = option('profile', '')

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
function quantile (xs: number[], q: number): number | null {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
}
const round = (x: number | null, d = 1): number | null => x === null ? null : Math.round(x * 10 ** d) / 10 ** d
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
// every phase and wait goes to stderr as it happens, stamped with the time since the run started:
// a size that stalls says where (the table and notes only come at the end)
const t0run = Date.now()
const phase = (msg: string): void => { process.stderr.write(`[${((Date.now() - t0run) / 1000).toFixed(1).padStart(7)} s] ${msg}\n`) }
/** Runs one phase of a size with its start, end and failure on stderr at once. */
async function step<T> (what: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now()
  phase(`${what}...`)
  try {
    const r = await fn()
    phase(`${what}: done in ${((Date.now() - start) / 1000).toFixed(1)} s`)
    return r
  } catch (err) {
    phase(`${what}: FAILED after ${((Date.now() - start) / 1000).toFixed(1)} s: ${(err as Error).message}`)
    throw err
  }
}

// ---------------------------------------------------------------- monk

async function monk (n: number): Promise<Row> {
  console.log(`\nmonk, ${n} peers: starting ${n} processes from dist/`)
  // waves of 4 up to 20 peers; above, waves of 2, each followed by a wait for the CPU to settle
  const c = await step(`monk ${n}: start ${n} peers`, async () => await startProcCluster(n, { parallel: n > 20 ? 2 : 4, dist: true, readyTimeoutMs: 60_000 + n * 1000, settleCpu: true, log: m => phase(`  monk ${n}: ${m}`) }))
  const poll = n > 20 ? 1000 : 200
  const aliveMs = 60_000 + n * 1500
  const alive = (log: boolean): Promise<void> => waitAllAlive(c.peers, n, aliveMs, poll, log ? m => phase(`  monk ${n}: ${m}`) : undefined)
  try {
    await step(`monk ${n}: wait until every peer sees ${n} alive (bound ${aliveMs / 1000} s)`, async () => { await alive(true) })
    await step(`monk ${n}: watch bench/ on every peer`, async () => { await Promise.all(c.peers.map(async p => { await p.command({ op: 'watch', prefix: 'bench/' }) })) })
    // idleness starts when start-up is over: the joins' extra connections closed (every peer at or
    // under connMax), no suspicion raised for 5 s, the peers' CPU settled, then 5 s more for the
    // last syncs and grafts
    const settled = await step(`monk ${n}: settle (connections <= ${defaults.connMax}, no suspicion for 5 s, CPU quiet)`, async () => await settle(c.peers, 60_000 + n * 1000, m => phase(`  monk ${n}: ${m}`)))
    console.log(`  settled in ${(settled / 1000).toFixed(1)} s`)
    phase(`monk ${n}: idle window of ${idleSecs} s`)

    // idle traffic, CPU, connections and memory
    const s0 = tcpBytesSent()
    const cpu0 = c.peers.map(p => p.cpuSeconds())
    const k0 = await countersOf(c.peers)
    const t0 = Date.now()
    // the profile covers the idle window on p1 (the sampler itself costs that peer a little CPU)
    const profileFile = profileDir ? join(resolve(profileDir), `mesh-${n}-p1.cpuprofile`) : ''
    if (profileFile) mkdirSync(resolve(profileDir), { recursive: true })
    const profiled = profileFile ? c.peers[1]!.command({ op: 'profile', ms: idleSecs * 1000 - 500, file: profileFile }, idleSecs * 1000 + 30_000) : undefined
    await sleep(idleSecs * 1000)
    if (profiled) { await profiled; phase(`monk ${n}: profile of p1 in ${profileFile}\n${formatSummary(summarize(profileFile, 20))}`) }
    const s1 = tcpBytesSent()
    const cpu1 = c.peers.map(p => p.cpuSeconds())
    const secs = (Date.now() - t0) / 1000
    const k1 = await countersOf(c.peers)
    const conns = tcpConnections()
    const idle = mean(c.peers.map(p => tcpBytesDelta(s0, s1, p.pid) / secs))
    const cpu = mean(c.peers.map((_, i) => (cpu1[i]! - cpu0[i]!) / secs * 100))
    const connections = mean(c.peers.map(p => conns.get(p.pid) ?? 0))
    const rss = mean(c.peers.map(p => p.rssMb()))
    const rate = (k: string): string => (k1.reduce((a, x, i) => a + (x[k] ?? 0) - (k0[i]![k] ?? 0), 0) / n / secs).toFixed(2)
    console.log(`  idle ${Math.round(idle)} B/s, CPU ${cpu.toFixed(2)} % of a core, ${connections.toFixed(1)} connections (${mean(k1.map(x => x.connections ?? 0)).toFixed(1)} distinct peers), RSS ${rss.toFixed(0)} MB per peer`)
    phase(`monk ${n}: idle ${Math.round(idle)} B/s, CPU ${cpu.toFixed(2)} %, RSS ${rss.toFixed(0)} MB, ${connections.toFixed(1)} connections per peer`)
    console.log(`  per peer per second: ${['swimSent', 'syncCompleted', 'syncFailed', 'suspicionsRaised', 'deltasReceived'].map(k => `${k} ${rate(k)}`).join(', ')}`)
    // where SWIM traffic and dials go (kinds that stayed at 0 are left out)
    const kinds = Object.keys(k1[0] ?? {}).filter(k => (k.startsWith('swimSent') && k !== 'swimSent') || k.startsWith('dials') || k === 'swimDropped')
    console.log(`  by kind, per peer per second: ${kinds.filter(k => rate(k) !== '0.00').map(k => `${k.replace(/^swimSent/, '')} ${rate(k)}`).join(', ') || 'nothing'}`)
    // what start-up cost, until the end of settling (the storm, if any, shows here)
    const total = (k: string): string => (k0.reduce((a, x) => a + (x[k] ?? 0), 0) / n).toFixed(1)
    console.log(`  start-up to settled, per peer: ${['suspicionsRaised', 'swimSent', ...kinds].filter(k => total(k) !== '0.0').map(k => `${k} ${total(k)}`).join(', ')}`)

    // write-to-visible-everywhere
    const latencies: number[] = []
    let missing = 0
    phase(`monk ${n}: ${writes} writes, each waited until seen by all ${n} (10 s each at most)`)
    for (let i = 0; i < writes; i++) {
      if (i > 0 && i % Math.max(1, Math.floor(writes / 10)) === 0) phase(`  monk ${n}: write ${i}/${writes}, ${missing} not seen everywhere, p50 so far ${quantile(latencies, 0.5)} ms`)
      const writer = c.peers[i % n]!
      const key = `bench/w${i}`
      const seen = c.peers.map(p => p.waitFor(e => e.ev === 'change' && e.key === key, 10_000, `change ${key}`).catch(() => undefined))
      await writer.command({ op: 'put', key, value: { i } })
      const events = await Promise.all(seen) as Array<Extract<PeerEvent, { ev: 'change' }> | undefined>
      const local = events.find(e => e?.origin === 'local')
      const remote = events.filter(e => e?.origin === 'remote')
      if (!local || remote.length !== n - 1) {
        missing++
        const late = c.peers.filter((_, j) => !events[j]).map(p => p.args.name)
        phase(`  monk ${n}: write ${i} from ${writer.args.name} not seen within 10 s by ${late.length}: ${late.slice(0, 8).join(' ')}`)
        continue
      }
      latencies.push(Math.max(...remote.map(e => e!.at)) - local.at)
      // the events of this write are no longer needed: keep the searches of the next ones short
      for (const p of c.peers) p.events.length = 0
      await sleep(20)
    }
    console.log(`  propagation p50 ${quantile(latencies, 0.5)} ms, p99 ${quantile(latencies, 0.99)} ms over ${latencies.length} writes (${missing} not seen everywhere within 10 s)`)

    // a fault → declared dead by every survivor: SIGKILL (then restart) or SIGSTOP (then SIGCONT)
    const detect = async (signal: 'SIGKILL' | 'SIGSTOP', count: number): Promise<number[]> => {
      const out: number[] = []
      for (let k = 0; k < count; k++) {
        const i = 1 + (k % (n - 1))
        const victim = c.peers[i]!
        const survivors = c.peers.filter(p => p !== victim)
        const started = Date.now()
        victim.kill(signal)
        const downs = await Promise.all(survivors.map(p => p.waitFor(e => e.ev === 'down' && e.peer === victim.peerId && e.at >= started, 30_000, 'down').catch(() => undefined)))
        if (downs.every(d => d)) {
          out.push(Math.max(...downs.map(d => (d as Extract<PeerEvent, { ev: 'down' }>).at)) - started)
          phase(`  monk ${n}: ${signal} ${k + 1}/${count} of ${victim.args.name}: declared dead by all ${survivors.length} after ${out[out.length - 1]} ms`)
        } else {
          const msg = `${signal} ${k}: declared dead by ${downs.filter(d => d).length} of ${survivors.length} survivors within 30 s (not by ${survivors.filter((_, j) => !downs[j]).slice(0, 8).map(p => p.args.name).join(' ')})`
          phase(`  monk ${n}: ${msg}`)
          console.log(`  ${msg}`)
        }
        if (signal === 'SIGKILL') await c.restart(i)
        else victim.kill('SIGCONT')
        // a slow recovery costs this sample's successors some accuracy, not the whole row
        await alive(false).catch((err: Error) => { phase(`  monk ${n}: after ${signal} ${k}: ${err.message}`); console.log(`  after ${signal} ${k}: ${err.message}`) })
        for (const p of c.peers) p.events.length = 0
      }
      return out
    }
    phase(`monk ${n}: ${kills} SIGKILLs (each waited 30 s at most, then restart and wait for all alive)`)
    const detections = await detect('SIGKILL', kills)
    console.log(`  SIGKILL detection p50 ${quantile(detections, 0.5)} ms, p99 ${quantile(detections, 0.99)} ms over ${detections.length} kills`)
    phase(`monk ${n}: ${sigstops} SIGSTOPs`)
    const stops = await detect('SIGSTOP', sigstops)
    if (sigstops) console.log(`  SIGSTOP (silent) detection p50 ${quantile(stops, 0.5)} ms over ${stops.length}`)

    return {
      system: 'monk',
      peers: n,
      propagation_ms_p50: round(quantile(latencies, 0.5)),
      propagation_ms_p99: round(quantile(latencies, 0.99)),
      detection_ms_p50: round(quantile(detections, 0.5)),
      detection_ms_p99: round(quantile(detections, 0.99)),
      rss_mb: round(rss),
      idle_bytes_per_s: round(idle, 0),
      silent_detection_ms_p50: round(quantile(stops, 0.5)),
      idle_cpu_pct: round(cpu, 2),
      connections_per_peer: round(connections),
    }
  } finally {
    await c.close()
  }
}

type Counters = Record<string, number>
async function countersOf (peers: PeerProcess[]): Promise<Counters[]> {
  return await Promise.all(peers.map(async p => await p.command<Counters>({ op: 'counters' }, 30_000)))
}

/**
 * Waits until every peer holds at most connMax distinct peers, no suspicion was raised for 5 s and
 * the peers' CPU settled (then 5 s more); returns the time taken. Prints what it waits for every 5 s.
 */
async function settle (peers: PeerProcess[], timeoutMs: number, log: (m: string) => void): Promise<number> {
  const start = Date.now()
  let quietSince = Date.now()
  let last = -1
  let lastLog = start
  let settled = false
  while (Date.now() - start < timeoutMs) {
    const k = await countersOf(peers)
    const raised = k.reduce((a, x) => a + (x.suspicionsRaised ?? 0), 0)
    if (raised !== last) { last = raised; quietSince = Date.now() }
    const over = peers.filter((_, i) => (k[i]!.connections ?? 0) > defaults.connMax).map(p => p.args.name)
    if (over.length === 0 && Date.now() - quietSince >= 5000) {
      const cpu = await settleCpu(peers, Math.max(1000, timeoutMs - (Date.now() - start)))
      log(`CPU ${cpu.settled ? 'settled' : 'NOT settled'} at ${cpu.pct.toFixed(0)} % of a core for ${peers.length} peers`)
      settled = true
      break
    }
    if (Date.now() - lastLog >= 5000) {
      lastLog = Date.now()
      log(`settling: ${over.length} peers above ${defaults.connMax} connections${over.length ? ` (${over.slice(0, 8).join(' ')})` : ''}, ${raised} suspicions raised so far, last ${((Date.now() - quietSince) / 1000).toFixed(0)} s ago`)
    }
    await sleep(1000)
  }
  if (!settled) {
    log(`NOT settled within ${timeoutMs} ms: measuring anyway`)
    console.log(`  not settled within ${timeoutMs} ms: measuring anyway`)
  }
  await sleep(5000)
  return Date.now() - start
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
    // `serf members` is a process per agent: ask 10 at a time so 100 agents do not fork 100 at once
    const counts: number[] = []
    for (let i = 0; i < agents.length; i += 10) counts.push(...await Promise.all(agents.slice(i, i + 10).map(async a => await a.aliveMembers())))
    if (counts.every(c => c === n)) return
    if (Date.now() - start > timeoutMs) throw new Error(`serf: not every agent sees ${n} alive members after ${timeoutMs} ms (${counts.join(',')})`)
    await sleep(n > 20 ? 2000 : 500)
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
    // in waves of 10, like monk's waves: each joins through the first agent
    for (let i = 1; i < n; i += 10) {
      for (const a of agents.slice(i, i + 10)) a.start(agents[0]!.port)
      await Promise.all(agents.slice(i, i + 10).map(async a => await a.waitLine(t => t.includes('Serf agent running'), 0, 30_000)))
      phase(`  serf ${n}: started ${Math.min(n, i + 10)}/${n}`)
    }
    const aliveMs = 120_000 + n * 1500
    await step(`serf ${n}: wait until every agent sees ${n} alive`, async () => { await waitSerfAlive(agents, n, aliveMs) })
    phase(`serf ${n}: idle window of ${idleSecs} s`)
    await sleep(3000 + n * 70)

    const cpu0 = agents.map(a => procCpuSeconds(a.child.pid!))
    const t0 = Date.now()
    await sleep(idleSecs * 1000)
    const t1 = Date.now()
    const cpu1 = agents.map(a => procCpuSeconds(a.child.pid!))
    const conns = tcpConnections()
    await sleep(300) // let the last counters flush
    const secs = (t1 - t0) / 1000
    const idle = (statsd.sum('memberlist.udp.sent', t0, t1) + statsd.sum('memberlist.tcp.sent', t0, t1)) / n / secs
    const cpu = mean(agents.map((_, i) => (cpu1[i]! - cpu0[i]!) / secs * 100))
    const connections = mean(agents.map(a => conns.get(a.child.pid!) ?? 0))
    const rss = mean(agents.map(a => procRssMb(a.child.pid!)))
    console.log(`  idle ${Math.round(idle)} B/s, CPU ${cpu.toFixed(2)} % of a core, ${connections.toFixed(1)} TCP connections, RSS ${rss.toFixed(0)} MB per agent`)

    phase(`serf ${n}: ${writes} user events`)
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

    phase(`serf ${n}: ${kills} kills`)
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
      await waitSerfAlive(agents, n, aliveMs)
    }
    console.log(`  SIGKILL detection p50 ${quantile(detections, 0.5)} ms, p99 ${quantile(detections, 0.99)} ms over ${detections.length} kills`)

    // silent: SIGSTOP leaves the agent's sockets open; SIGCONT afterwards (it refutes and rejoins)
    phase(`serf ${n}: ${sigstops} SIGSTOPs`)
    const stops: number[] = []
    for (let k = 0; k < sigstops; k++) {
      const victim = agents[1 + (k % (n - 1))]!
      const survivors = agents.filter(a => a !== victim)
      const started = Date.now()
      victim.child.kill('SIGSTOP')
      const failed = await Promise.all(survivors.map(a => a.waitLine(t => t.includes(`EventMemberFailed: ${victim.name} `), started, 60_000)))
      victim.child.kill('SIGCONT')
      if (failed.every(l => l)) stops.push(Math.max(...failed.map(l => l!.at)) - started)
      else console.log(`  SIGSTOP ${k}: declared failed by ${failed.filter(l => l).length} of ${survivors.length} within 60 s`)
      await waitSerfAlive(agents, n, aliveMs)
    }
    if (sigstops) console.log(`  SIGSTOP (silent) detection p50 ${quantile(stops, 0.5)} ms over ${stops.length}`)
    for (const a of agents) a.lines.length = 0
    return {
      system: 'serf',
      peers: n,
      propagation_ms_p50: round(quantile(latencies, 0.5)),
      propagation_ms_p99: round(quantile(latencies, 0.99)),
      detection_ms_p50: round(quantile(detections, 0.5)),
      detection_ms_p99: round(quantile(detections, 0.99)),
      rss_mb: round(rss),
      idle_bytes_per_s: round(idle, 0),
      silent_detection_ms_p50: round(quantile(stops, 0.5)),
      idle_cpu_pct: round(cpu, 2),
      connections_per_peer: round(connections),
    }
  } finally {
    await Promise.all(agents.map(async a => { if (a.child) { a.child.kill('SIGCONT'); await a.stop() } }))
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
const failedRow = (system: Row['system'], n: number): Row => ({ system, peers: n, propagation_ms_p50: null, propagation_ms_p99: null, detection_ms_p50: null, detection_ms_p99: null, rss_mb: null, idle_bytes_per_s: null, silent_detection_ms_p50: null, idle_cpu_pct: null, connections_per_peer: null })
if (build) {
  console.log('building dist/ (npm run build; skip with --no-build)')
  const b = spawnSync(process.execPath, [resolve(import.meta.dirname, '../scripts/build.mjs')], { stdio: 'inherit' })
  if (b.status !== 0) throw new Error('npm run build failed: the benchmark runs monk from dist/')
}
for (const n of sizes) {
  try {
    rows.push(await monk(n))
  } catch (err) {
    notes.push(`monk ${n} peers FAILED: ${(err as Error).message}`)
    phase(`note: ${notes[notes.length - 1]!}`)
    rows.push(failedRow('monk', n))
  }
  save()
  if (!useSerf) continue
  try {
    rows.push(await serf(n))
  } catch (err) {
    notes.push(`serf ${n} agents FAILED: ${(err as Error).message}`)
    phase(`note: ${notes[notes.length - 1]!}`)
    rows.push(failedRow('serf', n))
  }
  save()
}

const cell = (v: number | string | null): string => String(v ?? '—')
const header = ['system', 'peers', 'prop p50 ms', 'prop p99 ms', 'detect p50 ms', 'detect p99 ms', 'silent p50 ms', 'RSS MB', 'idle B/s', 'idle CPU %', 'conns']
const table = rows.map(r => [r.system, r.peers, r.propagation_ms_p50, r.propagation_ms_p99, r.detection_ms_p50, r.detection_ms_p99, r.silent_detection_ms_p50, r.rss_mb, r.idle_bytes_per_s, r.idle_cpu_pct, r.connections_per_peer].map(cell))
const widths = header.map((h, i) => Math.max(h.length, ...table.map(t => t[i]!.length)))
console.log('\n' + header.map((h, i) => h.padStart(widths[i]!)).join('  '))
for (const t of table) console.log(t.map((c, i) => c.padStart(widths[i]!)).join('  '))
for (const n of notes) console.log(`note: ${n}`)
console.log(`(${writes} writes/events, ${kills} SIGKILLs and ${sigstops} SIGSTOPs per size; idle over ${idleSecs} s; serf profile ${serfProfile}; monk peers run from dist/ under node)`)

save()
console.log(`wrote ${join(dir, 'mesh.json')}`)
