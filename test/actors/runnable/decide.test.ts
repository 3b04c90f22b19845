// The runnable actor's pure reconcile as table tests: restart policy with backoff, readiness,
// depends, stop, purge, loss of ownership, change of generation, adoption. Time is only what the
// events say (no clock, no sleeping).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { decide, DEPENDS_POLL_MS, initialRecord, type Assignment, type Plan, type RunnableEffect, type RunnableEvent, type RunnableRecord } from '../../../actors/runnable/decide.js'
import type { WantRecord } from '../../../actors/state.js'

const want = (over: Partial<WantRecord> = {}): WantRecord => ({ template: 't/web', state: 'run', root: 't/web', set: {}, tags: [], peer: null, forceMove: 0, generation: 1, updatedAt: 0, ...over })
const own = (w: WantRecord | undefined = want(), over: Partial<Assignment> = {}): Assignment => ({ want: w, owner: true, epoch: 3, ownerId: 'me', unplacedReason: null, purge: w === undefined, ...over })
const plain: Plan = { readiness: null, dependsTimeoutMs: 60_000, restart: true }
const checked: Plan = { readiness: { periodMs: 1000, initialDelayMs: 500, attempts: 3 }, dependsTimeoutMs: 60_000, restart: true }
const noRestart: Plan = { ...plain, restart: false }

const assign = (now: number, a: Assignment): RunnableEvent => ({ type: 'runnable.assigned', now, assignment: a })
const observe = (now: number, o: { up?: boolean[], deps?: Array<[string, boolean]>, prior?: { generation: number, state: string }, plan?: Plan } = {}): RunnableEvent => ({
  type: 'runnable.observed', now, containers: (o.up ?? []).map(running => ({ running })), depends: (o.deps ?? []).map(([target, ready]) => ({ target, ready })), prior: o.prior ?? null, plan: o.plan ?? plain,
})

/** Applies events in order; returns the last decision. */
function run (r: RunnableRecord, ...events: RunnableEvent[]): { record: RunnableRecord, effects: RunnableEffect[] } {
  let d = { record: r, effects: [] as RunnableEffect[] }
  for (const e of events) d = decide(d.record, e)
  return d
}
const fresh = (): RunnableRecord => initialRecord('t/web')
const kinds = (effects: RunnableEffect[]): string[] => effects.map(e => e.type === 'status' ? `status:${e.state}` : e.type === 'wake' ? `wake:${e.at}` : e.type)

// Ready-made states.
const starting = (plan: Plan = plain): RunnableRecord => run(fresh(), assign(1000, own()), observe(1000, { plan })).record
const running = (): RunnableRecord => run(starting(), { type: 'runnable.started', now: 2000, op: 1, plan: plain }).record
const checking = (): RunnableRecord => run(starting(checked), { type: 'runnable.started', now: 2000, op: 1, plan: checked }).record
const startFailed = (plan: Plan = plain): RunnableRecord => run(starting(plan), { type: 'runnable.start-failed', now: 2000, op: 1, error: 'image not found', plan }).record

interface Case { name: string, start: () => RunnableRecord, events: RunnableEvent[], phase: string, effects: string[], check?: (r: RunnableRecord, effects: RunnableEffect[]) => void }

