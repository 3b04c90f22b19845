// The suspicion storm (issue 11): at 50 peers on 2 starved cores, late event loops made probes fail,
// each failed probe made a suspicion, each suspicion made confirmation probes with their helpers,
// notices, dead pings and verdicts, and that work made the loops later still. These tests hold the
// machine to its bounds: extra traffic per period is capped however many members are suspect or
// dead, a refuted suspicion leaves no work behind, a send the host could not even try (too many
// dials in flight) is no verdict, and a restarted peer announces itself to the members it knows.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SeededRandom } from '../../mesh/clock.js'
import { defaults } from '../../mesh/defaults.js'
import { Swim, type SendKind, type SwimEvent } from '../../mesh/swim.js'
import type { SwimMessage } from '../../mesh/swim-codec.js'
import { RingTopology } from '../../mesh/swim-ring.js'
import { testConfig } from '../helpers/swim-net.js'

const Storm = suite('swim: the suspicion storm is bounded')
const period = defaults.swimProbeIntervalMs

interface Sent { to: string; msg: SwimMessage; why: SendKind; at: number }

function machine (ids: string[], opts: { assumeAlive?: boolean; incarnation?: number } = {}): { s: Swim; sent: Sent[]; events: SwimEvent[]; clock: { t: number }; run: (until: number) => void } {
  const topology = new RingTopology(ids, 3)
  const sent: Sent[] = []
  const events: SwimEvent[] = []
  const clock = { t: 0 }
  const s = new Swim({
    self: ids[0]!, incarnation: opts.incarnation ?? 10, config: testConfig, random: new SeededRandom(11), topology: () => topology,
    assumeAlive: opts.assumeAlive ?? true, now: 0, onEvent: e => { events.push(e) },
    transport: { send: (to, msg, why) => { sent.push({ to, msg, why, at: clock.t }) } },
  })
  const run = (until: number): void => { for (; clock.t <= until; clock.t++) if (s.nextWake() <= clock.t) s.tick(clock.t) }
  return { s, sent, events, clock, run }
}

// what a period may cost beyond the periodic probe: everything but the probe, its helpers (k), acks,
// nacks, refutations and gossip
const extraKinds = new Set<SendKind>(['confirm', 'relay', 'dead-ping', 'tell', 'suspect', 'announce'])

Storm('many suspects and dead members at once: extra messages per period stay within the budget', () => {
  const ids = Array.from({ length: 40 }, (_, i) => `m${String(i).padStart(2, '0')}`)
  const { s, sent, run } = machine(ids)
  const neighbours = s.neighbours()
  // other peers report every neighbour of ours suspect (each a first suspicion: we would confirm each
  // with a probe and its helpers), and 20 more members dead (each a dead ping, each a verdict)
  const others = ids.slice(1).filter(id => !neighbours.includes(id))
  s.receive(others[0]!, { type: 'gossip', seq: 0, inc: 1, updates: neighbours.map(peer => ({ kind: 'suspect' as const, peer, inc: 0, from: others[0]!, refused: false })) }, 0)
  s.receive(others[1]!, { type: 'gossip', seq: 0, inc: 1, updates: others.slice(2, 18).map(peer => ({ kind: 'dead' as const, peer, inc: 0, from: others[1]!, refused: false })) }, 0)
  // and several peers ask us to relay ping-reqs, many at once
  for (let i = 0; i < 12; i++) s.receive(others[20 + (i % 10)]!, { type: 'ping-req', seq: 100 + i, inc: 1, target: others[19]!, updates: [] }, 0)
  run(10_000)
  assert.ok(sent.some(x => x.why === 'confirm'), 'some confirmations are still made')
  assert.ok(sent.some(x => x.why === 'dead-ping'), 'dead members are still pinged')
  // count in windows of one period: a window may straddle two refills, so twice the budget plus the
  // periodic probe's k helpers and (when a confirmation fails) nothing more
  const budget = defaults.swimExtraPerPeriod
  for (let w = 0; w < 10_000; w += period) {
    const inWindow = sent.filter(x => x.at >= w && x.at < w + period)
    const extra = inWindow.filter(x => extraKinds.has(x.why)).length
    const reqs = inWindow.filter(x => x.why === 'ping-req').length
    assert.ok(extra + reqs <= 2 * budget + defaults.swimIndirectChecks, `${extra} extra messages and ${reqs} ping-reqs in the period from ${w} ms (budget ${budget})`)
  }
  assert.ok(s.skipped > 0, 'some extra work was skipped')
})

