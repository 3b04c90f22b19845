// The pure SWIM machine (mesh/swim.ts) on simulated time: probe order, indirect probes, suspicion
// and refutation, deaths, confirmations, leave, awareness, dissemination limits, refused dials.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SeededRandom } from '../../mesh/clock.js'
import { defaults } from '../../mesh/defaults.js'
import { recordLeft } from '../../mesh/membership.js'
import { Swim } from '../../mesh/swim.js'
import type { SwimMessage } from '../../mesh/swim-codec.js'
import { RingTopology } from '../../mesh/swim-ring.js'
import { SwimNet, testConfig } from '../helpers/swim-net.js'

const Machine = suite('swim machine')
const period = defaults.swimProbeIntervalMs
const bound = defaults.swimProbeIntervalMs + defaults.swimSuspicionMinMs

Machine('round-robin: each subject is probed exactly once per round, every member has observers', () => {
  const ids = Array.from({ length: 30 }, (_, i) => `m${i}`)
  const topology = new RingTopology(ids, 3)
  const pings: string[] = []
  const s = new Swim({
    self: 'm0', incarnation: 1, config: testConfig, random: new SeededRandom(3), topology: () => topology,
    assumeAlive: true, now: 0, onEvent: () => {},
    transport: { send: (to, msg) => { if (msg.type === 'ping') pings.push(to) ; if (msg.type === 'ping') s.receive(to, { type: 'ack', seq: msg.seq, inc: 0, updates: [] }, t) } },
  })
  let t = 0
  const subjects = topology.subjects('m0', () => false)
  assert.ok(subjects.length >= 1 && subjects.length <= 3, `subjects ${subjects.length}`)
  for (; t < period * subjects.length * 4 + period; t++) if (s.nextWake() <= t) s.tick(t)
  assert.ok(pings.length >= subjects.length * 4, `${pings.length} pings`)
  for (let r = 0; r < 4; r++) {
    assert.equal(new Set(pings.slice(r * subjects.length, (r + 1) * subjects.length)).size, subjects.length, `round ${r} probes every subject once`)
  }
  // every member is the subject of some other member (none goes unwatched), for many id sets
  for (let seed = 1; seed <= 20; seed++) {
    const rnd = new SeededRandom(seed)
    const set = Array.from({ length: 3 + Math.floor(rnd.next() * 60) }, (_, i) => `p${seed}-${i}-${Math.floor(rnd.next() * 1e6)}`)
    const topo = new RingTopology(set, 3)
    const watched = new Set(set.flatMap(id => topo.subjects(id, () => false)))
    assert.equal(watched.size, set.length, `seed ${seed}: ${set.length - watched.size} members unwatched`)
  }
})

Machine('a steady cluster: no suspicion, ~2 messages per peer per period, nothing when idle but probes', () => {
  const net = new SwimNet(8)
  net.runUntil(20_000)
  assert.equal(net.events.filter(e => e.event.type !== 'learned'), [])
  const perPeerPerPeriod = net.sent.length / 8 / (20_000 / period)
  assert.ok(perPeerPerPeriod > 1.8 && perPeerPerPeriod < 2.2, `${perPeerPerPeriod} messages per peer per period`)
  assert.ok(net.sent.every(s => s.msg.type === 'ping' || s.msg.type === 'ack'), 'only pings and acks when idle')
})

Machine('indirect probe: a lost direct path is bridged by helpers; nobody is suspected', () => {
  const net = new SwimNet(8)
  // n00 cannot reach n03 directly (either way), everyone else can
  net.cutLink('n00', 'n03')
  net.cutLink('n03', 'n00')
  net.runUntil(20_000)
  const reqs = net.sent.filter(s => s.from === 'n00' && s.msg.type === 'ping-req' && s.msg.target === 'n03')
  const subjects = net.topology.subjects('n00', () => false)
  if (subjects.includes('n03')) assert.ok(reqs.length > 0, 'n00 asked helpers to reach n03')
  assert.equal(net.about('n03', 'down'), [], 'n03 declared dead')
  assert.equal(net.about('n03', 'suspect'), [], 'n03 suspected')
})

