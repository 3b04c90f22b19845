// The node actor's pure logic (requested → creating → booting → joined → draining → gone, failed)
// as table tests, and its shell (runTick) against an in-memory provider.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ProviderError } from '../../actors/cloud/errors.js'
import type { Machine, MachineSpec, Provider } from '../../actors/cloud/provider.js'
import { decide, decodeNode, defaultNodeConfig, needsDriver, newNode, runTick, settled, type NodeConfig, type NodeEvent, type NodeRecord } from '../../actors/node.js'

const cfg: NodeConfig = { ...defaultNodeConfig, createTimeoutMs: 10_000, drainTimeoutMs: 10_000, maxAttempts: 3, retryInitialMs: 100, retryMaxMs: 1_000, describeEveryMs: 1_000 }
const spec = { region: 'eu-west-1', zone: null, instanceType: 't3.small', diskGb: 20, tags: ['web'], image: null, keyPair: null, bootTimeoutMs: 60_000 }
const fresh = (): NodeRecord => newNode({ name: 'web-1', provider: 'aws', spec, driver: 'p1', growId: 'g1', now: 1_000 })
const machine = (over: Partial<Machine> = {}): Machine => ({ id: 'i-1', name: 'web-1', state: 'pending', address: null, region: 'eu-west-1', zone: null, ...over })
const tick = (now: number, o: { joined?: string, drain?: boolean, by?: string } = {}): NodeEvent => ({ type: 'node.tick', now, by: o.by ?? 'p1', joined: o.joined ?? null, drain: o.drain ? { op: 'drain', at: now, by: 'p9', force: false } : null })
const quota = { code: 'quota', message: 'aws RunInstances failed: InstanceLimitExceeded: limit of 2', retryable: false }
const flaky = { code: 'unavailable', message: 'aws RunInstances failed: InternalError', retryable: true }

/** Applies events in order (each to the previous record); returns the last decision. */
function run (r: NodeRecord, ...events: NodeEvent[]): ReturnType<typeof decide> {
  let d = { record: r, effects: [] as ReturnType<typeof decide>['effects'] }
  for (const e of events) d = decide(d.record, e, cfg)
  return d
}

const Decide = suite('node: decide (table)')

const creating = (): NodeRecord => run(fresh(), tick(2_000)).record
const booting = (): NodeRecord => run(creating(), { type: 'node.ensured', now: 2_100, by: 'p1', machine: machine() }).record

