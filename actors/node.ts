// The node actor of DESIGN §9: one cloud machine from request to termination,
// requested → creating → booting → joined → draining → gone (or failed, with the provider's
// message). The logic is pure (`decide`: record, event → record, effects); the record lives in the
// replica as `node/<name>`, so when the peer driving it dies another peer picks it up from there.
// NodeDriver is the shell: it performs effects through a Provider and feeds the results back.
import { backoffMs } from './kit/backoff.js'
import type { Machine, MachineRef, MachineSpec, Provider, ProviderKind } from './cloud/provider.js'
import { isProviderKind } from './cloud/provider.js'
import { ProviderError } from './cloud/errors.js'
import * as D from './cloud/defaults.js'

export const nodeStates = ['requested', 'creating', 'booting', 'joined', 'draining', 'gone', 'failed'] as const
export type NodeState = typeof nodeStates[number]

/** Whether the machine of a failed node was (or could not be) cleaned up. */
export type Cleanup = 'none' | 'pending' | 'done' | 'stuck'

/** What was asked for one machine. */
export interface NodeSpec {
  region: string
  zone: string | null
  instanceType: string
  diskGb: number
  /** Tags given by the user; automatic ones (provider, region, zone) are added at boot. */
  tags: string[]
  image: string | null
  keyPair: string | null
  bootTimeoutMs: number
}

export interface HistoryItem { state: NodeState, at: number, by: string, note?: string }

/** The replicated record `node/<name>` (any peer may write it; in practice its driver does). */
export interface NodeRecord {
  v: 1
  name: string
  provider: ProviderKind
  spec: NodeSpec
  state: NodeState
  /** Peer id of the peer that drives this node now. */
  driver: string
  /** Shared by the nodes of one `cluster grow`; part of the idempotency token. */
  growId: string
  cloudId: string | null
  address: string | null
  /** The peer the machine became, once joined. */
  peerId: string | null
  /** Attempts of the current step (reset on every state change). */
  attempts: number
  /** Earliest time of the next attempt after a transient error. */
  retryAt: number
  /** When the current state times out (0 = never). */
  deadline: number
  /** Next describe of a booting machine. */
  describeAt: number
  /** Why the node failed: a code and the provider's message. */
  error: { code: string, message: string } | null
  /** The last transient problem (retried), for progress output. */
  warning: string | null
  cleanup: Cleanup
  requestedAt: number
  stateAt: number
  updatedAt: number
  history: HistoryItem[]
}

export const nodeKey = (name: string): string => `node/${name}`
/** Drain requests live apart from the record so a concurrent write by the driver cannot lose them. */
export const nodeOpKey = (name: string): string => `nodeop/${name}`

export interface DrainOp { op: 'drain', at: number, by: string, force: boolean }

export interface NodeConfig {
  createTimeoutMs: number
  drainTimeoutMs: number
  maxAttempts: number
  retryInitialMs: number
  retryMaxMs: number
  describeEveryMs: number
}

export const defaultNodeConfig: NodeConfig = {
  createTimeoutMs: D.CREATE_TIMEOUT_MS,
  drainTimeoutMs: D.DRAIN_TIMEOUT_MS,
  maxAttempts: D.MAX_ATTEMPTS,
  retryInitialMs: D.RETRY_INITIAL_MS,
  retryMaxMs: D.RETRY_MAX_MS,
  describeEveryMs: D.DESCRIBE_EVERY_MS,
}

/** A provider failure as the pure logic sees it. */
export interface Failure { code: string, message: string, retryable: boolean }

export type NodeEvent =
  /** Time passes; `joined` is the live peer named like the node (if any); `drain` a pending drain request. */
  | { type: 'node.tick', now: number, by: string, joined: string | null, drain: DrainOp | null }
  | { type: 'node.ensured', now: number, by: string, machine: Machine }
  | { type: 'node.ensure-failed', now: number, by: string, failure: Failure }
  | { type: 'node.described', now: number, by: string, machine: Machine | null }
  | { type: 'node.describe-failed', now: number, by: string, failure: Failure }
  | { type: 'node.destroyed', now: number, by: string }
  | { type: 'node.destroy-failed', now: number, by: string, failure: Failure }