Machine('silent peer: suspected, then dead everywhere, never before the bound', () => {
  const net = new SwimNet(10)
  net.runUntil(3000)
  net.kill('n04')
  net.runUntil(12_000)
  const downs = net.about('n04', 'down')
  assert.equal(downs.length, 9, `${downs.length} of 9 declared it dead`)
  for (const d of downs) {
    assert.equal((d.event as { reason: string }).reason, 'failed')
    assert.ok(d.at - 3000 >= bound - period, `declared dead ${d.at - 3000} ms after it stopped`)
  }
  const first = Math.min(...downs.map(d => d.at)) - 3000
  const last = Math.max(...downs.map(d => d.at)) - 3000
  assert.ok(last - first < 500, `dissemination took ${last - first} ms`)
  assert.ok(net.about('n04', 'suspect').length > 0)
})

Machine('pause shorter than the bound: suspected, refuted by incarnation, never dead', () => {
  // a victim whose observers happen to probe it early enough that it is suspected within 1 s
  let net = new SwimNet(10)
  for (let seed = 1; ; seed++) {
    net = new SwimNet(10, { seed })
    net.runUntil(3000)
    net.pause('n05')
    net.runUntil(3000 + 1000)
    if (net.about('n05', 'suspect').length > 0) break
    assert.ok(seed < 20, 'no seed gives a suspicion within 1 s')
  }
  const before = net.node('n05').incarnation
  net.resume('n05')
  net.runUntil(10_000)
  assert.ok(net.about('n05', 'suspect').length > 0, 'nobody suspected the paused peer')
  assert.equal(net.about('n05', 'down'), [], 'the paused peer was declared dead')
  assert.ok(net.node('n05').incarnation > before, 'it refuted with a higher incarnation')
  for (const id of net.ids) if (id !== 'n05') assert.equal(net.node(id).state('n05'), 'alive', `${id} sees it alive`)
})

Machine('pause longer than the bound: dead; when it wakes it refutes and comes back up', () => {
  const net = new SwimNet(10)
  net.runUntil(3000)
  net.pause('n06')
  net.runUntil(3000 + 4000)
  assert.equal(net.about('n06', 'down').length, 9)
  net.resume('n06')
  net.runUntil(20_000)
  const ups = net.about('n06', 'up')
  assert.equal(ups.length, 9, `${ups.length} of 9 saw it back`)
  for (const id of net.ids) if (id !== 'n06') assert.equal(net.node(id).state('n06'), 'alive')
})

Machine('confirmations shorten the suspicion; a lone suspector waits the maximum', () => {
  // lone: only n00 can see n02 fail (everyone else still reaches it) → n00 suspects, nobody confirms
  const lone = new SwimNet(6, { config: { indirectChecks: 0 } })
  for (const id of lone.ids) if (id !== 'n02') lone.cutLink('n02', id) // n02 cannot answer anyone…
  lone.runUntil(30_000)
  const firstSuspect = Math.min(...lone.about('n02', 'suspect').map(e => e.at))
  const firstDown = Math.min(...lone.about('n02', 'down').map(e => e.at))
  // with no helpers (k = 0) the timeout is the floor at once
  assert.ok(firstDown - firstSuspect >= defaults.swimSuspicionMinMs && firstDown - firstSuspect < defaults.swimSuspicionMinMs + 100, `k=0: ${firstDown - firstSuspect} ms`)
  // with k = 3, confirmations from the others' own probes bring it to the floor too; the maximum is 4×
  const net = new SwimNet(10)
  net.runUntil(2000)
  net.kill('n07')
  net.runUntil(12_000)
  const s = Math.min(...net.about('n07', 'suspect').map(e => e.at))
  const d = Math.min(...net.about('n07', 'down').map(e => e.at))
  assert.ok(d - s < defaults.swimSuspicionMinMs * defaults.swimSuspicionMaxMult, `suspicion lasted ${d - s} ms`)
  assert.ok(d - s >= defaults.swimSuspicionMinMs - 1, `suspicion lasted ${d - s} ms, below the floor`)
})

Machine('refused dial: dead as unreachable within the short suspicion, everywhere', () => {
  const net = new SwimNet(10)
  net.runUntil(2000)
  net.kill('n03')
  net.refusing.add('n03')
  for (const id of net.ids) if (id !== 'n03') net.node(id).hint('n03', net.now) // their connections closed
  net.runUntil(2000 + 1000)
  const downs = net.about('n03', 'down')
  assert.equal(downs.length, 9)
  for (const d of downs) assert.equal((d.event as { reason: string }).reason, 'unreachable')
  assert.ok(Math.max(...downs.map(d => d.at)) - 2000 <= defaults.swimRefusedSuspicionMs + 100, `slowest ${Math.max(...downs.map(d => d.at)) - 2000} ms`)
})

