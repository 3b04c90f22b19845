// Stale deaths heal: a peer that holds many members dead (it was cut off or starved of CPU while
// the others stayed fine) pings each of them again within seconds, and a member held dead that
// talks to us without knowing is told, so it refutes. Before, one dead member was pinged every ten
// periods: at 13-50 peers on a loaded host some views stayed asymmetric for minutes (issue 11).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SeededRandom } from '../../mesh/clock.js'
import { defaults } from '../../mesh/defaults.js'
import { Swim } from '../../mesh/swim.js'
import type { SwimMessage } from '../../mesh/swim-codec.js'
import { RingTopology } from '../../mesh/swim-ring.js'
import { SwimNet, testConfig } from '../helpers/swim-net.js'

const Heal = suite('swim: stale deaths heal')
const period = defaults.swimProbeIntervalMs

function machine (ids: string[]): { s: Swim; sent: Array<{ to: string; msg: SwimMessage; at: number }>; clock: { t: number } } {
  const topology = new RingTopology(ids, 3)
  const sent: Array<{ to: string; msg: SwimMessage; at: number }> = []
  const clock = { t: 0 }
  const s = new Swim({
    self: ids[0]!, incarnation: 10, config: testConfig, random: new SeededRandom(7), topology: () => topology,
    assumeAlive: true, now: 0, onEvent: () => {},
    transport: { send: (to, msg) => { sent.push({ to, msg, at: clock.t }) } },
  })
  return { s, sent, clock }
}

Heal('every member held dead is pinged again within a few periods, each at most every 5 s', () => {
  const ids = Array.from({ length: 12 }, (_, i) => `m${String(i).padStart(2, '0')}`)
  const { s, sent, clock } = machine(ids)
  // verdicts about all the others arrive (as from a peer that was cut off and declared them dead)
  s.receive('m01', { type: 'gossip', seq: 0, inc: 5, updates: ids.slice(2).map(peer => ({ kind: 'dead' as const, peer, inc: 5, from: 'm01', refused: false })) }, 0)
  s.receive('m01', { type: 'gossip', seq: 0, inc: 5, updates: [{ kind: 'dead', peer: 'm01', inc: 5, from: 'm02', refused: false }] }, 0)
  for (const id of ids.slice(1)) assert.equal(s.state(id), 'dead', `${id} held dead`)
  sent.length = 0
  const horizon = 12_000
  for (clock.t = 1; clock.t <= horizon; clock.t++) if (s.nextWake() <= clock.t) s.tick(clock.t)
  const pings = sent.filter(x => x.msg.type === 'ping')
  for (const id of ids.slice(1)) {
    const to = pings.filter(p => p.to === id)
    assert.ok(to.length >= 1, `${id} never pinged in ${horizon} ms`)
    // the ping carries the verdict, so an alive member refutes
    assert.ok(to[0]!.msg.updates.some(u => u.kind === 'dead' && u.peer === id), `ping to ${id} carries the verdict`)
    // m01 was told at once when it talked to us at its old incarnation (next test): its ping waits 5 s
    if (id !== 'm01') assert.ok(to[0]!.at <= 11 / 3 * period + period, `${id} first pinged at ${to[0]!.at} ms`)
    for (let i = 1; i < to.length; i++) assert.ok(to[i]!.at - to[i - 1]!.at >= 5000, `${id} pinged twice within 5 s`)
  }
  // the budget: a few pings per period, not a burst to every dead member at once
  const perPeriod = new Map<number, number>()
  for (const p of pings) perPeriod.set(Math.floor(p.at / period), (perPeriod.get(Math.floor(p.at / period)) ?? 0) + 1)
  assert.ok(Math.max(...perPeriod.values()) <= 3, `${Math.max(...perPeriod.values())} dead pings in one period`)
})

Heal('a member held dead that talks to us at its old incarnation is told, once a second; its refutation brings it back', () => {
  const ids = ['a', 'b', 'c', 'd', 'e']
  const { s, sent, clock } = machine(ids)
  s.receive('c', { type: 'gossip', seq: 0, inc: 3, updates: [{ kind: 'dead', peer: 'b', inc: 4, from: 'c', refused: false }] }, 0)
  assert.equal(s.state('b'), 'dead')
  sent.length = 0
  clock.t = 100
  // b never heard of its death: it gossips (or acks, or asks for help) at incarnation 4
  s.receive('b', { type: 'gossip', seq: 0, inc: 4, updates: [] }, 100)
  const told = sent.filter(x => x.to === 'b' && x.msg.updates.some(u => u.kind === 'dead' && u.peer === 'b'))
  assert.equal(told.length, 1, 'b is told it is held dead')
  s.receive('b', { type: 'gossip', seq: 0, inc: 4, updates: [] }, 300)
  assert.equal(sent.filter(x => x.to === 'b' && x.msg.updates.some(u => u.kind === 'dead' && u.peer === 'b')).length, 1, 'told at most once a second')
  // b refutes: a higher incarnation
  s.receive('b', { type: 'gossip', seq: 0, inc: 5, updates: [{ kind: 'alive', peer: 'b', inc: 5 }] }, 400)
  assert.equal(s.state('b'), 'alive')
})

Heal('a new connection with a member held dead pings it at once; not with one alive', () => {
  const ids = ['a', 'b', 'c', 'd', 'e']
  const { s, sent } = machine(ids)
  s.receive('c', { type: 'gossip', seq: 0, inc: 3, updates: [{ kind: 'dead', peer: 'b', inc: 4, from: 'c', refused: false }] }, 0)
  sent.length = 0
  s.contact('d', 10)
  assert.equal(sent, [], 'an alive member is not pinged for a connection')
  s.contact('b', 10)
  assert.equal(sent.map(x => `${x.to}:${x.msg.type}`), ['b:ping'])
  s.contact('b', 20)
  assert.equal(sent.length, 1, 'one ping per second at most')
})

Heal('a paused peer declared dead is sent the verdict directly and is back everywhere within seconds of waking', () => {
  const net = new SwimNet(10)
  net.runUntil(3000)
  net.pause('n04')
  net.runUntil(3000 + 5000)
  assert.equal(net.about('n04', 'down').length, 9)
  const verdicts = net.sent.filter(x => x.to === 'n04' && x.msg.type === 'gossip' && x.msg.updates.some(u => u.kind === 'dead' && u.peer === 'n04'))
  assert.ok(verdicts.length >= 1, 'the declarer sent the verdict to the dead one')
  net.resume('n04')
  net.runUntil(3000 + 5000 + 3000)
  const back = net.about('n04', 'up').filter(e => e.at > 8000)
  assert.equal(back.length, 9, `${back.length} of 9 saw it back within 3 s of waking`)
})

Heal.run()