/** `ensure`: find the machine of this node (adopt it) or create it; `destroy`: terminate every machine of this node and confirm. */
export type NodeEffect = { type: 'ensure' } | { type: 'describe' } | { type: 'destroy' }

export interface NodeDecision { record: NodeRecord, effects: NodeEffect[] }

/** True while some peer must act for this node. */
export function needsDriver (r: NodeRecord, drain: DrainOp | null): boolean {
  if (r.state === 'requested' || r.state === 'creating' || r.state === 'booting' || r.state === 'draining') return true
  if (r.state === 'failed') return r.cleanup === 'pending'
  if (r.state === 'joined') return drain !== null
  return false
}

/** True once nothing more will happen to the node by itself (the CLI stops waiting). */
export function settled (r: NodeRecord): boolean {
  return r.state === 'joined' || r.state === 'gone' || (r.state === 'failed' && r.cleanup !== 'pending')
}

function enter (r: NodeRecord, state: NodeState, now: number, by: string, patch: Partial<NodeRecord> = {}, note?: string): NodeRecord {
  const item: HistoryItem = { state, at: now, by, ...(note !== undefined ? { note } : {}) }
  const history = [...r.history, item].slice(-D.HISTORY_MAX)
  return { ...r, state, stateAt: now, updatedAt: now, attempts: 0, retryAt: 0, warning: null, history, ...patch }
}

function fail (r: NodeRecord, now: number, by: string, code: string, message: string): NodeRecord {
  // cleanup always runs: a create that timed out may still have produced a machine
  return enter(r, 'failed', now, by, { error: { code, message }, cleanup: 'pending', deadline: 0 }, `${code}: ${message}`)
}

function backoff (cfg: NodeConfig, attempts: number): number {
  return backoffMs({ initialMs: cfg.retryInitialMs, factor: 2, maxMs: cfg.retryMaxMs }, attempts)
}

/** A transient failure: retry later, or give up after maxAttempts. */
function retryOr (r: NodeRecord, cfg: NodeConfig, ev: { now: number, by: string, failure: Failure }, onGiveUp: (r: NodeRecord) => NodeRecord): NodeRecord {
  const attempts = r.attempts + 1
  if (ev.failure.retryable && attempts < cfg.maxAttempts) {
    const retryAt = ev.now + backoff(cfg, attempts)
    return { ...r, attempts, retryAt, updatedAt: ev.now, warning: `${ev.failure.message} (attempt ${attempts} of ${cfg.maxAttempts}, retrying)` }
  }
  return onGiveUp(r)
}

const secs = (ms: number): string => `${Math.round(ms / 100) / 10} s`

