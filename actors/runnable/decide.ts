// The runnable's reconcile as a pure function (as node.ts does for machines): the record of what
// this peer does for one instance, and an event (placement assigned it, the shell observed the
// runtime and the replica, a start or readiness attempt finished) → the next record and the effects
// the shell (actor.ts) performs in order. Time comes in the events; nothing here sleeps or reads a
// clock, so table tests drive every timer by hand.
//
// Phases on the owner: waiting (for `depends`) → starting (containers being created) → checking
// (readiness attempts) → running; failed (with the error) restarts after a backoff unless every
// container says `restart: no`. A peer that is not the owner, or a stopped or purged instance,
// holds nothing: it removes its containers, claim and status (and the files, on purge).
import { backoffMs, type Backoff } from '../kit/index.js'
import type { WantRecord } from '../state.js'

/** This peer's part for one instance, from placement. */
export interface Assignment {
  want: WantRecord | undefined
  /** True when this peer is the placed owner. */
  owner: boolean
  epoch: number
  /** Peer id of the owner (for status mirrors and forwarding), or null when unplaced. */
  ownerId: string | null
  unplacedReason: string | null
  purge: boolean
}

export type Phase = 'idle' | 'stopped' | 'waiting' | 'starting' | 'checking' | 'running' | 'failed'

export interface RunnableRecord {
  instance: string
  assignment: Assignment | null
  phase: Phase
  /** What the containers of this peer were started for, or null when it runs nothing. */
  started: { generation: number, template: string } | null
  /** Id of the current start or readiness attempt; results of older ones are stale. */
  op: number
  /** A start or readiness attempt is in flight. */
  busy: 'start' | 'check' | 'live' | null
  /** When this start began waiting for `depends` (0: not waiting). */
  waitSince: number
  /** What a waiting start waits for (`depends t/db`), or null. */
  waiting: string | null
  /** Failed starts (or crashes) in a row, for the backoff. */
  failures: number
  /** Earliest restart after a failure (0: none planned). */
  retryAt: number
  /** Readiness attempts made since the containers started. */
  checks: number
  /** Next readiness attempt. */
  checkAt: number
  ready: boolean
  error: string | null
  /** Next liveness attempt while running (0: not scheduled). */
  liveAt: number
  /** Failed liveness attempts in a row. */
  liveFails: number
  /** The last events worth showing in describe (liveness restarts), oldest first. */
  events: RunnableEventNote[]
  /** The next start replaces every container, changed or not (after a failed liveness check). */
  replaceAll?: boolean
}

/** A fact about the instance for describe: when and what. */
export interface RunnableEventNote { at: number, message: string }

/** Events kept per instance. */
export const EVENTS_KEPT = 10

/** What the shell read from the template for this decision. */
export interface Plan {
  readiness: { periodMs: number, initialDelayMs: number, attempts: number } | null
  /** `checks.liveness`: `attempts` failures in a row, `periodMs` apart, restart the containers. */
  liveness?: { periodMs: number, initialDelayMs: number, attempts: number } | null
  dependsTimeoutMs: number
  /** False when every container says `restart: no`: a failure stays failed. */
  restart: boolean
  /** A `service` node (spec §2.9): no containers, so nothing to watch: started is running. */
  containerless?: boolean
}

/** A container of this instance on this peer, as the runtime lists it. */
export interface Seen { running: boolean }

