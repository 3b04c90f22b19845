// Does SWIM membership (mesh/swim.ts) keep O(1) messages per peer and O(log N) dissemination past
// what one machine can run as processes? The same pure state machine as the daemon, N instances in
// one process, over a simulated network (latency, loss) driven by an event queue in simulated time.
//
//   npm run bench -- membership-sim [--peers 1000,10000] [--seconds 60] [--kills 10] [--pauses 10]
//                                   [--pause-ms 1000] [--loss 0.01] [--latency-ms 2] [--seed 1]
//                                   [--probe-ms 500] [--probe-timeout-ms 250]
//                                   [--cpu-ms 0] [--share 1] [--squeeze 1] [--squeeze-secs 10]
//                                   [--extra-per-period 8]
//
// CPU model (off by default: --cpu-ms 0): each message a peer handles or sends, and each timer
// wake, costs it `cpu-ms` of CPU, and a peer gets `share` of a core (2 cores for 50 processes:
// 0.04), so its event loop runs late when it has much to do, as on a starved host. During
// `squeeze-secs` after the warm-up the share is multiplied by `squeeze` (other jobs take the CPU).
// This reproduces issue 11's storm: late loops → missed acks → suspicions → more messages → later
// loops. --extra-per-period overrides swimExtraPerPeriod (a large value turns the budget off).
//
// Failure schedule (after a 5 s warm-up, spread over the next half of the run): `kills` peers crash
// silently (messages to them vanish: a machine that disappears, the hard case, no TCP refusal) and
// `pauses` others stop for `pause-ms` (messages wait, their clock jumps, as under SIGSTOP).
// Reported per N: detection = time from a crash until every live peer declared it dead (p50/p99
// over crashes); msgs per peer per s over the whole run, probe msgs (ping, ack, ping-req, nack:
// the O(1) part) over the whole run, and all msgs over the warm-up before the first fault (a false
// suspicion under loss, refuted, is dissemination traffic there too); false positives
// = (observer, peer) deaths declared about peers that never crashed; dissemination rounds = the
// largest hop count at which a death reached a peer (0 = it detected the death itself).
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { SeededRandom } from '../mesh/clock.js'
import { defaults } from '../mesh/defaults.js'
import { Swim, swimConfig, type SwimConfig } from '../mesh/swim.js'
import type { SwimMessage } from '../mesh/swim-codec.js'
import { RingTopology } from '../mesh/swim-ring.js'

function option (name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const sizes = option('peers', '1000,10000').split(',').map(Number)
const seconds = Number(option('seconds', '60'))
const kills = Number(option('kills', '10'))
const pauses = Number(option('pauses', '10'))
const pauseMs = Number(option('pause-ms', '1000'))
const loss = Number(option('loss', '0.01'))
const latencyMs = Number(option('latency-ms', '2'))
const seed = Number(option('seed', '1'))
const warmupMs = 5000

// --probe-ms and --probe-timeout-ms override swimProbeIntervalMs and swimProbeTimeoutMs, to try other periods
const probeMs = Number(option('probe-ms', String(defaults.swimProbeIntervalMs)))
const probeTimeoutMs = Number(option('probe-timeout-ms', String(defaults.swimProbeTimeoutMs)))
const cpuMs = Number(option('cpu-ms', '0'))
const share = Number(option('share', '1'))
const squeeze = Number(option('squeeze', '1'))
const squeezeMs = Number(option('squeeze-secs', '10')) * 1000
const extraPerPeriod = Number(option('extra-per-period', String(defaults.swimExtraPerPeriod)))
const config: SwimConfig = { ...swimConfig(defaults), probeIntervalMs: probeMs, probeTimeoutMs, extraPerPeriod }

interface Row {
  peers: number
  detection_ms_p50: number | null
  detection_ms_p99: number | null
  msgs_per_peer_per_s: number
  idle_msgs_per_peer_per_s: number
  probe_msgs_per_peer_per_s: number
  false_positives: number
  dissemination_rounds: number
  /** Hop count at which a death reached a peer, over every (death, live peer) pair: the typical spread, where the max above is its worst tail. */
  dissemination_hops_p50: number | null
  dissemination_hops_p99: number | null
  sim_seconds: number
  wall_seconds: number
  /** Suspicions raised from own evidence, over the run and after the squeeze ended (the storm going on). */
  suspicions_raised?: number
  suspicions_raised_after_squeeze?: number
  msgs_per_peer_per_s_after_squeeze?: number
  /** Messages per peer per second by why (swim.ts SendKind), over the run. */
  by_kind?: Record<string, number>
}

// ---- a binary heap of events in simulated time ----
type Ev = { t: number; n: number; kind: 0; node: number } | { t: number; n: number; kind: 1; node: number; from: number; msg: SwimMessage }
class Heap {
  private readonly a: Ev[] = []
  get size (): number { return this.a.length }
  push (e: Ev): void {
    const a = this.a
    a.push(e)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (less(a[p]!, e)) break
      a[i] = a[p]!
      i = p
    }
    a[i] = e
  }
  pop (): Ev | undefined {
    const a = this.a
    const top = a[0]
    const last = a.pop()
    if (a.length === 0 || !last) return top
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= a.length) break
      const r = l + 1
      const c = r < a.length && less(a[r]!, a[l]!) ? r : l
      if (less(last, a[c]!)) break
      a[i] = a[c]!
      i = c
    }
    a[i] = last
    return top
  }
}
const less = (x: Ev, y: Ev): boolean => x.t < y.t || (x.t === y.t && x.n < y.n)

