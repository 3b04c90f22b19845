// One chaos run: start a local cluster, load the kit, then per round inject the planned fault, send
// client operations while it holds, heal, wait for convergence and check every invariant. Every
// fault, operation, heal and check goes to the history (JSON lines).
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { PsRow } from '../cli/api/messages.js'
import type { FaultRead } from '../cli/fault.js'
import { checkRegisters, checkRuns, percentile, wantedCopies, type PsView, type Violation } from './checker.js'
import { Cluster, processContainers, sleep } from './cluster.js'
import { inject } from './faults.js'
import { Rng } from './random.js'
import { FAULT_KINDS, schedule, scheduleHash, type FaultKind } from './schedule.js'
import { Workload } from './workload.js'

export interface ChaosOptions {
  seed: number
  peers: number
  rounds: number
  runtime: 'process' | 'docker'
  /** Mean time a fault holds (ms). */
  holdMs: number
  maxSkewMs: number
  opsPerRound: number
  /** tmpfs size of each home (MB); 0 = plain directories, no full-disk faults. */
  tmpfsMb: number
  /** Tombstone minimum age of the test cluster (ms); 0 = the mesh default. */
  tombstoneMs: number
  /** How long the cluster may take to converge after a heal before it counts as diverged. */
  convergeTimeoutMs: number
  /** How long after convergence every wanted instance must run exactly once. */
  runBoundMs: number
  historyPath: string
  kinds?: readonly FaultKind[]
  /** Progress lines (stderr in the CLI). */
  log: (line: string) => void
  /** Keep the homes after the run (for inspection). */
  keep?: boolean
}

/** The result row (benchmarks/results/chaos.json has exactly these fields). */
export interface ChaosRow {
  seed: number
  peers: number
  rounds: number
  runtime: 'process' | 'docker'
  faults: Record<FaultKind, number>
  acked_writes: number
  lost_writes: number
  resurrected_keys: number
  double_runs: number
  missing_runs: number
  crashes: number
  converge_ms_p50: number
  converge_ms_p99: number
}

export interface ChaosResult extends ChaosRow {
  /** Failed writes that took effect without any acknowledged write before them. */
  phantom_writes: number
  /** Why the run stopped early (a daemon that never came back), if it did. */
  aborted?: string
  /** Heals after which the replicas did not converge (digests differ) within the timeout. */
  diverged: number
  skipped: Record<string, number>
  schedule_hash: string
  history: string
  duration_ms: number
  failed: boolean
}