export type RunnableEvent =
  | { type: 'runnable.assigned', now: number, assignment: Assignment }
  /** The shell listed the containers and read the replica (on a tick or a wake-up). */
  | {
      type: 'runnable.observed'
      now: number
      containers: Seen[]
      /** Each `depends.wait-for` target and whether some peer reports it running and ready. */
      depends: Array<{ target: string, ready: boolean }>
      /** This peer's status in the replica from before (adoption after a daemon restart). */
      prior: { generation: number, state: string } | null
      plan: Plan
    }
  | { type: 'runnable.started', now: number, op: number, plan: Plan }
  | { type: 'runnable.start-failed', now: number, op: number, error: string, plan: Plan }
  /** A readiness attempt finished; `detail` says what a failed one gave (`the check gave false`). */
  | { type: 'runnable.checked', now: number, op: number, ready: boolean, detail?: string, plan: Plan }
  /** A liveness attempt finished (`alive` false also when its script failed). */
  | { type: 'runnable.live-checked', now: number, op: number, alive: boolean, detail: string, plan: Plan }
  /** Something a failed or blocked start may have waited for changed (a secret grant): try again now. */
  | { type: 'runnable.nudged', now: number }
  /** The start could not begin for a reason that passes without a fault (a secret not granted to this peer yet): wait, saying why. */
  | { type: 'runnable.start-blocked', now: number, op: number, waiting: string }
  /** The start in flight reached a step worth showing (`image busybox:1`). */
  | { type: 'runnable.progressed', now: number, op: number, waiting: string }

export type RunnableEffect =
  /** List containers and read the replica, then feed `runnable.observed`. */
  | { type: 'observe' }
  /** Cancel the start or check in flight (its result will be stale). */
  | { type: 'abort' }
  /** Write `claim/<inst>/<me>` with this epoch unless it already holds it. */
  | { type: 'claim', epoch: number }
  | { type: 'unclaim' }
  /** Remove this peer's containers of the instance; `hooks`: run the stopping/stopped hooks. */
  | { type: 'remove', hooks: boolean }
  /** Run the start pipeline (files, containers) as operation `op`, replacing any containers. */
  | { type: 'start', op: number, generation: number, replace?: true }
  /** One readiness attempt as operation `op`. */
  | { type: 'check', op: number }
  /** One liveness attempt as operation `op`. */
  | { type: 'live', op: number }
  /** Publish `status/<inst>/<me>` (containers and services filled in by the shell). */
  | { type: 'status', state: 'starting' | 'running' | 'stopped' | 'failed', ready: boolean, error: string | null, waiting: string | null }
  | { type: 'unstatus' }
  /** Delete the instance's directory (purge). */
  | { type: 'purge' }
  /** Observe again at `at` (sooner than the regular tick). */
  | { type: 'wake', at: number }

export interface RunnableDecision { record: RunnableRecord, effects: RunnableEffect[] }

/** How often a start waiting for `depends` looks again. */
export const DEPENDS_POLL_MS = 250

/** Restarts after failures: 1 s, 2 s, 4 s ... up to 30 s (no jitter: one owner restarts). */
export const restartBackoff: Backoff = { initialMs: 1000, factor: 2, maxMs: 30_000 }

export function initialRecord (instance: string): RunnableRecord {
  return { instance, assignment: null, phase: 'idle', started: null, op: 0, busy: null, waitSince: 0, waiting: null, failures: 0, retryAt: 0, checks: 0, checkAt: 0, ready: false, error: null, liveAt: 0, liveFails: 0, events: [] }
}

/** True when this peer should drive containers for the record's assignment. */
export function drives (r: RunnableRecord): boolean {
  return r.assignment !== null && r.assignment.owner && r.assignment.want?.state === 'run'
}

export function decide (r: RunnableRecord, ev: RunnableEvent): RunnableDecision {
  switch (ev.type) {
    case 'runnable.assigned': return assigned(r, ev.assignment)
    case 'runnable.observed': return observed(r, ev)
    case 'runnable.started': return started(r, ev)
    case 'runnable.start-failed': return ev.op === r.op && r.busy === 'start' ? failed({ ...r, busy: null }, ev.now, ev.error, ev.plan.restart) : same(r)
    case 'runnable.checked': return checked(r, ev)
    case 'runnable.live-checked': return liveChecked(r, ev)
    case 'runnable.nudged':
      if (!drives(r) || r.busy !== null) return same(r)
      if (r.phase === 'failed' && r.retryAt > ev.now) return { record: { ...r, retryAt: ev.now }, effects: [{ type: 'observe' }] }
      return r.phase === 'waiting' ? { record: r, effects: [{ type: 'observe' }] } : same(r)
    case 'runnable.start-blocked': {
      if (ev.op !== r.op || r.busy !== 'start') return same(r)
      // like waiting for `depends`: status starting with the reason, looked at again every poll (or when nudged)
      const rec: RunnableRecord = { ...r, busy: null, phase: 'waiting', waitSince: ev.now, waiting: ev.waiting, ready: false, error: null }
      return { record: rec, effects: [{ type: 'status', state: 'starting', ready: false, error: null, waiting: ev.waiting }, { type: 'wake', at: ev.now + DEPENDS_POLL_MS }] }
    }
    case 'runnable.progressed': {
      if (ev.op !== r.op || r.busy !== 'start' || r.waiting === ev.waiting) return same(r)
      const rec = { ...r, waiting: ev.waiting }
      return { record: rec, effects: [status(rec)] }
    }
  }
}