function quantile (xs: number[], q: number): number | null {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
}

function simulate (n: number): Row {
  const started = Date.now()
  const random = new SeededRandom(seed * 7919 + n)
  const ids = Array.from({ length: n }, (_, i) => `p${i}`)
  const index = new Map(ids.map((id, i) => [id, i]))
  const topology = new RingTopology(ids, defaults.swimRings)
  const heap = new Heap()
  let evNo = 0
  let now = 0
  let sent = 0
  let sentIdle = 0
  let sentProbe = 0
  const crashedAt = new Map<number, number>()
  const pausedUntil = new Float64Array(n)
  const wakeAt = new Float64Array(n).fill(Infinity)
  const deadKnown = new Map<number, Map<number, number>>() // victim → observer → hop
  const allKnownAt = new Map<number, number>()
  let falsePositives = 0
  const countLive = (seen: Map<number, number>): number => { let c = 0; for (const o of seen.keys()) if (!crashedAt.has(o)) c++; return c }
  const busyUntil = new Float64Array(n)
  const byKind: Record<string, number> = {}
  let raised = 0
  let raisedAfter = 0
  let sentAfter = 0
  const squeezeEnd = warmupMs + squeezeMs
  const shareAt = (t: number): number => t >= warmupMs && t < squeezeEnd ? share * squeeze : share
  let sendsNow = 0
  let current = -1 // the node handling a message, and its sender
  let currentFrom = -1

  const nodes: Swim[] = ids.map((self, i) => new Swim({
    self,
    incarnation: 0,
    config,
    random: new SeededRandom(seed * 104729 + i),
    topology: () => topology,
    assumeAlive: true,
    now: 0,
    transport: {
      send: (to, msg, why) => {
        sent++
        sendsNow++
        byKind[why] = (byKind[why] ?? 0) + 1
        if (now >= squeezeEnd) sentAfter++
        if (now < warmupMs) sentIdle++
        if (msg.type !== 'gossip') sentProbe++
        const j = index.get(to)!
        if (random.next() < loss) return
        const delay = latencyMs * (0.5 + random.next())
        heap.push({ t: now + delay, n: evNo++, kind: 1, node: j, from: i, msg })
      },
    },
    onEvent: e => {
      if (e.type === 'raised') { raised++; if (now >= squeezeEnd) raisedAfter++ }
      if (e.type !== 'down' || e.reason === 'left') return
      const v = index.get(e.peer)!
      if (!crashedAt.has(v)) { falsePositives++; return }
      let seen = deadKnown.get(v)
      if (!seen) deadKnown.set(v, seen = new Map())
      const hop = currentFrom >= 0 && seen.has(currentFrom) ? seen.get(currentFrom)! + 1 : 0
      seen.set(current, hop)
      if (!allKnownAt.has(v) && seen.size >= n - crashedAt.size && countLive(seen) === n - crashedAt.size) allKnownAt.set(v, now - crashedAt.get(v)!)
    },
  }))

  const schedule = (i: number): void => {
    const w = Math.max(nodes[i]!.nextWake(), pausedUntil[i]!)
    if (w < wakeAt[i]!) { wakeAt[i] = w; heap.push({ t: w, n: evNo++, kind: 0, node: i }) }
  }
  for (let i = 0; i < n; i++) schedule(i)

  // the failure schedule: distinct victims, spread over [warm-up, half the run]
  const order = ids.map((_, i) => i)
  for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(random.next() * (i + 1)); [order[i], order[j]] = [order[j]!, order[i]!] }
  const span = Math.max(1000, seconds * 1000 / 2 - warmupMs)
  const faults = [
    ...order.slice(0, kills).map(v => ({ t: warmupMs + random.next() * span, v, kind: 'kill' as const })),
    ...order.slice(kills, kills + pauses).map(v => ({ t: warmupMs + random.next() * span, v, kind: 'pause' as const })),
  ].sort((a, b) => a.t - b.t)
  let nextFault = 0

  const endMs = seconds * 1000
  while (heap.size > 0) {
    const e = heap.pop()!
    if (e.t > endMs) break
    while (nextFault < faults.length && faults[nextFault]!.t <= e.t) {
      const f = faults[nextFault++]!
      now = f.t
      if (f.kind === 'kill') crashedAt.set(f.v, f.t)
      else { pausedUntil[f.v] = f.t + pauseMs }
    }
    now = e.t
    const i = e.node
    if (crashedAt.has(i)) continue
    if (pausedUntil[i]! > now) {
      // a stopped process: messages wait in its socket, timers wait for it to run again
      if (e.kind === 1) heap.push({ ...e, t: pausedUntil[i]! + 0.001, n: evNo++ })
      else { wakeAt[i] = Infinity; schedule(i) }
      continue
    }
    if (cpuMs > 0 && busyUntil[i]! > now) {
      // its event loop is still busy: the event waits (a timer fires late, a message sits in the socket)
      if (e.kind === 1) heap.push({ ...e, t: busyUntil[i]! + 0.001, n: evNo++ })
      else if (e.t === wakeAt[i]) { wakeAt[i] = busyUntil[i]! + 0.001; heap.push({ t: wakeAt[i]!, n: evNo++, kind: 0, node: i }) }
      continue
    }
    current = i
    sendsNow = 0
    if (e.kind === 0) {
      if (e.t !== wakeAt[i]) continue // superseded
      wakeAt[i] = Infinity
      currentFrom = -1
      nodes[i]!.tick(now)
    } else {
      currentFrom = e.from
      nodes[i]!.receive(ids[e.from]!, e.msg, now)
    }
    current = -1
    currentFrom = -1
    if (cpuMs > 0) busyUntil[i] = now + cpuMs * (1 + sendsNow) / shareAt(now)
    schedule(i)
  }

  const detections = [...crashedAt.keys()].map(v => allKnownAt.get(v)).filter((x): x is number => x !== undefined)
  const undetected = crashedAt.size - detections.length
  if (undetected > 0) console.log(`  ${undetected} of ${crashedAt.size} crashes not known everywhere by the end of the run`)
  let rounds = 0
  const hops: number[] = []
  for (const seen of deadKnown.values()) for (const h of seen.values()) { rounds = Math.max(rounds, h); hops.push(h) }
  return {
    peers: n,
    detection_ms_p50: quantile(detections, 0.5) === null ? null : Math.round(quantile(detections, 0.5)!),
    detection_ms_p99: quantile(detections, 0.99) === null ? null : Math.round(quantile(detections, 0.99)!),
    msgs_per_peer_per_s: Math.round(sent / n / seconds * 100) / 100,
    idle_msgs_per_peer_per_s: Math.round(sentIdle / n / (warmupMs / 1000) * 100) / 100,
    probe_msgs_per_peer_per_s: Math.round(sentProbe / n / seconds * 100) / 100,
    false_positives: falsePositives,
    dissemination_rounds: rounds,
    dissemination_hops_p50: quantile(hops, 0.5),
    dissemination_hops_p99: quantile(hops, 0.99),
    sim_seconds: seconds,
    wall_seconds: Math.round((Date.now() - started) / 100) / 10,
    suspicions_raised: raised,
    suspicions_raised_after_squeeze: raisedAfter,
    msgs_per_peer_per_s_after_squeeze: Math.round(sentAfter / n / Math.max(1, seconds - squeezeEnd / 1000) * 100) / 100,
    by_kind: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, Math.round(v / n / seconds * 100) / 100])),
  }
}