export async function runChaos (o: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now()
  mkdirSync(dirname(o.historyPath), { recursive: true })
  writeFileSync(o.historyPath, '')
  const history = (type: string, fields: Record<string, unknown>): void => {
    appendFileSync(o.historyPath, JSON.stringify({ t: Date.now(), type, ...fields }) + '\n')
  }
  const plans = schedule({ seed: o.seed, peers: o.peers, rounds: o.rounds, holdMs: o.holdMs, maxSkewMs: o.maxSkewMs, opsPerRound: o.opsPerRound, ...(o.kinds ? { kinds: o.kinds } : {}) })
  const hash = scheduleHash(plans)
  history('start', { seed: o.seed, peers: o.peers, rounds: o.rounds, runtime: o.runtime, schedule_hash: hash, options: { ...o, log: undefined } })
  o.log(`chaos: seed ${o.seed}, ${o.peers} peers, ${o.rounds} rounds, ${o.runtime} runtime, schedule ${hash}, history ${o.historyPath}`)

  const faults = Object.fromEntries(FAULT_KINDS.map(k => [k, 0])) as Record<FaultKind, number>
  const skipped: Record<string, number> = {}
  const lost = new Set<string>()
  const resurrected = new Set<string>()
  const phantom = new Set<string>()
  let double = 0
  let missing = 0
  let diverged = 0
  const converge: number[] = []
  const ns = `chaos-${o.seed.toString(36)}-${process.pid.toString(36)}`
  const cluster = Cluster.create({
    peers: o.peers, runtime: o.runtime, base: mkdtempSync(join(tmpdir(), 'monk-chaos-')), tmpfsMb: o.tmpfsMb,
    ...(o.tombstoneMs > 0 ? { meshConfig: { tombstoneMinAgeMs: o.tombstoneMs, purgeIntervalMs: Math.max(200, Math.round(o.tombstoneMs / 4)) } } : {}),
    onEvent: e => history('event', e),
  })
  // Ctrl-C or a kill of the harness still stops the daemons, their processes and the tmpfs mounts.
  const onSignal = (sig: NodeJS.Signals): void => {
    o.log(`chaos: ${sig}: stopping the cluster (seed ${o.seed}, history ${o.historyPath})`)
    void cluster.stop({ keep: o.keep === true }).finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    await cluster.boot()
  } catch (err) {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    throw err
  }
  const docker = o.runtime === 'docker' ? await (await import('../actors/runtime/docker.js')).DockerRuntime.open({}) : undefined
  if (!cluster.diskFaults) history('note', { note: `full-disk faults will be skipped: ${cluster.tmpfsReason || 'tmpfs homes off'}` })
  const work = new Workload(ns, cluster, new Rng(o.seed, 'ops'), r => history('op', { ...r }))
  let crashesSeen = 0
  let aborted: string | undefined
  try {
    await until(async () => (await readAll(cluster, `peer/`)).every(r => r.alive.length === o.peers), 60_000)
    await work.setup()
    for (const plan of plans) {
      const f = plan.fault
      history('fault', { round: plan.index, ...f })
      const injected = await inject(cluster, f)
      if (injected.skipped) { skipped[f.kind] = (skipped[f.kind] ?? 0) + 1; history('skipped', { round: plan.index, kind: f.kind, why: injected.skipped }) } else faults[f.kind]++
      const gap = f.holdMs / (plan.ops + 1)
      const focus = 'peer' in f ? f.peer : f.sides[0][0]
      for (let i = 0; i < plan.ops; i++) { await sleep(gap); await work.step(plan.index, focus) }
      await sleep(gap)
      await injected.heal()
      // a daemon that crashed meanwhile is started again so the run can go on (the crash is counted)
      for (const n of cluster.nodes) if (!n.running) await cluster.startNode(n.index)
      const healedAt = Date.now()
      history('heal', { round: plan.index, kind: f.kind })

      // convergence: everyone alive and synced, digests identical
      const converged = await until(async () => {
        const reads = await readAll(cluster, `${ns}/`)
        return reads.every(r => r.alive.length === o.peers && r.synced) && new Set(reads.map(r => r.digest)).size === 1
      }, o.convergeTimeoutMs)
      const ms = Date.now() - healedAt
      if (converged) converge.push(ms)
      else {
        diverged++
        const reads = await readAll(cluster, `${ns}/`).catch(() => [] as FaultRead[])
        history('violation', { round: plan.index, kind: 'diverged', ms, peers: reads.map((r, i) => ({ peer: cluster.nodes[i]?.name, digest: r.digest, synced: r.synced, alive: r.alive.map(id => cluster.nodes.find(n => n.id === id)?.name ?? id), members: (r.members ?? []).map(m => ({ ...m, id: cluster.nodes.find(n => n.id === m.id)?.name ?? m.id })), connections: (r.connections ?? []).map(c => ({ ...c, peer: cluster.nodes.find(n => n.id === c.peer)?.name ?? c.peer })), counters: r.counters })) })
      }

      // registers: acknowledged writes present, deleted keys absent, on every peer
      const views = await Promise.all(cluster.nodes.map(async n => {
        const values: Record<string, string> = {}
        for (const p of work.prefixes) Object.assign(values, (await n.fault<FaultRead>({ type: 'fault.read', prefix: p })).values)
        return { peer: n.name, values }
      }))
      const violations = checkRegisters(work.keyOps, views, work.prefixes)
      for (const v of violations) {
        const set = v.kind === 'lost' ? lost : v.kind === 'resurrected' ? resurrected : phantom
        if (!set.has(v.key)) history('violation', { round: plan.index, ...v })
        set.add(v.key)
      }
      if (converged) for (const k of work.settle(views)) history('settled', { round: plan.index, key: k.key, op: k.op, ...(k.value !== undefined ? { value: k.value } : {}) })

      // runs: every wanted instance exactly once (ps on every peer and the real processes)
      const wanted = wantedCopies(work.runOps, work.instances)
      let verdicts = checkRuns(wanted, await realCopies(cluster, work.instances, docker), await psViews(cluster))
      const bound = Date.now() + o.runBoundMs
      while (verdicts.some(v => v.kind !== 'ok') && Date.now() < bound) {
        await sleep(250)
        verdicts = checkRuns(wanted, await realCopies(cluster, work.instances, docker), await psViews(cluster))
      }
      for (const v of verdicts.filter(x => x.kind !== 'ok')) {
        if (v.kind === 'double') double++
        else missing++
        history('violation', { round: plan.index, ...v, kind: v.kind === 'double' ? 'double_run' : 'missing_run' })
      }

      cluster.scanLogs()
      for (const c of cluster.crashes.slice(crashesSeen)) history('violation', { round: plan.index, kind: 'crash', ...c })
      crashesSeen = cluster.crashes.length
      const bad = violations.length + verdicts.filter(v => v.kind !== 'ok').length
      history('check', { round: plan.index, converged, converge_ms: ms, violations: violations.length, runs: verdicts.map(v => `${v.instance}:${v.wanted}/${v.real}:${v.kind}`) })
      o.log(`round ${plan.index + 1}/${o.rounds} ${f.kind}${injected.skipped ? ' (skipped)' : ''}: ${converged ? `converged in ${ms} ms` : 'DIVERGED'}${bad ? `, ${bad} violation(s)` : ''}`)
    }
  } catch (err) {
    // the harness cannot go on (a daemon never came back): the run fails with what it saw so far
    aborted = (err as Error).message
    history('aborted', { error: aborted })
    o.log(`chaos: run aborted: ${aborted}`)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await cluster.stop({ keep: o.keep === true })
    if (docker) {
      for (const inst of work.instances) for (const c of await docker.list({ 'monk.instance': inst }).catch(() => [])) await docker.remove(c.id, { force: true }).catch(() => {})
      await docker.close()
    }
  }
  const result: ChaosResult = {
    seed: o.seed, peers: o.peers, rounds: o.rounds, runtime: o.runtime, faults,
    acked_writes: work.acked, lost_writes: lost.size, resurrected_keys: resurrected.size,
    double_runs: double, missing_runs: missing, crashes: cluster.crashes.length,
    converge_ms_p50: percentile(converge, 50), converge_ms_p99: percentile(converge, 99),
    phantom_writes: phantom.size, ...(aborted !== undefined ? { aborted } : {}), diverged, skipped, schedule_hash: hash, history: o.historyPath, duration_ms: Date.now() - started, failed: false,
  }
  result.failed = aborted !== undefined || result.lost_writes + result.resurrected_keys + result.double_runs + result.missing_runs + result.crashes + result.phantom_writes + result.diverged > 0
  history('result', { ...result })
  return result
}