const same = (r: RunnableRecord): RunnableDecision => ({ record: r, effects: [] })

function assigned (prev: RunnableRecord, a: Assignment): RunnableDecision {
  const r = { ...prev, assignment: a }
  if (!drives(r)) {
    // Not ours to run (lost ownership, stopped, purged or unplaced): hold nothing.
    const effects: RunnableEffect[] = []
    if (r.busy !== null) effects.push({ type: 'abort' })
    effects.push({ type: 'remove', hooks: true }, { type: 'unclaim' })
    // A stop (the want says stop) on the owner, or on the peer that ran it (placement places only
    // wanted-running instances, so a stopped one has no owner): its status says stopped and its
    // containers stay, stopped, so their logs can be read until purge.
    const stop = a.want?.state === 'stop' && (a.owner || prev.started !== null || prev.phase === 'stopped' || prev.phase === 'running' || prev.phase === 'failed')
    effects.push(stop ? { type: 'status', state: 'stopped', ready: false, error: null, waiting: null } : { type: 'unstatus' })
    if (a.purge) effects.push({ type: 'purge' })
    return { record: { ...reset(r), phase: stop ? 'stopped' : 'idle' }, effects }
  }
  return { record: r, effects: [{ type: 'claim', epoch: a.epoch }, { type: 'observe' }] }
}

/** Forgets the containers and any operation in flight (a later result is stale). */
function reset (r: RunnableRecord): RunnableRecord {
  return { ...r, started: null, op: r.busy !== null ? r.op + 1 : r.op, busy: null, waitSince: 0, waiting: null, failures: 0, retryAt: 0, checks: 0, checkAt: 0, ready: false, error: null }
}

function observed (r: RunnableRecord, ev: Extract<RunnableEvent, { type: 'runnable.observed' }>): RunnableDecision {
  const want = r.assignment?.want
  if (!drives(r) || want === undefined) return same(r)
  const current = r.started !== null && r.started.generation === want.generation && r.started.template === want.template
  if (!current && r.busy !== null) {
    // A new generation (or template) while the old one is starting or checking: replace it.
    return begin({ ...r, op: r.op + 1, busy: null, failures: 0 }, want, ev, [{ type: 'abort' }])
  }
  if (r.busy !== null) return same(r)
  const { containers, now, plan } = ev
  const allRunning = plan.containerless === true || (containers.length > 0 && containers.every(c => c.running))
  if (r.started === null && allRunning && ev.prior !== null && ev.prior.generation === want.generation && ev.prior.state === 'running') {
    // A restarted daemon finds its containers up and its earlier status running: adopt them.
    const rec: RunnableRecord = { ...r, started: { generation: want.generation, template: want.template }, phase: 'running', ready: true, error: null }
    return { record: rec, effects: [status(rec)] }
  }
  if (!current) return begin({ ...r, failures: r.started !== null && r.started.generation !== want.generation ? 0 : r.failures }, want, ev, [])
  switch (r.phase) {
    case 'waiting': return begin(r, want, ev, [])
    case 'checking':
      if (!allRunning) return failed(r, now, `a container of ${r.instance} is not running`, plan.restart)
      if (now < r.checkAt) return { record: r, effects: [{ type: 'wake', at: r.checkAt }] }
      return { record: { ...r, busy: 'check' }, effects: [{ type: 'check', op: r.op }] }
    case 'running': {
      if (!allRunning) return failed(r, now, `a container of ${r.instance} is not running`, plan.restart)
      const live = plan.liveness
      if (!live) return same(r)
      if (r.liveAt === 0) {
        // first look after (re)start: the first attempt after the initial delay (at least one period)
        const liveAt = now + Math.max(live.initialDelayMs, live.periodMs)
        return { record: { ...r, liveAt, liveFails: 0 }, effects: [{ type: 'wake', at: liveAt }] }
      }
      if (now < r.liveAt) return { record: r, effects: [{ type: 'wake', at: r.liveAt }] }
      return { record: { ...r, busy: 'live' }, effects: [{ type: 'live', op: r.op }] }
    }
    case 'failed':
      if (allRunning && !r.ready) {
        // The containers came (back) up after a failure: one readiness attempt per tick.
        if (plan.readiness === null) return ok({ ...r, phase: 'running' })
        return { record: { ...r, busy: 'check' }, effects: [{ type: 'check', op: r.op }] }
      }
      if (!allRunning && plan.restart && r.retryAt > 0) {
        if (now >= r.retryAt) return begin(r, want, ev, [])
        return { record: r, effects: [{ type: 'wake', at: r.retryAt }] }
      }
      return same(r)
    default: return begin(r, want, ev, [])
  }
}