const cases: Array<{ name: string, start: () => NodeRecord, events: NodeEvent[], state: string, effects: string[], check?: (r: NodeRecord) => void }> = [
  { name: 'requested + tick → creating, ensure', start: fresh, events: [tick(2_000)], state: 'creating', effects: ['ensure'], check: r => assert.is(r.deadline, 12_000) },
  { name: 'creating + ensured → booting with the cloud id and a boot deadline', start: creating, events: [{ type: 'node.ensured', now: 2_100, by: 'p1', machine: machine() }], state: 'booting', effects: [], check: r => { assert.is(r.cloudId, 'i-1'); assert.is(r.deadline, 62_100) } },
  { name: 'creating + transient failure → retry later with a warning', start: creating, events: [{ type: 'node.ensure-failed', now: 2_100, by: 'p1', failure: flaky }], state: 'creating', effects: [], check: r => { assert.is(r.attempts, 1); assert.is(r.retryAt, 2_200); assert.match(r.warning ?? '', /InternalError.*attempt 1 of 3/) } },
  { name: 'creating, tick before the retry time → nothing', start: () => run(creating(), { type: 'node.ensure-failed', now: 2_100, by: 'p1', failure: flaky }).record, events: [tick(2_150)], state: 'creating', effects: [] },
  { name: 'creating, tick after the retry time → ensure again', start: () => run(creating(), { type: 'node.ensure-failed', now: 2_100, by: 'p1', failure: flaky }).record, events: [tick(2_250)], state: 'creating', effects: ['ensure'] },
  { name: 'transient failures until maxAttempts → failed with the provider message, cleanup pending', start: creating, events: [{ type: 'node.ensure-failed', now: 2_100, by: 'p1', failure: flaky }, { type: 'node.ensure-failed', now: 2_300, by: 'p1', failure: flaky }, { type: 'node.ensure-failed', now: 2_600, by: 'p1', failure: flaky }], state: 'failed', effects: [], check: r => { assert.is(r.error?.code, 'unavailable'); assert.is(r.cleanup, 'pending') } },
  { name: 'quota → failed at once with the provider\'s message', start: creating, events: [{ type: 'node.ensure-failed', now: 2_100, by: 'p1', failure: quota }], state: 'failed', effects: [], check: r => { assert.is(r.error?.code, 'quota'); assert.match(r.error?.message ?? '', /InstanceLimitExceeded/); assert.is(r.cleanup, 'pending') } },
  { name: 'creating past its deadline → failed create-timeout, destroy', start: creating, events: [tick(12_001)], state: 'failed', effects: ['destroy'], check: r => assert.is(r.error?.code, 'create-timeout') },
  { name: 'booting + a live peer of that name → joined', start: booting, events: [tick(3_000, { joined: 'peerX' })], state: 'joined', effects: [], check: r => { assert.is(r.peerId, 'peerX'); assert.ok(settled(r)) } },
  { name: 'booting, describe is due → describe', start: booting, events: [tick(3_200)], state: 'booting', effects: ['describe'], check: r => assert.is(r.describeAt, 4_200) },
  { name: 'booting, describe not due → nothing', start: booting, events: [tick(2_500)], state: 'booting', effects: [] },
  { name: 'booting, the machine is terminated → failed machine-lost, destroy', start: booting, events: [{ type: 'node.described', now: 3_000, by: 'p1', machine: machine({ state: 'terminated' }) }], state: 'failed', effects: ['destroy'], check: r => assert.is(r.error?.code, 'machine-lost') },
  { name: 'booting, the machine is gone → failed machine-lost', start: booting, events: [{ type: 'node.described', now: 3_000, by: 'p1', machine: null }], state: 'failed', effects: ['destroy'] },
  { name: 'booting, a describe fails → still booting, warning', start: booting, events: [{ type: 'node.describe-failed', now: 3_000, by: 'p1', failure: flaky }], state: 'booting', effects: [], check: r => assert.match(r.warning ?? '', /describe failed/) },
  { name: 'booting past the boot timeout → failed boot-timeout, destroy', start: booting, events: [tick(62_101)], state: 'failed', effects: ['destroy'], check: r => { assert.is(r.error?.code, 'boot-timeout'); assert.match(r.error?.message ?? '', /did not join the cluster within 60 s/) } },
  { name: 'joined + drain → draining, destroy', start: () => run(booting(), tick(3_000, { joined: 'peerX' })).record, events: [tick(4_000, { drain: true })], state: 'draining', effects: ['destroy'] },
  { name: 'draining + destroyed → gone', start: () => run(booting(), tick(3_000, { joined: 'peerX' }), tick(4_000, { drain: true })).record, events: [{ type: 'node.destroyed', now: 4_100, by: 'p1' }], state: 'gone', effects: [], check: r => { assert.ok(settled(r)); assert.is(r.cleanup, 'done') } },
  { name: 'requested + drain → draining without creating anything', start: fresh, events: [tick(2_000, { drain: true })], state: 'draining', effects: ['destroy'] },
  { name: 'draining, terminate refused for good → failed, cleanup stuck', start: () => run(fresh(), tick(2_000, { drain: true })).record, events: [{ type: 'node.destroy-failed', now: 2_100, by: 'p1', failure: { code: 'bad-credentials', message: 'AuthFailure', retryable: false } }], state: 'failed', effects: [], check: r => { assert.is(r.cleanup, 'stuck'); assert.match(r.error?.message ?? '', /could not terminate/) } },
  { name: 'failed with cleanup pending + tick → destroy', start: () => run(creating(), { type: 'node.ensure-failed', now: 2_100, by: 'p1', failure: quota }).record, events: [tick(2_200)], state: 'failed', effects: ['destroy'], check: r => assert.not.ok(settled(r)) },
  { name: 'failed + destroyed → cleanup done (settled)', start: () => run(creating(), { type: 'node.ensure-failed', now: 2_100, by: 'p1', failure: quota }).record, events: [{ type: 'node.destroyed', now: 2_200, by: 'p1' }], state: 'failed', effects: [], check: r => { assert.is(r.cleanup, 'done'); assert.ok(settled(r)); assert.is(r.error?.code, 'quota') } },
  { name: 'failed, cleanup hits a transient error → keeps retrying, never gives up', start: () => run(creating(), { type: 'node.ensure-failed', now: 2_100, by: 'p1', failure: quota }).record, events: [1, 2, 3, 4, 5].map(i => ({ type: 'node.destroy-failed' as const, now: 2_100 + i * 2_000, by: 'p1', failure: flaky })), state: 'failed', effects: [], check: r => { assert.is(r.cleanup, 'pending'); assert.is(r.retryAt, 12_100 + 1_000); assert.is(r.error?.code, 'quota') } },
  { name: 'failed, cleanup refused for good → stuck, saying so', start: () => run(creating(), { type: 'node.ensure-failed', now: 2_100, by: 'p1', failure: quota }).record, events: [{ type: 'node.destroy-failed', now: 2_200, by: 'p1', failure: { code: 'bad-credentials', message: 'AuthFailure', retryable: false } }], state: 'failed', effects: [], check: r => { assert.is(r.cleanup, 'stuck'); assert.match(r.error?.message ?? '', /cleanup failed too/) } },
  { name: 'a tick by another peer makes it the driver (takeover)', start: booting, events: [tick(2_500, { by: 'p2' })], state: 'booting', effects: [], check: r => assert.is(r.driver, 'p2') },
  { name: 'a late ensured after the node failed is ignored', start: () => run(creating(), { type: 'node.ensure-failed', now: 2_100, by: 'p1', failure: quota }).record, events: [{ type: 'node.ensured', now: 2_200, by: 'p1', machine: machine() }], state: 'failed', effects: [] },
]

