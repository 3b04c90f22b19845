// Unit tests of roles.ts on a real replica: who may write what, and entries held until their
// writer's admission arrives (in either order), bounded, dropped for removed writers.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock } from '../../mesh/clock.js'
import { defaults } from '../../mesh/defaults.js'
import type { Entry } from '../../mesh/entry.js'
import { HlcClock } from '../../mesh/hlc.js'
import { Replica } from '../../mesh/replica.js'
import { roleProblem, Roles } from '../../mesh/roles.js'
import { fakePeer } from '../helpers/mesh-ids.js'

const F = fakePeer(1)
const O = fakePeer(2)
const W = fakePeer(3)
const X = fakePeer(4)
const limits = { maxKeyBytes: 1024, maxEntryBytes: 4096, maxDeltaBytes: 8192, maxDeltaEntries: 100, maxValueDepth: 32 }
const e = (key: string, value: Entry['value'], wall: number, peer: string): Entry => ({ key, hlc: { wall, counter: 0, peer }, value })
const admit = (peer: string, role: string, by: string, wall: number): Entry => e(`admit/${peer}`, { role, by, at: wall }, wall, by)

function setup (maxPending = 100): { r: Replica, roles: Roles } {
  const clock = new ManualClock()
  const r = new Replica({ self: F, hlc: new HlcClock(F, clock, defaults.maxClockSkewMs), clock, limits, buckets: 16 })
  return { r, roles: new Roles({ replica: r, founders: [F], enforce: true, maxPending, maxPendingBytes: 1 << 20 }) }
}

const T = suite('roles')

T('the policy table', () => {
  const cases: Array<[string, string, 'operator' | 'worker' | undefined, boolean]> = [
    ['tpl/ns/a', O, 'operator', true],
    ['admit/x', O, 'operator', true],
    ['tpl/ns/a', W, 'worker', false],
    ['want/ns/a/0', W, 'worker', false],
    ['secret/global/k', W, 'worker', false],
    ['provider/aws', W, 'worker', false],
    ['node/m-1', W, 'worker', false],
    ['hub/src/x', W, 'worker', false],
    ['invite/abc', W, 'worker', false],
    [`admit/${W}`, W, 'worker', false],
    [`peer/${W}`, W, 'worker', true],
    [`claim/ns/a/0/${W}`, W, 'worker', true],
    [`status/ns/a/0/${W}`, W, 'worker', true],
    [`entity/ns/a/0/${W}`, W, 'worker', true],
    [`peer/${X}`, X, undefined, false],
  ]
  for (const [key, writer, role, ok] of cases) assert.is(roleProblem(key, writer, role) === undefined, ok, `${role ?? 'none'} writes ${key}`)
})

T('founders are operators; admissions come from operators only', () => {
  const { r, roles } = setup()
  assert.is(roles.roleOf(F), 'operator')
  assert.is(roles.roleOf(W), undefined)
  // an admission written by a non-admitted peer is refused (and held: it might be admitted later)
  let s = roles.screen([admit(W, 'operator', X, 10)])
  assert.is(s.allowed.length, 0)
  s = roles.screen([admit(O, 'operator', F, 11)])
  r.merge(s.allowed)
  assert.is(roles.roleOf(O), 'operator')
})

T('entries that arrive before their writer\'s admission are held, then released', () => {
  const { r, roles } = setup()
  const early = [e(`peer/${W}`, { name: 'w' }, 20, W), e(`status/a/0/${W}`, 'up', 21, W), e('tpl/ns/a', 'no', 22, W)]
  const s = roles.screen(early)
  assert.is(s.allowed.length, 0)
  assert.is(s.refused, 3)
  assert.is(roles.held(W), 3)
  assert.equal(roles.release(), [], 'nothing to release before the admission')
  r.merge(roles.screen([admit(W, 'worker', F, 30)]).allowed)
  const released = roles.release()
  assert.equal(released.map(x => x.key).sort(), [`peer/${W}`, `status/a/0/${W}`], 'a worker\'s own records only')
  assert.is(roles.held(), 0)
})

T('a removed peer is not an operator, even a founder; its entries are not held', () => {
  const { r, roles } = setup()
  r.merge([admit(O, 'operator', F, 10)])
  r.merge([admit(O, 'removed', F, 11)])
  assert.is(roles.roleOf(O), undefined)
  assert.is(roles.screen([e('tpl/a', 1, 12, O)]).refused, 1)
  assert.is(roles.held(O), 0)
  r.merge([admit(F, 'removed', F, 13)])
  assert.is(roles.roleOf(F), undefined)
})

T('held entries are bounded', () => {
  const { roles } = setup(5)
  roles.screen(Array.from({ length: 20 }, (_, i) => e(`peer/${X}`.replace(X, fakePeer(100 + i)), 'x', 10 + i, fakePeer(100 + i))))
  assert.is(roles.held(), 5)
})

T('not enforced: every peer is an operator', () => {
  const clock = new ManualClock()
  const r = new Replica({ self: F, hlc: new HlcClock(F, clock, defaults.maxClockSkewMs), clock, limits, buckets: 16 })
  const roles = new Roles({ replica: r, founders: [], enforce: false, maxPending: 1, maxPendingBytes: 1 })
  assert.is(roles.roleOf(X), 'operator')
  assert.is(roles.screen([e('tpl/a', 1, 1, X)]).allowed.length, 1)
})

T.run()