/** Starts (or keeps waiting for `depends`): the containers of this peer are replaced. */
function begin (r: RunnableRecord, want: WantRecord, ev: Extract<RunnableEvent, { type: 'runnable.observed' }>, pre: RunnableEffect[]): RunnableDecision {
  const waitSince = r.phase === 'waiting' && r.waitSince > 0 ? r.waitSince : ev.now
  const pending = ev.depends.find(d => !d.ready)
  if (pending !== undefined) {
    if (ev.now - waitSince > ev.plan.dependsTimeoutMs) {
      const rec = { ...r, phase: 'waiting' as const, waitSince: 0, waiting: null, started: { generation: want.generation, template: want.template } }
      return withPre(pre, failed(rec, ev.now, `${r.instance}: ${pending.target} was not running and ready within ${Math.round(ev.plan.dependsTimeoutMs / 1000)} s (depends.wait-for)`, ev.plan.restart))
    }
    const waiting = `depends ${pending.target}`
    const rec: RunnableRecord = { ...r, phase: 'waiting', waitSince, waiting, ready: false, error: null }
    const effects: RunnableEffect[] = [...pre]
    if (r.phase !== 'waiting' || r.waiting !== waiting) effects.push({ type: 'status', state: 'starting', ready: false, error: null, waiting })
    effects.push({ type: 'wake', at: ev.now + DEPENDS_POLL_MS })
    return { record: rec, effects }
  }
  const op = r.op + 1
  const rec: RunnableRecord = {
    ...r, phase: 'starting', op, busy: 'start', waitSince: 0, waiting: null, retryAt: 0, checks: 0, checkAt: 0, ready: false, error: null, liveAt: 0, liveFails: 0,
    started: { generation: want.generation, template: want.template },
  }
  const start: RunnableEffect = r.replaceAll === true ? { type: 'start', op, generation: want.generation, replace: true } : { type: 'start', op, generation: want.generation }
  return { record: { ...rec, replaceAll: false }, effects: [...pre, { type: 'status', state: 'starting', ready: false, error: null, waiting: null }, start] }
}

function started (r: RunnableRecord, ev: Extract<RunnableEvent, { type: 'runnable.started' }>): RunnableDecision {
  if (ev.op !== r.op || r.busy !== 'start') return same(r)
  const rec: RunnableRecord = { ...r, busy: null }
  if (ev.plan.readiness === null) return ok({ ...rec, phase: 'running' })
  const checkAt = ev.now + ev.plan.readiness.initialDelayMs
  const next: RunnableRecord = { ...rec, phase: 'checking', checks: 0, checkAt, waiting: 'readiness' }
  if (checkAt > ev.now) return { record: next, effects: [status(next), { type: 'wake', at: checkAt }] }
  return { record: { ...next, busy: 'check' }, effects: [status(next), { type: 'check', op: r.op }] }
}