Machine('leave: left at once everywhere, with reason left, and never probed again', () => {
  const net = new SwimNet(8)
  net.runUntil(2000)
  net.node('n02').leave(net.now)
  net.kill('n02')
  net.runUntil(2600)
  const downs = net.about('n02', 'down')
  assert.equal(downs.length, 7)
  for (const d of downs) assert.equal((d.event as { reason: string }).reason, 'left')
  const pings = net.sent.filter(s => s.to === 'n02' && s.msg.type === 'ping' && s.at > 2600)
  net.runUntil(10_000)
  assert.equal(pings, [])
  assert.equal(net.about('n02', 'suspect'), [])
})

Machine('awareness: a raised score stretches the probe timeout; a late tick raises it', () => {
  const ids = ['a', 'b', 'c', 'd']
  const topology = new RingTopology(ids, 3)
  const sent: Array<{ at: number; to: string; msg: SwimMessage }> = []
  let t = 0
  const s = new Swim({ self: 'a', incarnation: 1, config: testConfig, random: new SeededRandom(1), topology: () => topology, assumeAlive: true, now: 0, onEvent: () => {}, transport: { send: (to, msg) => { sent.push({ at: t, to, msg }) } } })
  s.awareness.apply(3)
  for (; t < 3000; t++) if (s.nextWake() <= t) s.tick(t)
  const ping = sent.find(x => x.msg.type === 'ping')!
  const req = sent.find(x => x.msg.type === 'ping-req')!
  assert.ok(req.at - ping.at >= 4 * defaults.swimProbeTimeoutMs, `ping-req ${req.at - ping.at} ms after the ping (score 3 → ×4)`)
  // lateness
  const s2 = new Swim({ self: 'a', incarnation: 1, config: testConfig, random: new SeededRandom(1), topology: () => topology, assumeAlive: true, now: 0, onEvent: () => {}, transport: { send: () => {} } })
  s2.tick(0)
  const due = s2.nextWake()
  s2.tick(due + defaults.swimLateTickMs + 50)
  assert.is(s2.awareness.score, 1)
  // being suspected (at our current incarnation) raises it and the incarnation; an older suspicion does neither
  const inc = s2.incarnation
  s2.receive('b', { type: 'gossip', seq: 0, inc: 0, updates: [{ kind: 'suspect', peer: 'a', inc, from: 'b', refused: false }] }, due + 300)
  assert.is(s2.awareness.score, 2)
  assert.is(s2.incarnation, inc + 1)
  s2.receive('c', { type: 'gossip', seq: 0, inc: 0, updates: [{ kind: 'suspect', peer: 'a', inc, from: 'c', refused: false }] }, due + 301)
  assert.is(s2.awareness.score, 2, 'a stale suspicion is not refuted again')
  assert.is(s2.incarnation, inc + 1)
})

Machine('a deadline is acted on only after the event loop had a chance to read: acks that waited are heard', () => {
  const ids = ['a', 'b']
  const topology = new RingTopology(ids, 1)
  let last: SwimMessage | undefined
  const events: string[] = []
  const s = new Swim({ self: 'a', incarnation: 1, config: testConfig, random: new SeededRandom(1), topology: () => topology, assumeAlive: true, now: 0, onEvent: e => events.push(e.type), transport: { send: (_to, msg) => { last = msg } } })
  let t = 0
  while (last?.type !== 'ping') { t = s.nextWake(); s.tick(t) }
  const ping = last
  // the event loop was blocked for 2 s: the tick comes first, then the ack that sat in the socket
  s.tick(t + 2000)
  s.receive('b', { type: 'ack', seq: ping.seq, inc: 0, updates: [] }, t + 2000)
  s.tick(t + 2001)
  assert.equal(events, [], 'the late ack was taken; nothing was suspected')
})