/** The result row without the harness's extra fields. */
export function row (r: ChaosResult): ChaosRow {
  const { seed, peers, rounds, runtime, faults, acked_writes, lost_writes, resurrected_keys, double_runs, missing_runs, crashes, converge_ms_p50, converge_ms_p99 } = r
  return { seed, peers, rounds, runtime, faults, acked_writes, lost_writes, resurrected_keys, double_runs, missing_runs, crashes, converge_ms_p50, converge_ms_p99 }
}

async function readAll (c: Cluster, prefix: string): Promise<FaultRead[]> {
  return await Promise.all(c.nodes.map(async n => await n.fault<FaultRead>({ type: 'fault.read', prefix }, 5000)))
}

async function psViews (c: Cluster): Promise<PsView[]> {
  return await Promise.all(c.nodes.map(async n => {
    const rows = await n.client.request<PsRow[]>('peer', { type: 'workload.ps' }, { timeoutMs: 5000 }).catch(() => [] as PsRow[])
    return { peer: n.name, running: Object.fromEntries(rows.filter(r => r.status === 'running').map(r => [r.instance, r.peer])) }
  }))
}

/** Running processes (process runtime, every home) or containers (Docker) per instance. */
async function realCopies (c: Cluster, instances: readonly string[], docker: { list: (l: Record<string, string>) => Promise<Array<{ running: boolean }>> } | undefined): Promise<Map<string, number>> {
  const out = new Map<string, number>(instances.map(i => [i, 0]))
  if (docker) {
    for (const inst of instances) out.set(inst, (await docker.list({ 'monk.instance': inst })).filter(x => x.running).length)
    return out
  }
  for (const n of c.nodes) for (const p of processContainers(n.home)) if (p.running && out.has(p.instance)) out.set(p.instance, (out.get(p.instance) ?? 0) + 1)
  return out
}

async function until (fn: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    try { if (await fn()) return true } catch { /* a peer not answering yet */ }
    if (Date.now() > deadline) return false
    await sleep(200)
  }
}

export type { Violation }