Storm('a refuted suspicion ends our confirmation probe: no helpers asked, nothing raised', () => {
  const ids = Array.from({ length: 12 }, (_, i) => `m${String(i).padStart(2, '0')}`)
  const { s, sent, events, clock, run } = machine(ids)
  const suspect = s.neighbours()[0]!
  const accuser = ids.slice(1).find(id => id !== suspect)!
  s.receive(accuser, { type: 'gossip', seq: 0, inc: 1, updates: [{ kind: 'suspect', peer: suspect, inc: 0, from: accuser, refused: false }] }, 0)
  assert.ok(sent.some(x => x.why === 'confirm' && x.to === suspect), 'a confirmation probe starts')
  clock.t = 1
  // the suspect refutes before the confirmation's timeout (its ack to our ping never arrives)
  s.receive(accuser, { type: 'gossip', seq: 0, inc: 1, updates: [{ kind: 'alive', peer: suspect, inc: 1 }] }, 50)
  assert.is(s.state(suspect), 'alive')
  clock.t = 51
  run(3 * period)
  const helpers = sent.filter(x => x.msg.type === 'ping-req' && x.msg.target === suspect)
  assert.equal(helpers.length, 0, `${helpers.length} ping-reqs about the refuted suspect`)
  assert.equal(events.filter(e => e.type === 'raised' && e.peer === suspect), [], 'no suspicion raised by us')
})

Storm('a send not even tried (too many dials in flight) drops the probe without a verdict', () => {
  const ids = Array.from({ length: 8 }, (_, i) => `m${i}`)
  const topology = new RingTopology(ids, 3)
  const events: SwimEvent[] = []
  const sent: Sent[] = []
  const s = new Swim({
    self: 'm0', incarnation: 1, config: testConfig, random: new SeededRandom(5), topology: () => topology,
    assumeAlive: true, now: 0, onEvent: e => { events.push(e) },
    // every ping waits for a connection (the shell returns false until the stream opens)
    transport: { send: (to, msg, why) => { sent.push({ to, msg, why, at: 0 }); return msg.type !== 'ping' } },
  })
  const target = topology.subjects('m0', () => false)[0]!
  s.hint(target, 0)
  s.sendSkipped(target, 5)
  for (let t = 6; t <= 5 * period; t++) if (s.nextWake() <= t) s.tick(t)
  assert.equal(events.filter(e => e.type === 'raised' || e.type === 'suspect'), [], 'no suspicion for a send the host never tried')
  // for contrast: a dial that failed (tried, timed out) hands the probe to helpers
  s.hint(target, 5 * period + 1)
  s.sendFailed(target, false, 5 * period + 2)
  assert.ok(sent.some(x => x.msg.type === 'ping-req' && x.msg.target === target), 'a failed dial asks helpers')
})

Storm('a restarted peer announces itself to every member it knows, paced, until each acks', () => {
  const ids = Array.from({ length: 30 }, (_, i) => `m${String(i).padStart(2, '0')}`)
  const { s, sent, clock, run } = machine(ids, { assumeAlive: false, incarnation: 500 })
  s.announce(ids, 0)
  // m01 acks every announcement it gets; the rest never answer (they are slow, or their frames are lost)
  let acked = 0
  const answer = (): void => {
    for (const x of sent.filter(x => x.why === 'announce' && x.to === 'm01' && x.at === clock.t)) {
      s.receive('m01', { type: 'ack', seq: x.msg.seq, inc: 3, updates: [] }, clock.t)
      acked++
    }
  }
  for (; clock.t <= 20_000; clock.t++) { if (s.nextWake() <= clock.t) s.tick(clock.t); answer() }
  run(20_000)
  const ann = sent.filter(x => x.why === 'announce')
  for (const id of ids.slice(1)) assert.ok(ann.some(x => x.to === id), `${id} not announced to`)
  assert.ok(ann.every(x => x.msg.type === 'ping' && x.msg.inc === 500 && x.msg.updates.some(u => u.kind === 'alive' && u.peer === 'm00' && u.inc === 500)), 'an announcement is a ping carrying our new incarnation')
  // everyone heard within a few seconds (29 members, 8 extra messages per period)
  const first = new Map<string, number>()
  for (const x of ann) if (!first.has(x.to)) first.set(x.to, x.at)
  assert.ok(Math.max(...first.values()) <= 3000, `last first announcement at ${Math.max(...first.values())} ms`)
  assert.is(ann.filter(x => x.to === 'm01').length, 1, 'a member that acked is not announced to again')
  assert.is(acked, 1)
  assert.is(ann.filter(x => x.to === 'm02').length, 3, 'a silent member gets 3 tries')
  const perPeriod = new Map<number, number>()
  for (const x of ann) perPeriod.set(Math.floor(x.at / period), (perPeriod.get(Math.floor(x.at / period)) ?? 0) + 1)
  assert.ok(Math.max(...perPeriod.values()) <= defaults.swimExtraPerPeriod, 'paced by the budget')
})

Storm.run()