Machine('dissemination: an update is sent at most λ·ceil(log10(N+1)) times by each peer', () => {
  const net = new SwimNet(10)
  net.runUntil(1000)
  net.kill('n08')
  net.runUntil(15_000)
  const limit = defaults.swimRetransmitMult * Math.ceil(Math.log10(11))
  for (const id of net.ids) {
    if (id === 'n08') continue
    const carrying = net.sent.filter(s => s.from === id && s.msg.updates.some(u => u.kind === 'dead' && u.peer === 'n08' && u.from !== 'n08'))
    // replies to n08 itself carry what we hold against it; those go to one peer each and do not count
    const copies = carrying.filter(s => s.to !== 'n08').length
    assert.ok(copies <= limit, `${id} sent the death ${copies} times (limit ${limit})`)
  }
})

Machine('a joiner hears every live member within a second (first contact sends the view)', () => {
  const net = new SwimNet(12, { assumeAlive: false })
  net.runUntil(1000)
  const ups = new Map<string, Set<string>>()
  for (const e of net.events) if (e.event.type === 'up') ups.set(e.node, (ups.get(e.node) ?? new Set()).add(e.event.peer))
  for (const id of net.ids) assert.is(ups.get(id)?.size ?? 0, 11, `${id} saw ${ups.get(id)?.size ?? 0} of 11 up within 1 s`)
  assert.equal(net.events.filter(e => e.event.type === 'down' || e.event.type === 'suspect'), [])
})

Machine('a ping waiting for its connection starts no timer: a slow dial is not a failed probe', () => {
  const ids = ['a', 'b', 'c', 'd', 'e']
  const topology = new RingTopology(ids, 3)
  const events: string[] = []
  const pings: Array<{ to: string; seq: number }> = []
  let connecting = true
  const s = new Swim({
    self: 'a', incarnation: 1, config: testConfig, random: new SeededRandom(5), topology: () => topology,
    assumeAlive: true, now: 0, onEvent: e => { events.push(e.type) },
    transport: {
      send: (to, msg) => {
        if (msg.type === 'ping-req' && msg.target === target) reqs++
        if (msg.type !== 'ping') return true
        pings.push({ to, seq: msg.seq })
        // the other subjects answer at once once connected; the target's answer is the test's
        if (!connecting && (to !== target || answering)) s.receive(to, { type: 'ack', seq: msg.seq, inc: 1, updates: [] }, t)
        return !connecting
      },
    },
  })
  const target = topology.subjects('a', () => false)[0]!
  let t = 0
  let answering = false
  let reqs = 0
  s.hint(target, 0)
  // the dial takes ten probe periods: nothing times out meanwhile, no helper is asked, nobody is suspected
  for (; t < period * 10; t++) if (s.nextWake() <= t) s.tick(t)
  assert.equal(events.filter(e => e === 'raised' || e === 'suspect'), [], 'no suspicion while the connection opens')
  connecting = false
  s.opened(target, t)
  const seq = pings.find(p => p.to === target)!.seq
  s.receive(target, { type: 'ack', seq, inc: 1, updates: [] }, t + 5)
  answering = true
  for (; t < period * 12; t++) if (s.nextWake() <= t) s.tick(t)
  assert.equal(events.filter(e => e === 'raised' || e === 'suspect'), [], 'acked after the dial: still no suspicion')
  // a dial that fails (not refused) hands the probe to helpers at once, and their silence suspects it
  connecting = true
  answering = false
  s.hint(target, t)
  assert.is(reqs, 0, 'no helper was asked so far')
  s.sendFailed(target, false, t + 1)
  assert.ok(reqs > 0, 'the failed dial asks helpers at once')
  for (t += 2; t < period * 20; t++) if (s.nextWake() <= t) s.tick(t)
  assert.ok(events.includes('raised'), `a failed dial and silent helpers raise a suspicion (events: ${events.join(',')})`)
})