function checked (r: RunnableRecord, ev: Extract<RunnableEvent, { type: 'runnable.checked' }>): RunnableDecision {
  if (ev.op !== r.op || r.busy !== 'check') return same(r)
  const rec: RunnableRecord = { ...r, busy: null }
  if (ev.ready) return ok({ ...rec, phase: 'running' })
  if (r.phase === 'failed') return same(rec) // a re-check after a failure: try again next tick
  const checks = r.checks + 1
  const attempts = ev.plan.readiness?.attempts ?? 1
  if (checks >= attempts) {
    // Out of attempts: failed, but the containers stay; every tick checks once more (above).
    const f: RunnableRecord = { ...rec, checks, phase: 'failed', ready: false, error: `${r.instance}: readiness check failed ${checks} time${checks === 1 ? '' : 's'}${ev.detail ? `; the last time ${ev.detail}` : ''}`, retryAt: 0, waiting: null }
    return { record: f, effects: [status(f)] }
  }
  const checkAt = ev.now + (ev.plan.readiness?.periodMs ?? 0)
  return { record: { ...rec, checks, checkAt }, effects: [{ type: 'wake', at: checkAt }] }
}

function liveChecked (r: RunnableRecord, ev: Extract<RunnableEvent, { type: 'runnable.live-checked' }>): RunnableDecision {
  if (ev.op !== r.op || r.busy !== 'live') return same(r)
  const live = ev.plan.liveness
  const rec: RunnableRecord = { ...r, busy: null }
  if (!live || r.phase !== 'running') return same(rec)
  if (ev.alive) {
    const liveAt = ev.now + live.periodMs
    return { record: { ...rec, liveAt, liveFails: 0 }, effects: [{ type: 'wake', at: liveAt }] }
  }
  const liveFails = r.liveFails + 1
  if (liveFails < live.attempts) {
    const liveAt = ev.now + live.periodMs
    return { record: { ...rec, liveAt, liveFails }, effects: [{ type: 'wake', at: liveAt }] }
  }
  // Out of attempts: the containers are replaced now (the start pipeline removes the old ones).
  const message = `liveness check failed ${liveFails} time${liveFails > 1 ? 's' : ''} in a row${ev.detail ? ` (${ev.detail})` : ''}: containers restarted`
  const events = [...r.events, { at: ev.now, message }].slice(-EVENTS_KEPT)
  const f: RunnableRecord = { ...rec, phase: 'failed', started: null, ready: false, error: `${r.instance}: ${message}`, liveAt: 0, liveFails: 0, retryAt: 0, events, replaceAll: true }
  return { record: f, effects: [status(f), { type: 'wake', at: ev.now }] }
}

/** Running and ready: the failure count starts again. */
function ok (r: RunnableRecord): RunnableDecision {
  const rec: RunnableRecord = { ...r, ready: true, error: null, failures: 0, retryAt: 0, waiting: null }
  return { record: rec, effects: [status(rec)] }
}

/** A failed start or a crash: restart after the backoff, unless the policy says never. */
function failed (r: RunnableRecord, now: number, error: string, restart: boolean): RunnableDecision {
  const failures = r.failures + 1
  const retryAt = restart ? now + backoffMs(restartBackoff, failures) : 0
  const rec: RunnableRecord = { ...r, phase: 'failed', ready: false, error, failures, retryAt, waiting: null }
  const effects: RunnableEffect[] = [status(rec)]
  if (retryAt > 0) effects.push({ type: 'wake', at: retryAt })
  return { record: rec, effects }
}

function withPre (pre: RunnableEffect[], d: RunnableDecision): RunnableDecision {
  return { record: d.record, effects: [...pre, ...d.effects] }
}

function status (r: RunnableRecord): RunnableEffect {
  const state = r.phase === 'running' ? 'running' : r.phase === 'failed' ? 'failed' : r.phase === 'stopped' ? 'stopped' : 'starting'
  return { type: 'status', state, ready: r.ready, error: r.error, waiting: r.waiting }
}