const cases: Case[] = [
  // placement and start
  { name: 'assigned as owner → claim with the epoch, then observe', start: fresh, events: [assign(1000, own())], phase: 'idle', effects: ['claim', 'observe'], check: (_r, e) => assert.equal(e[0], { type: 'claim', epoch: 3 }) },
  { name: 'observed nothing running → status starting, start op 1 for generation 1', start: () => run(fresh(), assign(1000, own())).record, events: [observe(1000)], phase: 'starting', effects: ['status:starting', 'start'], check: (r, e) => { assert.is(r.busy, 'start'); assert.equal(e[1], { type: 'start', op: 1, generation: 1 }); assert.equal(r.started, { generation: 1, template: 't/web' }) } },
  { name: 'started without readiness → running and ready', start: starting, events: [{ type: 'runnable.started', now: 2000, op: 1, plan: plain }], phase: 'running', effects: ['status:running'], check: r => { assert.ok(r.ready); assert.is(r.busy, null) } },
  { name: 'a tick while starting does nothing', start: starting, events: [observe(1500, { up: [true] })], phase: 'starting', effects: [] },
  { name: 'progress of the start in flight is published as waiting', start: starting, events: [{ type: 'runnable.progressed', now: 1200, op: 1, waiting: 'image busybox:1' }], phase: 'starting', effects: ['status:starting'], check: (r, e) => { assert.is(r.waiting, 'image busybox:1'); assert.equal(e[0], { type: 'status', state: 'starting', ready: false, error: null, waiting: 'image busybox:1' }) } },
  { name: 'running, all containers up → nothing to do', start: running, events: [observe(5000, { up: [true, true] })], phase: 'running', effects: [] },

  // readiness
  { name: 'started with readiness → checking, first attempt after initialDelay', start: () => starting(checked), events: [{ type: 'runnable.started', now: 2000, op: 1, plan: checked }], phase: 'checking', effects: ['status:starting', 'wake:2500'], check: r => { assert.is(r.checkAt, 2500); assert.is(r.waiting, 'readiness') } },
  { name: 'checking, before checkAt → wake at checkAt', start: checking, events: [observe(2200, { up: [true], plan: checked })], phase: 'checking', effects: ['wake:2500'] },
  { name: 'checking, at checkAt → one attempt', start: checking, events: [observe(2500, { up: [true], plan: checked })], phase: 'checking', effects: ['check'], check: r => assert.is(r.busy, 'check') },
  { name: 'a failed attempt → the next one a period later', start: checking, events: [observe(2500, { up: [true], plan: checked }), { type: 'runnable.checked', now: 2600, op: 1, ready: false, plan: checked }], phase: 'checking', effects: ['wake:3600'], check: r => assert.is(r.checks, 1) },
  { name: 'a passed attempt → running and ready, failures reset', start: checking, events: [observe(2500, { up: [true], plan: checked }), { type: 'runnable.checked', now: 2600, op: 1, ready: true, plan: checked }], phase: 'running', effects: ['status:running'], check: r => { assert.ok(r.ready); assert.is(r.waiting, null) } },
  {
    name: 'every attempt failed → failed "readiness check failed", containers kept, one re-check per tick',
    start: checking,
    events: [2500, 3600, 4700].flatMap(t => [observe(t, { up: [true], plan: checked }), { type: 'runnable.checked' as const, now: t + 100, op: 1, ready: false, plan: checked }]),
    phase: 'failed', effects: ['status:failed'],
    check: r => {
      assert.match(r.error ?? '', /readiness check failed/)
      const next = decide(r, observe(6000, { up: [true], plan: checked }))
      assert.equal(kinds(next.effects), ['check'])
    },
  },
  { name: 'a stale readiness result (older op) is ignored', start: checking, events: [{ type: 'runnable.checked', now: 2600, op: 0, ready: true, plan: checked }], phase: 'checking', effects: [] },
  { name: 'a container dies while checking → failed, restart after 1 s', start: checking, events: [observe(2500, { up: [false], plan: checked })], phase: 'failed', effects: ['status:failed', 'wake:3500'] },

  // restart policy with backoff
  { name: 'start failed → failed with the error, restart planned after 1 s', start: starting, events: [{ type: 'runnable.start-failed', now: 2000, op: 1, error: 'image not found', plan: plain }], phase: 'failed', effects: ['status:failed', 'wake:3000'], check: r => { assert.is(r.error, 'image not found'); assert.is(r.failures, 1) } },
  { name: 'failed, tick before the retry → wake at the retry time', start: startFailed, events: [observe(2500)], phase: 'failed', effects: ['wake:3000'] },
  { name: 'failed, tick at the retry time → start again (op 2)', start: startFailed, events: [observe(3000)], phase: 'starting', effects: ['status:starting', 'start'], check: r => assert.is(r.op, 2) },
  { name: 'a second failure in a row waits 2 s, a third 4 s', start: startFailed, events: [observe(3000), { type: 'runnable.start-failed', now: 3100, op: 2, error: 'x', plan: plain }, observe(5100), { type: 'runnable.start-failed', now: 5200, op: 3, error: 'x', plan: plain }], phase: 'failed', effects: ['status:failed', 'wake:9200'], check: r => assert.is(r.failures, 3) },
  { name: 'the backoff stops growing at 30 s', start: () => ({ ...startFailed(), failures: 9 }), events: [observe(3000), { type: 'runnable.start-failed', now: 4000, op: 2, error: 'x', plan: plain }], phase: 'failed', effects: ['status:failed', 'wake:34000'] },
  { name: 'a nudge (a secret grant arrived) during the backoff → the retry is now: observe, then start at once', start: startFailed, events: [{ type: 'runnable.nudged', now: 2100 }], phase: 'failed', effects: ['observe'], check: r => { assert.is(r.retryAt, 2100); assert.equal(kinds(decide(r, observe(2100)).effects), ['status:starting', 'start']) } },
  { name: 'a start blocked on a secret grant → status starting with the reason, looked at again after a poll', start: starting, events: [{ type: 'runnable.start-blocked', now: 1500, op: 1, waiting: 'waiting for an operator to grant secret db' }], phase: 'waiting', effects: ['status:starting', `wake:${1500 + DEPENDS_POLL_MS}`], check: (r, e) => { assert.is(r.waiting, 'waiting for an operator to grant secret db'); assert.is(r.error, null); assert.is(r.busy, null); assert.equal(e[0], { type: 'status', state: 'starting', ready: false, error: null, waiting: 'waiting for an operator to grant secret db' }); assert.equal(kinds(decide(r, observe(1500 + DEPENDS_POLL_MS)).effects), ['status:starting', 'start']) } },
  { name: 'a start blocked, then nudged (the grant arrived) → observe at once', start: () => run(starting(), { type: 'runnable.start-blocked', now: 1500, op: 1, waiting: 'w' }).record, events: [{ type: 'runnable.nudged', now: 1510 }], phase: 'waiting', effects: ['observe'] },
  { name: 'a stale start-blocked (another op) → nothing', start: starting, events: [{ type: 'runnable.start-blocked', now: 1500, op: 7, waiting: 'w' }], phase: 'starting', effects: [] },
  { name: 'a nudge while running → nothing', start: running, events: [{ type: 'runnable.nudged', now: 3000 }], phase: 'running', effects: [] },
  { name: 'a nudge after restart: no → stays failed', start: () => startFailed(noRestart), events: [{ type: 'runnable.nudged', now: 3000 }], phase: 'failed', effects: [] },
  { name: 'restart: no on every container → a failure stays failed', start: () => starting(noRestart), events: [{ type: 'runnable.start-failed', now: 2000, op: 1, error: 'boom', plan: noRestart }, observe(60_000, { plan: noRestart })], phase: 'failed', effects: [], check: r => assert.is(r.retryAt, 0) },
  { name: 'running, a container stopped → failed, restart after 1 s', start: running, events: [observe(5000, { up: [true, false] })], phase: 'failed', effects: ['status:failed', 'wake:6000'], check: r => assert.match(r.error ?? '', /not running/) },
  { name: 'running, the containers vanished → failed, then replaced at the retry', start: running, events: [observe(5000, { up: [] }), observe(6000, { up: [] })], phase: 'starting', effects: ['status:starting', 'start'] },
  { name: 'failed, the runtime brought the containers back → running again (no readiness)', start: running, events: [observe(5000, { up: [false] }), observe(5500, { up: [true] })], phase: 'running', effects: ['status:running'], check: r => assert.is(r.failures, 0) },

  // depends
  { name: 'a depends target not ready → waiting "depends t/db", poll again soon', start: () => run(fresh(), assign(1000, own())).record, events: [observe(1000, { deps: [['t/db', false]] })], phase: 'waiting', effects: ['status:starting', `wake:${1000 + DEPENDS_POLL_MS}`], check: (r, e) => { assert.is(r.waiting, 'depends t/db'); assert.equal(e[0], { type: 'status', state: 'starting', ready: false, error: null, waiting: 'depends t/db' }) } },
  { name: 'still waiting → no new status, another poll', start: () => run(fresh(), assign(1000, own()), observe(1000, { deps: [['t/db', false]] })).record, events: [observe(1250, { deps: [['t/db', false]] })], phase: 'waiting', effects: [`wake:${1250 + DEPENDS_POLL_MS}`] },
  { name: 'waits on the first target not ready, in order', start: () => run(fresh(), assign(1000, own())).record, events: [observe(1000, { deps: [['t/db', true], ['t/cache', false]] })], phase: 'waiting', effects: ['status:starting', 'wake:1250'], check: r => assert.is(r.waiting, 'depends t/cache') },
  { name: 'every target ready → start', start: () => run(fresh(), assign(1000, own()), observe(1000, { deps: [['t/db', false]] })).record, events: [observe(2000, { deps: [['t/db', true]] })], phase: 'starting', effects: ['status:starting', 'start'] },
  { name: 'a target not ready within the timeout → failed depends-timeout, restart later', start: () => run(fresh(), assign(1000, own()), observe(1000, { deps: [['t/db', false]] })).record, events: [observe(61_001, { deps: [['t/db', false]] })], phase: 'failed', effects: ['status:failed', 'wake:62001'], check: r => assert.match(r.error ?? '', /t\/db was not running and ready within 60 s \(depends.wait-for\)/) },

  // stop and purge
  { name: 'stop on the owner → remove with hooks, unclaim, status stopped', start: running, events: [assign(9000, own(want({ state: 'stop' })))], phase: 'stopped', effects: ['remove', 'unclaim', 'status:stopped'], check: (r, e) => { assert.equal(e[0], { type: 'remove', hooks: true }); assert.is(r.started, null) } },
  { name: 'stop while starting → abort the start first', start: starting, events: [assign(1500, own(want({ state: 'stop' })))], phase: 'stopped', effects: ['abort', 'remove', 'unclaim', 'status:stopped'], check: r => { assert.is(r.busy, null); assert.is(r.op, 2) } },
  { name: 'a stopped instance ignores ticks', start: () => run(running(), assign(9000, own(want({ state: 'stop' })))).record, events: [observe(10_000, { up: [] })], phase: 'stopped', effects: [] },
  { name: 'purge → remove, unclaim, drop the status, delete the files', start: running, events: [assign(9000, own(undefined, { owner: false, purge: true }))], phase: 'idle', effects: ['remove', 'unclaim', 'unstatus', 'purge'] },

  // loss of ownership
  { name: 'another peer is placed → hold nothing (no purge of files)', start: running, events: [assign(9000, own(want(), { owner: false, ownerId: 'other', epoch: 4 }))], phase: 'idle', effects: ['remove', 'unclaim', 'unstatus'] },
  { name: 'lost while starting → abort, and the late started result is stale', start: starting, events: [assign(1500, own(want(), { owner: false, ownerId: 'other' })), { type: 'runnable.started', now: 1600, op: 1, plan: plain }], phase: 'idle', effects: [], check: r => assert.is(r.started, null) },
  { name: 'ownership back later → claim and start afresh', start: () => run(running(), assign(9000, own(want(), { owner: false }))).record, events: [assign(10_000, own(want(), { epoch: 5 })), observe(10_000)], phase: 'starting', effects: ['status:starting', 'start'] },

  // change of generation
  { name: 'a new generation while running → replace (start op 2 for generation 2)', start: running, events: [assign(9000, own(want({ generation: 2 }))), observe(9000, { up: [true] })], phase: 'starting', effects: ['status:starting', 'start'], check: (r, e) => { assert.equal(e[1], { type: 'start', op: 2, generation: 2 }); assert.equal(r.started, { generation: 2, template: 't/web' }) } },
  { name: 'a new generation while the old one starts → abort it, start the new one', start: starting, events: [assign(1500, own(want({ generation: 2 }))), observe(1500)], phase: 'starting', effects: ['abort', 'status:starting', 'start'], check: r => assert.is(r.op, 3) },
  { name: 'a new generation resets the failure count', start: () => ({ ...startFailed(), failures: 5 }), events: [assign(2100, own(want({ generation: 2 }))), observe(2100)], phase: 'starting', effects: ['status:starting', 'start'], check: r => assert.is(r.failures, 0) },

  // adoption after a daemon restart
  { name: 'containers up and my earlier status running at this generation → adopt, no restart', start: () => run(fresh(), assign(1000, own())).record, events: [observe(1000, { up: [true], prior: { generation: 1, state: 'running' } })], phase: 'running', effects: ['status:running'] },
  { name: 'containers up but the earlier status is of another generation → replace', start: () => run(fresh(), assign(1000, own(want({ generation: 2 })))).record, events: [observe(1000, { up: [true], prior: { generation: 1, state: 'running' } })], phase: 'starting', effects: ['status:starting', 'start'] },
]