for (const c of cases) {
  Decide(c.name, () => {
    const d = run(c.start(), ...c.events)
    assert.is(d.record.state, c.state)
    assert.equal(d.effects.map(e => e.type), c.effects)
    c.check?.(d.record)
  })
}

Decide('needsDriver: who must act', () => {
  const r = fresh()
  const drain = { op: 'drain' as const, at: 1, by: 'p', force: false }
  const table: Array<[Partial<NodeRecord>, boolean, boolean]> = [
    [{ state: 'requested' }, false, true], [{ state: 'creating' }, false, true], [{ state: 'booting' }, false, true],
    [{ state: 'joined' }, false, false], [{ state: 'joined' }, true, true], [{ state: 'draining' }, false, true],
    [{ state: 'gone' }, true, false], [{ state: 'failed', cleanup: 'pending' }, false, true], [{ state: 'failed', cleanup: 'done' }, false, false],
    [{ state: 'failed', cleanup: 'stuck' }, false, false],
  ]
  for (const [patch, withDrain, want] of table) assert.is(needsDriver({ ...r, ...patch }, withDrain ? drain : null), want, JSON.stringify(patch))
})

Decide('the history keeps every state with who moved it', () => {
  const d = run(fresh(), tick(2_000), { type: 'node.ensured', now: 2_100, by: 'p1', machine: machine() }, tick(3_000, { joined: 'x', by: 'p2' }))
  assert.equal(d.record.history.map(h => `${h.state}:${h.by}`), ['requested:p1', 'creating:p1', 'booting:p1', 'joined:p2'])
})

const Decode = suite('node: decodeNode')
Decode('round trip through plain data', () => {
  const r = run(fresh(), tick(2_000)).record
  assert.equal(decodeNode(JSON.parse(JSON.stringify(r))), r)
})
Decode('garbage is rejected, not trusted', () => {
  for (const v of [null, 1, 'x', [], {}, { ...fresh(), v: 2 }, { ...fresh(), provider: 'azure' }, { ...fresh(), state: 'exploded' }, { ...fresh(), spec: 'x' }]) assert.is(decodeNode(v), undefined)
})