/** The pure step of a node. */
export function decide (r: NodeRecord, ev: NodeEvent, cfg: NodeConfig = defaultNodeConfig): NodeDecision {
  const now = ev.now
  const by = ev.by
  const where = `${r.provider} machine ${r.name}${r.cloudId !== null ? ` (${r.cloudId})` : ''}`
  switch (ev.type) {
    case 'node.tick': {
      let rec = r.driver === by ? r : { ...r, driver: by }
      if (ev.drain !== null && (rec.state === 'requested' || rec.state === 'creating' || rec.state === 'booting' || rec.state === 'joined')) {
        rec = enter(rec, 'draining', now, by, { deadline: now + cfg.drainTimeoutMs }, `drain requested by ${ev.drain.by}`)
        return { record: rec, effects: [{ type: 'destroy' }] }
      }
      switch (rec.state) {
        case 'requested':
          return { record: enter(rec, 'creating', now, by, { deadline: now + cfg.createTimeoutMs }), effects: [{ type: 'ensure' }] }
        case 'creating':
          if (now > rec.deadline) return { record: fail(rec, now, by, 'create-timeout', `${where} was not created within ${secs(cfg.createTimeoutMs)}${rec.warning ? `; last problem: ${rec.warning}` : ''}`), effects: [{ type: 'destroy' }] }
          return now >= rec.retryAt ? { record: rec, effects: [{ type: 'ensure' }] } : { record: rec, effects: [] }
        case 'booting':
          if (ev.joined !== null) return { record: enter(rec, 'joined', now, by, { peerId: ev.joined, deadline: 0, error: null }), effects: [] }
          if (now > rec.deadline) return { record: fail(rec, now, by, 'boot-timeout', `${where} did not join the cluster within ${secs(rec.spec.bootTimeoutMs)} of being created`), effects: [{ type: 'destroy' }] }
          return now >= rec.describeAt ? { record: { ...rec, describeAt: now + cfg.describeEveryMs }, effects: [{ type: 'describe' }] } : { record: rec, effects: [] }
        case 'joined':
          if (ev.joined !== null && ev.joined !== rec.peerId) return { record: { ...rec, peerId: ev.joined, updatedAt: now }, effects: [] }
          return { record: rec, effects: [] }
        case 'draining':
          if (now > rec.deadline) return { record: { ...enter(rec, 'failed', now, by, { error: { code: 'drain-timeout', message: `${where} could not be terminated within ${secs(cfg.drainTimeoutMs)}${rec.warning ? `: ${rec.warning}` : ''}; check it in the ${rec.provider} console` }, cleanup: 'stuck' }) }, effects: [] }
          return now >= rec.retryAt ? { record: rec, effects: [{ type: 'destroy' }] } : { record: rec, effects: [] }
        case 'failed':
          return rec.cleanup === 'pending' && now >= rec.retryAt ? { record: rec, effects: [{ type: 'destroy' }] } : { record: rec, effects: [] }
        case 'gone':
          return { record: rec, effects: [] }
      }
      return { record: rec, effects: [] }
    }
    case 'node.ensured':
      if (r.state !== 'creating') return { record: r, effects: [] }
      return {
        record: enter(r, 'booting', now, by, { cloudId: ev.machine.id, address: ev.machine.address, deadline: now + r.spec.bootTimeoutMs, describeAt: now + cfg.describeEveryMs }),
        effects: [],
      }
    case 'node.ensure-failed':
      if (r.state !== 'creating') return { record: r, effects: [] }
      return { record: retryOr(r, cfg, ev, rec => fail(rec, now, by, ev.failure.code, ev.failure.message)), effects: [] }
    case 'node.described':
      if (r.state !== 'booting') return { record: r, effects: [] }
      if (ev.machine === null || ev.machine.state === 'terminated' || ev.machine.state === 'stopping') {
        return { record: fail(r, now, by, 'machine-lost', `${where} is ${ev.machine === null ? 'gone' : ev.machine.state} before it joined`), effects: [{ type: 'destroy' }] }
      }
      return { record: ev.machine.address !== null && ev.machine.address !== r.address ? { ...r, address: ev.machine.address, updatedAt: now } : r, effects: [] }
    case 'node.describe-failed':
      if (r.state !== 'booting') return { record: r, effects: [] }
      return { record: { ...r, warning: `describe failed: ${ev.failure.message}`, updatedAt: now }, effects: [] }
    case 'node.destroyed':
      if (r.state === 'draining') return { record: enter(r, 'gone', now, by, { deadline: 0, cleanup: 'done' }), effects: [] }
      if (r.state === 'failed' && r.cleanup === 'pending') return { record: { ...r, cleanup: 'done', retryAt: 0, attempts: 0, updatedAt: now, history: [...r.history, { state: 'failed' as const, at: now, by, note: 'cleaned up: no machine left' }].slice(-D.HISTORY_MAX) }, effects: [] }
      return { record: r, effects: [] }
    case 'node.destroy-failed':
      if (r.state === 'draining') {
        return {
          record: retryOr(r, cfg, ev, rec => enter(rec, 'failed', now, by, { error: { code: ev.failure.code, message: `could not terminate ${where}: ${ev.failure.message}` }, cleanup: 'stuck', deadline: 0 })),
          effects: [],
        }
      }
      if (r.state === 'failed' && r.cleanup === 'pending') {
        // a transient failure never ends the cleanup: it retries (at most every retryMaxMs) until the
        // cloud confirms no machine is left; only a refusal (e.g. revoked credentials) makes it stuck
        if (ev.failure.retryable) {
          const attempts = r.attempts + 1
          return { record: { ...r, attempts, retryAt: now + backoff(cfg, attempts), updatedAt: now, warning: `cleanup: ${ev.failure.message} (retrying)` }, effects: [] }
        }
        return {
          record: { ...r, cleanup: 'stuck', updatedAt: now, error: { code: r.error?.code ?? ev.failure.code, message: `${r.error?.message ?? ''}; cleanup failed too, check the ${r.provider} console for ${r.name}: ${ev.failure.message}` } },
          effects: [],
        }
      }
      return { record: r, effects: [] }
  }
}