const Decide = suite('runnable: decide (table)')
for (const c of cases) {
  Decide(c.name, () => {
    const d = run(c.start(), ...c.events)
    assert.is(d.record.phase, c.phase)
    assert.equal(kinds(d.effects), c.effects)
    c.check?.(d.record, d.effects)
  })
}
const Live = suite('runnable: decide (liveness)')
const live: Plan = { ...plain, liveness: { periodMs: 1000, initialDelayMs: 0, attempts: 2 } }
const liveRunning = (): RunnableRecord => run(fresh(), assign(1000, own()), observe(1000, { plan: live }), { type: 'runnable.started', now: 2000, op: 1, plan: live }).record
const liveCheck = (now: number, alive: boolean, op = 1): RunnableEvent => ({ type: 'runnable.live-checked', now, op, alive, detail: alive ? '' : 'no heartbeat', plan: live })
Live('running: the first attempt one period after the first look, then one per period while alive', () => {
  const a = run(liveRunning(), observe(2100, { up: [true], plan: live }))
  assert.equal(kinds(a.effects), ['wake:3100'])
  const b = run(a.record, observe(3100, { up: [true], plan: live }))
  assert.equal(kinds(b.effects), ['live'])
  assert.is(b.record.busy, 'live')
  const c = run(b.record, liveCheck(3150, true))
  assert.equal(kinds(c.effects), ['wake:4150'])
  assert.equal([c.record.phase, c.record.liveFails, c.record.busy], ['running', 0, null])
})
Live('failures below attempts keep it running; reaching attempts restarts the containers with an event', () => {
  const first = run(liveRunning(), observe(2100, { up: [true], plan: live }), observe(3100, { up: [true], plan: live }), liveCheck(3150, false))
  assert.equal([first.record.phase, first.record.liveFails], ['running', 1])
  assert.equal(kinds(first.effects), ['wake:4150'])
  const second = run(first.record, observe(4150, { up: [true], plan: live }), liveCheck(4200, false))
  assert.is(second.record.phase, 'failed')
  assert.is(second.record.started, null, 'the containers are to be replaced')
  assert.equal(kinds(second.effects), ['status:failed', 'wake:4200'])
  assert.match(second.record.events[0]?.message ?? '', /liveness check failed 2 times in a row \(no heartbeat\): containers restarted/)
  // the next look starts again (op 2), even though the containers are still up
  const again = run(second.record, observe(4200, { up: [true], plan: live, prior: { generation: 1, state: 'failed' } }))
  assert.equal(kinds(again.effects), ['status:starting', 'start'])
  assert.equal(again.effects[1], { type: 'start', op: 2, generation: 1, replace: true }, 'every container is replaced, changed or not')
  assert.is(again.record.replaceAll, false)
  assert.equal(again.record.events.length, 1, 'the event stays for describe')
})
Live('a stale result (older op) or one without liveness in the plan changes nothing', () => {
  const r = run(liveRunning(), observe(2100, { up: [true], plan: live }), observe(3100, { up: [true], plan: live })).record
  assert.equal(decide(r, liveCheck(3150, false, 0)).effects, [])
  assert.equal(decide(liveRunning(), observe(9000, { up: [true], plan: plain })).effects, [])
})

Decide.run()
Live.run()
