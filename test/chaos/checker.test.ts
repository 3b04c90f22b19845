// The chaos checker can fail: a lost write, a resurrected key, a failed write that took effect, a
// double run and a missing run fed into it are each counted. And one seed gives one schedule.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { allowedValues, checkRegisters, checkRuns, percentile, settledOps, wantedCopies, type KeyOp, type RunOp } from '../../chaos/checker.js'
import { parseSeed } from '../../chaos/random.js'
import { FAULT_KINDS, schedule, scheduleHash } from '../../chaos/schedule.js'

const P = ['secret/ns/']
const put = (key: string, value: string, seq: number, outcome: KeyOp['outcome'] = 'ok'): KeyOp => ({ key, op: 'put', value, outcome, seq })
const del = (key: string, seq: number, outcome: KeyOp['outcome'] = 'ok'): KeyOp => ({ key, op: 'del', outcome, seq })
const K = 'secret/ns/reg/k0'

const Registers = suite('chaos checker: registers')

Registers('the last acknowledged write on every peer passes', () => {
  const ops = [put(K, 'a', 1), put(K, 'b', 2)]
  assert.equal(checkRegisters(ops, [{ peer: 'p0', values: { [K]: 'b' } }, { peer: 'p1', values: { [K]: 'b' } }], P), [])
})

Registers('an older value on one peer is a lost write of the last acknowledged one', () => {
  const ops = [put(K, 'a', 1), put(K, 'b', 2)]
  const v = checkRegisters(ops, [{ peer: 'p0', values: { [K]: 'b' } }, { peer: 'p1', values: { [K]: 'a' } }], P)
  assert.is(v.length, 1)
  assert.is(v[0]!.kind, 'lost')
  assert.is(v[0]!.peer, 'p1')
  assert.is(v[0]!.seq, 2)
})

Registers('an acknowledged write missing is lost; a deleted key present is resurrected', () => {
  const K2 = 'secret/ns/reg/k1'
  const ops = [put(K, 'a', 1), put(K2, 'x', 2), del(K2, 3)]
  const v = checkRegisters(ops, [{ peer: 'p0', values: { [K2]: 'x' } }], P)
  assert.equal(v.map(x => `${x.kind}:${x.key}`).sort(), [`lost:${K}`, `resurrected:${K2}`])
})

Registers('an ambiguous key is settled once every peer holds one allowed value, and only then', () => {
  // a timed-out (info) write after an acknowledged one leaves two allowed values
  const ops = [put(K, 'a', 1), put(K, 'b', 2, 'info')]
  assert.equal(allowedValues(ops).allowed, ['a', 'b'])
  // peers disagree: nothing settles
  assert.equal(settledOps(ops, [{ peer: 'p0', values: { [K]: 'a' } }, { peer: 'p1', values: { [K]: 'b' } }]), [])
  // every peer holds a value the history does not allow (a violation): nothing settles
  assert.equal(settledOps(ops, [{ peer: 'p0', values: { [K]: 'z' } }, { peer: 'p1', values: { [K]: 'z' } }]), [])
  // every peer holds b: b becomes definite, so a later loss of it is caught
  const s = settledOps(ops, [{ peer: 'p0', values: { [K]: 'b' } }, { peer: 'p1', values: { [K]: 'b' } }])
  assert.equal(s, [{ key: K, op: 'put', value: 'b', outcome: 'ok', seq: 2, settled: true }])
  const after = [...ops, ...s]
  assert.equal(allowedValues(after).allowed, ['b'])
  const v = checkRegisters(after, [{ peer: 'p0', values: { [K]: 'a' } }], P)
  assert.is(v.length, 1)
  assert.is(v[0]!.kind, 'lost')
  // an unknown delete that every peer shows applied settles as absent; the key coming back is a resurrection
  const gone = [put(K, 'a', 1), del(K, 2, 'info')]
  const s2 = settledOps(gone, [{ peer: 'p0', values: {} }, { peer: 'p1', values: {} }])
  assert.equal(s2, [{ key: K, op: 'del', outcome: 'ok', seq: 2, settled: true }])
  assert.is(checkRegisters([...gone, ...s2], [{ peer: 'p0', values: { [K]: 'a' } }], P)[0]?.kind, 'resurrected')
  // a key with one allowed value is never touched
  assert.equal(settledOps([put(K, 'a', 1)], [{ peer: 'p0', values: { [K]: 'a' } }]), [])
})

Registers('a write refused with 4xx that shows up anyway is caught', () => {
  const ops = [put(K, 'a', 1), put(K, 'b', 2, 'fail')]
  const v = checkRegisters(ops, [{ peer: 'p0', values: { [K]: 'b' } }], P)
  assert.is(v.length, 1)
  assert.is(v[0]!.kind, 'lost', 'the acknowledged a was replaced by a refused write')
  const fresh = checkRegisters([put(K, 'b', 1, 'fail')], [{ peer: 'p0', values: { [K]: 'b' } }], P)
  assert.is(fresh[0]!.kind, 'phantom')
})

Registers('an operation of unknown outcome allows both values', () => {
  const ops = [put(K, 'a', 1), put(K, 'b', 2, 'info')]
  assert.equal(checkRegisters(ops, [{ peer: 'p0', values: { [K]: 'a' } }, { peer: 'p1', values: { [K]: 'b' } }], P), [])
  assert.is(checkRegisters(ops, [{ peer: 'p0', values: {} }], P)[0]!.kind, 'lost')
})