Machine('a new member is probed only by its observers; the rest wait for gossip, then a grace, before probing a straggler', () => {
  const ids = Array.from({ length: 20 }, (_, i) => `m${i}`)
  let topology = new RingTopology(ids.slice(0, 19), 3)
  const pinged = new Set<string>()
  const s = new Swim({
    self: 'm0', incarnation: 1, config: testConfig, random: new SeededRandom(9), topology: () => topology,
    now: 0, onEvent: () => {},
    transport: { send: (to, msg) => { if (msg.type === 'ping') pinged.add(to) } },
  })
  topology = new RingTopology(ids, 3)
  const isSubject = topology.subjects('m0', () => false).includes('m19')
  s.join('m19', 0)
  assert.is(pinged.has('m19'), isSubject, 'join probes the joiner only when it is ours to watch')
  pinged.clear()
  let t = 0
  for (; t < testConfig.probeIntervalMs * 5; t++) if (s.nextWake() <= t) s.tick(t)
  if (!isSubject) assert.not.ok(pinged.has('m19'), 'no straggler probe within the grace')
  for (; t < testConfig.probeIntervalMs * 40; t++) if (s.nextWake() <= t) s.tick(t)
  assert.ok(pinged.has('m19'), 'a member nobody told us about is probed after the grace')
})

// chaos seed 1, round 4: a peer that left (SIGTERM) and restarted from its home must be accepted
// again, whatever incarnation it restarts with (a peer held left that talks to us is told, and refutes)
Machine('a peer that left and restarts is alive everywhere again: with a newer incarnation, or the same one', () => {
  for (const [label, restartInc] of [['newer incarnation', 10], ['restarted within the second (incarnation not above its leave)', 0]] as const) {
    const net = new SwimNet(6, { assumeAlive: false })
    net.runUntil(2000)
    net.node('n02').leave(net.now)
    net.kill('n02')
    net.runUntil(2600)
    assert.is(net.about('n02', 'down').length, 5, `${label}: left everywhere`)
    net.restart('n02', restartInc)
    net.runUntil(5000)
    for (const id of net.ids) if (id !== 'n02') assert.is(net.node(id).state('n02'), 'alive', `${label}: ${id} holds n02 ${net.node(id).state('n02')}`)
    for (const id of net.ids) if (id !== 'n02') assert.is(net.node('n02').state(id), 'alive', `${label}: n02 holds ${id} ${net.node('n02').state(id)}`)
  }
})

Machine('a stale leave record does not mark a peer that came back (alive above the incarnation it left with) left again', () => {
  const record = { addrs: [], leftAt: 1_000, leftInc: 7 }
  assert.is(recordLeft(record, { state: 'alive', inc: 9 }), false, 'restarted above its leave incarnation')
  assert.is(recordLeft(record, { state: 'alive', inc: 7 }), true, 'alive at the incarnation it leaves with: the leave')
  assert.is(recordLeft(record, undefined), true, 'not heard from since: left')
  assert.is(recordLeft({ addrs: [], leftAt: 1_000 }, { state: 'alive', inc: 9 }), true, 'a record without leftInc (older peers): left')
  assert.is(recordLeft({ addrs: [] }, undefined), false, 'no leftAt: not left')
})

Machine('a healed partition: a connection with a peer held dead brings both sides back within a second (contact pings carry the verdict)', () => {
  const heal = (withContact: boolean): number => {
    const net = new SwimNet(5)
    net.runUntil(2000)
    const a = ['n00', 'n03', 'n04']
    const b = ['n01', 'n02']
    for (const x of a) for (const y of b) { net.cutLink(x, y); net.cutLink(y, x) }
    const splitAt = net.now
    const allDead = (): boolean => a.every(x => b.every(y => net.node(x).state(y) === 'dead' && net.node(y).state(x) === 'dead'))
    while (!allDead()) {
      net.runUntil(net.now + 100)
      assert.ok(net.now - splitAt < 30_000, 'both sides declare the other dead')
    }
    for (const x of a) for (const y of b) { net.mendLink(x, y); net.mendLink(y, x) }
    const healedAt = net.now
    // the shell dials one peer held down every connDownRetryMs; each side then sees the connection open
    if (withContact) for (const [i, x] of a.entries()) { const y = b[i % b.length]!; net.node(x).contact(y, net.now); net.node(y).contact(x, net.now) }
    const allAlive = (): boolean => net.ids.every(x => net.ids.every(y => x === y || net.node(x).state(y) === 'alive'))
    while (!allAlive() && net.now - healedAt < 60_000) net.runUntil(net.now + 10)
    return net.now - healedAt
  }
  const withContact = heal(true)
  const without = heal(false)
  assert.ok(withContact <= 1000, `every member alive everywhere ${withContact} ms after the contacts`)
  assert.ok(without > withContact, `without contact pings it takes longer (${without} ms): the test measures the mechanism`)
})

Machine.run()