/** A fresh record for `cluster grow`. */
export function newNode (o: { name: string, provider: ProviderKind, spec: NodeSpec, driver: string, growId: string, now: number }): NodeRecord {
  return {
    v: 1, name: o.name, provider: o.provider, spec: o.spec, state: 'requested', driver: o.driver, growId: o.growId,
    cloudId: null, address: null, peerId: null, attempts: 0, retryAt: 0, deadline: 0, describeAt: 0,
    error: null, warning: null, cleanup: 'none', requestedAt: o.now, stateAt: o.now, updatedAt: o.now,
    history: [{ state: 'requested', at: o.now, by: o.driver }],
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
const str = (v: unknown, d = ''): string => typeof v === 'string' ? v : d
const strOrNull = (v: unknown): string | null => typeof v === 'string' ? v : null
const num = (v: unknown, d = 0): number => typeof v === 'number' && Number.isFinite(v) ? v : d

/** Decodes a `node/<name>` value defensively (any peer may have written it). */
export function decodeNode (v: unknown): NodeRecord | undefined {
  if (!isObj(v) || v.v !== 1 || typeof v.name !== 'string' || !isProviderKind(v.provider) || !isObj(v.spec)) return undefined
  if (!(nodeStates as readonly unknown[]).includes(v.state)) return undefined
  const s = v.spec
  const history: HistoryItem[] = Array.isArray(v.history)
    ? v.history.filter(isObj).filter(h => (nodeStates as readonly unknown[]).includes(h.state)).map(h => ({ state: h.state as NodeState, at: num(h.at), by: str(h.by), ...(typeof h.note === 'string' ? { note: h.note } : {}) }))
    : []
  const cleanup = (['none', 'pending', 'done', 'stuck'] as const).find(c => c === v.cleanup) ?? 'none'
  const error = isObj(v.error) ? { code: str(v.error.code, 'failed'), message: str(v.error.message) } : null
  return {
    v: 1, name: v.name, provider: v.provider, state: v.state as NodeState, driver: str(v.driver), growId: str(v.growId),
    spec: {
      region: str(s.region), zone: strOrNull(s.zone), instanceType: str(s.instanceType), diskGb: num(s.diskGb, D.DISK_GB),
      tags: Array.isArray(s.tags) ? s.tags.filter((t): t is string => typeof t === 'string') : [],
      image: strOrNull(s.image), keyPair: strOrNull(s.keyPair), bootTimeoutMs: num(s.bootTimeoutMs, D.BOOT_TIMEOUT_MS),
    },
    cloudId: strOrNull(v.cloudId), address: strOrNull(v.address), peerId: strOrNull(v.peerId),
    attempts: num(v.attempts), retryAt: num(v.retryAt), deadline: num(v.deadline), describeAt: num(v.describeAt),
    error, warning: strOrNull(v.warning), cleanup,
    requestedAt: num(v.requestedAt), stateAt: num(v.stateAt), updatedAt: num(v.updatedAt), history,
  }
}

export function decodeDrain (v: unknown): DrainOp | null {
  if (!isObj(v) || v.op !== 'drain') return null
  return { op: 'drain', at: num(v.at), by: str(v.by), force: v.force === true }
}

// ---- the shell ----

/** What a NodeDriver needs from its surroundings. */
export interface NodeDriverDeps {
  /** This peer's id. */
  self: string
  provider: () => Promise<Provider>
  /** The machine spec for a record (bootstrap with the current join token, tags). */
  /** The machine to create; makes a single-use worker invite for its join token. */
  machineSpec: (r: NodeRecord) => Promise<MachineSpec>
  /** Cluster id, for list(). */
  cluster: string
  now: () => number
  cfg: NodeConfig
}

function failureOf (err: unknown): Failure {
  if (err instanceof ProviderError) return { code: err.code, message: err.message, retryable: err.retryable }
  const e = err as { code?: unknown, message?: unknown }
  return { code: typeof e?.code === 'string' ? e.code : 'failed', message: typeof e?.message === 'string' ? e.message : String(err), retryable: false }
}

/**
 * Performs one node's effects. One tick at a time (the caller serialises ticks, e.g. in an actor):
 * decide, perform each effect, feed its result back, until no effect is left. Returns the record
 * to write (or the same object when nothing changed).
 */
export async function runTick (r: NodeRecord, tick: Omit<Extract<NodeEvent, { type: 'node.tick' }>, 'type' | 'by'>, deps: NodeDriverDeps): Promise<NodeRecord> {
  let d = decide(r, { type: 'node.tick', by: deps.self, ...tick }, deps.cfg)
  let rec = d.record
  const queue = [...d.effects]
  while (queue.length > 0) {
    const effect = queue.shift()!
    const ev = await perform(rec, effect, deps)
    d = decide(rec, ev, deps.cfg)
    rec = d.record
    queue.push(...d.effects)
  }
  return rec
}

async function perform (r: NodeRecord, effect: NodeEffect, deps: NodeDriverDeps): Promise<NodeEvent> {
  const by = deps.self
  const where = { region: r.spec.region, zone: r.spec.zone }
  try {
    const p = await deps.provider()
    switch (effect.type) {
      case 'ensure': {
        const mine = (await p.list(deps.cluster, where)).filter(m => m.name === r.name && m.state !== 'terminated')
        const machine = mine.find(m => m.id === r.cloudId) ?? mine[0] ?? await p.create(await deps.machineSpec(r))
        return { type: 'node.ensured', now: deps.now(), by, machine }
      }
      case 'describe': {
        const ref: MachineRef = { id: r.cloudId ?? '', region: r.spec.region, zone: r.spec.zone }
        const machine = r.cloudId === null ? null : await p.describe(ref)
        // several machines for one node (a create raced a takeover): keep ours, destroy the others
        const extra = (await p.list(deps.cluster, where)).filter(m => m.name === r.name && m.id !== r.cloudId && m.state !== 'terminated')
        for (const m of extra) await p.destroy(m)
        return { type: 'node.described', now: deps.now(), by, machine }
      }
      case 'destroy': {
        const all = (await p.list(deps.cluster, where)).filter(m => m.name === r.name || m.id === r.cloudId)
        for (const m of all.filter(m => m.state !== 'terminated')) await p.destroy(m)
        if (r.cloudId !== null && !all.some(m => m.id === r.cloudId)) await p.destroy({ id: r.cloudId, region: r.spec.region, zone: r.spec.zone })
        const left = (await p.list(deps.cluster, where)).filter(m => (m.name === r.name || m.id === r.cloudId) && m.state !== 'terminated' && m.state !== 'stopping')
        if (left.length > 0) {
          return { type: 'node.destroy-failed', now: deps.now(), by, failure: { code: 'unavailable', message: `still running after terminate: ${left.map(m => `${m.id} (${m.state})`).join(', ')}`, retryable: true } }
        }
        return { type: 'node.destroyed', now: deps.now(), by }
      }
    }
  } catch (err) {
    const failure = failureOf(err)
    if (effect.type === 'ensure') return { type: 'node.ensure-failed', now: deps.now(), by, failure }
    if (effect.type === 'describe') return { type: 'node.describe-failed', now: deps.now(), by, failure }
    return { type: 'node.destroy-failed', now: deps.now(), by, failure }
  }
}