Registers('a key nobody wrote under a tracked prefix is flagged, others are ignored', () => {
  const v = checkRegisters([], [{ peer: 'p0', values: { 'secret/ns/reg/zz': 'q', 'other/x': 'y' } }], P)
  assert.equal(v.map(x => x.key), ['secret/ns/reg/zz'])
})

Registers('a value of any kind (*) matches any present value but not absence', () => {
  const ops = [put('want/ns/w0', '*', 1)]
  assert.equal(checkRegisters(ops, [{ peer: 'p0', values: { 'want/ns/w0': 'h' } }], ['want/ns/']), [])
  assert.is(checkRegisters(ops, [{ peer: 'p0', values: {} }], ['want/ns/']).length, 1)
})
Registers.run()

const Runs = suite('chaos checker: runs')
const run = (instance: string, op: RunOp['op'], seq: number, outcome: RunOp['outcome'] = 'ok'): RunOp => ({ instance, op, outcome, seq })

Runs('wanted copies follow the last acknowledged op; an unknown outcome leaves it open', () => {
  const w = wantedCopies([run('a', 'run', 1), run('b', 'run', 2), run('b', 'stop', 3), run('c', 'run', 4), run('c', 'purge', 5, 'info'), run('d', 'run', 6, 'fail')], ['a', 'b', 'c', 'd', 'e'])
  assert.equal([...w.entries()], [['a', 1], ['b', 0], ['c', undefined], ['d', 0], ['e', 0]])
})

Runs('one real copy that every peer sees on one owner passes; two copies are a double run', () => {
  const wanted = new Map<string, 0 | 1 | undefined>([['a', 1]])
  const views = [{ peer: 'p0', running: { a: 'X' } }, { peer: 'p1', running: { a: 'X' } }]
  assert.is(checkRuns(wanted, new Map([['a', 1]]), views)[0]!.kind, 'ok')
  assert.is(checkRuns(wanted, new Map([['a', 2]]), views)[0]!.kind, 'double')
})

Runs('no copy, or peers that disagree about the owner, is a missing run', () => {
  const wanted = new Map<string, 0 | 1 | undefined>([['a', 1]])
  assert.is(checkRuns(wanted, new Map([['a', 0]]), [{ peer: 'p0', running: { a: 'X' } }])[0]!.kind, 'missing')
  assert.is(checkRuns(wanted, new Map([['a', 1]]), [{ peer: 'p0', running: { a: 'X' } }, { peer: 'p1', running: { a: 'Y' } }])[0]!.kind, 'missing')
  assert.is(checkRuns(wanted, new Map([['a', 1]]), [{ peer: 'p0', running: {} }])[0]!.kind, 'missing')
})

Runs('a stopped instance still running (really, or in a ps) counts as more copies than wanted', () => {
  const wanted = new Map<string, 0 | 1 | undefined>([['a', 0], ['b', undefined]])
  assert.is(checkRuns(wanted, new Map([['a', 1]]), [{ peer: 'p0', running: {} }])[0]!.kind, 'double')
  assert.is(checkRuns(wanted, new Map([['a', 0]]), [{ peer: 'p0', running: { a: 'X' } }])[0]!.kind, 'double')
  assert.is(checkRuns(wanted, new Map([['a', 0]]), [{ peer: 'p0', running: {} }]).length, 1, 'an unknown want is not judged')
})

Runs('percentiles by nearest rank', () => {
  assert.is(percentile([], 50), 0)
  assert.is(percentile([5, 1, 3], 50), 3)
  assert.is(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99), 99)
})
Runs.run()

const Schedule = suite('chaos schedule')

Schedule('the same seed gives the same schedule; another seed another', () => {
  const a = schedule({ seed: 42, peers: 5, rounds: 200 })
  const b = schedule({ seed: 42, peers: 5, rounds: 200 })
  const c = schedule({ seed: 43, peers: 5, rounds: 200 })
  assert.equal(a, b)
  assert.is(scheduleHash(a), scheduleHash(b))
  assert.is.not(scheduleHash(a), scheduleHash(c))
})

Schedule('every kind of fault appears in every block of six rounds; partitions split the peers', () => {
  const plans = schedule({ seed: 7, peers: 3, rounds: 30 })
  for (let i = 0; i < 30; i += 6) assert.equal(new Set(plans.slice(i, i + 6).map(p => p.fault.kind)).size, FAULT_KINDS.length)
  for (const p of plans) {
    if (p.fault.kind === 'partition') {
      const [a, b] = p.fault.sides
      assert.ok(a.length > 0 && b.length > 0)
      assert.equal([...a, ...b].sort(), [0, 1, 2])
    } else assert.ok(p.fault.peer >= 0 && p.fault.peer < 3)
    if (p.fault.kind === 'skew') assert.ok(Math.abs(p.fault.offsetMs) <= 20_000 && p.fault.offsetMs !== 0)
  }
})

Schedule('seeds: digits are numbers, other text is hashed', () => {
  assert.is(parseSeed('12345'), 12345)
  assert.is(parseSeed('release-1'), parseSeed('release-1'))
  assert.is.not(parseSeed('release-1'), parseSeed('release-2'))
})
Schedule.run()
