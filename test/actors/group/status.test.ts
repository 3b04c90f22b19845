// A group's start order from `depends` and its aggregated status, as pure functions.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { aggregate, startOrder } from '../../../actors/group/status.js'
import type { GroupMember } from '../../../actors/messages/group.js'

const Order = suite('group: start order from depends')

Order('dependencies first, list order otherwise', () => {
  const r = startOrder([{ path: 't/web', depends: ['t/cache', 't/db'] }, { path: 't/cache', depends: ['t/db'] }, { path: 't/db', depends: [] }, { path: 't/side', depends: [] }])
  assert.equal(r.order, ['t/db', 't/cache', 't/web', 't/side'])
  assert.equal(r.cycles, [])
})

Order('targets outside the group and self-references do not hold a member back', () => {
  const r = startOrder([{ path: 'a/x', depends: ['other/db', 'a/x'] }, { path: 'a/y', depends: [] }])
  assert.equal(r.order, ['a/x', 'a/y'])
})

Order('a depends cycle is reported and its members come last', () => {
  const r = startOrder([{ path: 'c/a', depends: ['c/b'] }, { path: 'c/b', depends: ['c/a'] }, { path: 'c/z', depends: [] }])
  assert.equal(r.order, ['c/z', 'c/a', 'c/b'])
  assert.equal(r.cycles, ['c/a', 'c/b'])
})

const m = (instance: string, over: Partial<GroupMember> = {}): GroupMember => ({ instance, status: 'running', ready: true, peerName: 'p1', waiting: null, error: null, ...over })
const order = ['t/db', 't/cache', 't/web']
const Agg = suite('group: aggregated status')

Agg('every member running and ready → running', () => {
  const s = aggregate('t/stack', [m('t/web'), m('t/db'), m('t/cache')], order)
  assert.is(s.state, 'running')
  assert.is(s.summary, 'running (3 of 3)')
  assert.equal(s.members.map(x => x.instance), order, 'members listed in start order')
})

Agg('a failed member → failed, naming the member and its error', () => {
  const s = aggregate('t/stack', [m('t/db'), m('t/cache', { status: 'failed', ready: false, error: 'image not found' }), m('t/web', { status: 'starting', ready: false })], order)
  assert.is(s.state, 'failed')
  assert.equal(s.failed, { member: 't/cache', error: 'image not found' })
  assert.is(s.summary, 'failed: t/cache: image not found')
})

Agg('on the way → pending with the first member in start order that is not up, and what it waits for', () => {
  const s = aggregate('t/stack', [m('t/db', { status: 'starting', ready: false, waiting: 'readiness' }), m('t/cache', { status: 'starting', ready: false, waiting: 'depends t/db' }), m('t/web', { status: 'starting', ready: false, waiting: 'depends t/cache' })], order)
  assert.is(s.state, 'pending')
  assert.equal(s.pending, { member: 't/db', waiting: 'readiness' })
  assert.is(s.summary, 'pending: t/db waits for readiness (0 of 3 running)')
})

Agg('running but not ready counts as pending on readiness; unplaced waits for a peer', () => {
  assert.equal(aggregate('g', [m('g/a', { ready: false })], ['g/a']).pending, { member: 'g/a', waiting: 'readiness' })
  assert.equal(aggregate('g', [m('g/a', { status: 'not placed', ready: false })], ['g/a']).pending, { member: 'g/a', waiting: 'a peer to start it' })
})

Agg('every member stopped → stopped; nothing wanted → absent', () => {
  assert.is(aggregate('g', [m('g/a', { status: 'stopped', ready: false }), m('g/b', { status: 'stopped', ready: false })], ['g/a', 'g/b']).state, 'stopped')
  assert.is(aggregate('g', [m('g/a', { status: null, ready: false })], ['g/a']).state, 'absent')
})

Order.run()
Agg.run()