// ---- the shell ----

class FakeProvider implements Provider {
  readonly kind = 'aws' as const
  machines: Machine[] = []
  creates = 0
  destroys: string[] = []
  createError: ProviderError | null = null
  async create (s: MachineSpec): Promise<Machine> {
    this.creates++
    if (this.createError) throw this.createError
    const m = machine({ id: `i-${this.machines.length + 1}`, name: s.name })
    this.machines.push(m)
    return m
  }
  async describe (ref: { id: string }): Promise<Machine | null> { return this.machines.find(m => m.id === ref.id) ?? null }
  async list (): Promise<Machine[]> { return [...this.machines] }
  async destroy (ref: { id: string }): Promise<void> {
    this.destroys.push(ref.id)
    this.machines = this.machines.map(m => m.id === ref.id ? { ...m, state: 'terminated' } : m)
  }
  async close (): Promise<void> {}
}

const Shell = suite('node: runTick with a provider')
const deps = (p: FakeProvider, now = 5_000) => ({
  self: 'p1', cluster: 'c1', cfg, now: () => now, provider: async () => p,
  machineSpec: async (r: NodeRecord) => await Promise.resolve({ name: r.name } as unknown as MachineSpec),
})

Shell('requested → booting in one tick: the create is performed and its result fed back', async () => {
  const p = new FakeProvider()
  const r = await runTick(fresh(), { now: 5_000, joined: null, drain: null }, deps(p))
  assert.is(r.state, 'booting')
  assert.is(r.cloudId, 'i-1')
  assert.is(p.creates, 1)
})

Shell('a takeover adopts the machine a dead driver created instead of creating another', async () => {
  const p = new FakeProvider()
  p.machines.push(machine({ id: 'i-77', state: 'running' }))
  const r = await runTick({ ...creating(), driver: 'dead-peer' }, { now: 5_000, joined: null, drain: null }, deps(p))
  assert.is(r.state, 'booting')
  assert.is(r.cloudId, 'i-77')
  assert.is(r.driver, 'p1')
  assert.is(p.creates, 0)
})

Shell('quota: failed with the message, the cleanup runs, nothing is left', async () => {
  const p = new FakeProvider()
  p.createError = new ProviderError({ code: 'quota', provider: 'aws', operation: 'RunInstances', providerCode: 'InstanceLimitExceeded', message: 'aws RunInstances for web-1 failed: InstanceLimitExceeded: limit 1' })
  const r = await runTick(fresh(), { now: 5_000, joined: null, drain: null }, deps(p))
  assert.is(r.state, 'failed')
  assert.is(r.error?.code, 'quota')
  assert.match(r.error?.message ?? '', /InstanceLimitExceeded/)
  const r2 = await runTick(r, { now: 5_100, joined: null, drain: null }, deps(p, 5_100))
  assert.is(r2.cleanup, 'done')
})

Shell('booting: extra machines of the same node (a race of two drivers) are destroyed', async () => {
  const p = new FakeProvider()
  const r = await runTick(fresh(), { now: 5_000, joined: null, drain: null }, deps(p))
  p.machines.push(machine({ id: 'i-dup', state: 'running' }))
  const r2 = await runTick(r, { now: 7_000, joined: null, drain: null }, deps(p, 7_000))
  assert.is(r2.state, 'booting')
  assert.equal(p.destroys, ['i-dup'])
})

Shell('drain: every machine of the node is terminated, then gone', async () => {
  const p = new FakeProvider()
  const joined = { ...booting(), state: 'joined' as const, cloudId: 'i-1' }
  p.machines.push(machine({ id: 'i-1', state: 'running' }))
  const r = await runTick(joined, { now: 5_000, joined: 'peerX', drain: { op: 'drain', at: 1, by: 'p2', force: false } }, deps(p))
  assert.is(r.state, 'gone')
  assert.equal(p.destroys, ['i-1'])
})

Decide.run()
Decode.run()
Shell.run()