const rows: Row[] = []
for (const n of sizes) {
  if (!Number.isInteger(n) || n < 4) { console.error(`--peers: ${n} is not a whole number of at least 4`); process.exit(2) }
  console.log(`\nsimulating ${n} peers for ${seconds} s (${kills} crashes, ${pauses} pauses of ${pauseMs} ms, loss ${loss}, latency ~${latencyMs} ms)`)
  const row = simulate(n)
  console.log(`  done in ${row.wall_seconds} s; ${row.suspicions_raised} suspicions raised (${row.suspicions_raised_after_squeeze} after the squeeze), ${row.msgs_per_peer_per_s_after_squeeze} msgs/peer/s after it`)
  console.log(`  by kind, per peer per second: ${Object.entries(row.by_kind ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  rows.push(row)
}

console.log('\n| peers | detection p50 | detection p99 | msgs/peer/s (all) | probe msgs/peer/s | msgs/peer/s (warm-up) | false positives | dissemination rounds (max) | hops p50 / p99 |')
console.log('|---|---|---|---|---|---|---|---|---|')
for (const r of rows) console.log(`| ${r.peers} | ${r.detection_ms_p50 ?? '-'} ms | ${r.detection_ms_p99 ?? '-'} ms | ${r.msgs_per_peer_per_s} | ${r.probe_msgs_per_peer_per_s} | ${r.idle_msgs_per_peer_per_s} | ${r.false_positives} | ${r.dissemination_rounds} | ${r.dissemination_hops_p50 ?? '-'} / ${r.dissemination_hops_p99 ?? '-'} |`)
const out = resolve(import.meta.dirname, 'results')
mkdirSync(out, { recursive: true })
// runs with the CPU model go to their own file: membership-sim.json holds the scale table
const file = join(out, cpuMs > 0 ? 'membership-sim-cpu.json' : 'membership-sim.json')
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), seconds, kills, pauses, pauseMs, loss, latencyMs, seed, ...(cpuMs > 0 ? { cpuMs, share, squeeze, squeezeSecs: squeezeMs / 1000 } : {}), extraPerPeriod, rows }, null, 2) + '\n')
console.log(`\nwrote ${file}`)
