// SWIM membership with Lifeguard's refinements, as a pure state machine (DESIGN §4). No timers, no
// I/O, no Date.now: the shell (membership.ts) or the simulator (benchmarks/membership-sim.ts)
// calls tick(now) at nextWake() and receive(from, msg, now) for each message, and delivers what
// the machine hands to its transport.
//
// Each period a peer probes one of its subjects (swim-ring.ts), in shuffled round-robin: ping →
// ack within the probe timeout, else ping-req through up to k neighbours, which answer with the
// ack or a nack. No ack by the end of the period: the subject is suspect. A suspicion becomes a
// death after a timeout that starts long and shrinks as independent peers confirm it
// (suspicion.ts); a peer that receives a suspicion probes the subject itself, once, so
// confirmations come within a probe timeout. A suspected peer refutes by raising its incarnation.
// A refused dial (no process listens) is near-certain death: the suspicion it raises is short.
// Updates ride on every message and on gossip to a few neighbours while any are pending
// (swim-broadcasts.ts). Local health awareness (awareness.ts) stretches every timeout while this
// peer's own probes fail without nacks, it is suspected, or its event loop runs late.
//
// Every deadline is acted on only at a call that comes after another call at or past it: the
// shell sleeps in between, so the messages that arrived while the event loop was blocked are
// read before a timeout is believed.
import { shuffle, type Random } from './clock.js'
import type { MeshDefaults } from './defaults.js'
import { Awareness } from './awareness.js'
import { Suspicion } from './suspicion.js'
import { BroadcastQueue } from './swim-broadcasts.js'
import { maxUpdatesPerMessage, type SwimMessage, type Update } from './swim-codec.js'
import type { RingTopology } from './swim-ring.js'

// a member held dead is pinged again after this long (see pingDead), then twice as long each time
// up to deadPingMaxMs: a stale death heals at the first ping, while a member that is really gone
// costs O(1) pings per minute per peer, not one per 5 s for ever
const deadPingMs = 5000
// 15 s, not 60: a restarted peer that others hold dead is pinged by them within 15 s even if its own
// announcement is lost; the extra-traffic budget (Swim.spend) bounds what many dead members cost
const deadPingMaxMs = 15_000
// a member held dead that talks to us at its old incarnation is told so at most this often
const deadTellMs = 1000
// dead members pinged per period at most: with many dead (a peer that was cut off or starved of
// CPU declares most of its view dead), they are all pinged again within a few periods, not one
// every ten periods (at 50 peers that took minutes, and the views stayed asymmetric meanwhile)
const deadPingsPerPeriod = 3
// a member known only from the topology is probed as a straggler after this many periods without
// news of it: a joiner announces itself, and gossip reaches everyone well before
const stragglerGracePeriods = 10
// first contact with the same peer sends it our view (sendView) at most this often: a peer that
// flaps between dead and alive in a storm would otherwise be sent all N members at every return
const viewEveryMs = 10_000
// a restarted peer announces itself to each member it knows (Swim.announce): this many tries each,
// this far apart, until the member acks
const announceTries = 3
const announceRetryMs = 2000
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left'
/** Why a peer went down: suspicion timed out ('failed'), a dial to it was refused ('unreachable'), or it left. */
export type DownReason = 'failed' | 'unreachable' | 'left'

/** Protocol parameters (defaults.ts gives the values and the reason for each). */
export interface SwimConfig {
  probeIntervalMs: number
  probeTimeoutMs: number
  indirectChecks: number
  suspicionMinMs: number
  suspicionMaxMult: number
  refusedSuspicionMs: number
  awarenessMax: number
  gossipIntervalMs: number
  gossipFanout: number
  retransmitMult: number
  maxPiggyback: number
  lateTickMs: number
  /** Messages beyond the periodic probe and its answers that one probe period may send (see `spend`). */
  extraPerPeriod: number
}

export interface SwimTransport {
  /**
   * Delivers `msg` to `to`, best effort; failures come back through sendFailed(). Returns false
   * when the message waits for a connection or stream to open: the shell then calls opened() or
   * sendFailed(), and a probe's timers start only from opened() (a dial is not a round trip).
   */
  send (to: string, msg: SwimMessage, why: SendKind): boolean | void
}

/**
 * Why the machine sent a message (counted by the shell, per kind, to see where traffic goes):
 * probe (a periodic or hint probe's ping), confirm (a ping confirming another's suspicion), ack,
 * ping-req, relay (a ping for another's ping-req) and relay-ack, nack, dead-ping (a ping to a member
 * held dead), tell (a verdict to the member it is about), refute, suspect (a new suspicion to the
 * suspect and its neighbours), gossip (periodic dissemination), view (the member list on first
 * contact), leave, announce (a restarted peer's ping to each member it knows).
 */
export type SendKind = 'probe' | 'confirm' | 'ack' | 'ping-req' | 'relay' | 'relay-ack' | 'nack' | 'dead-ping' | 'tell' | 'refute' | 'suspect' | 'gossip' | 'view' | 'leave' | 'announce'
export const sendKinds: readonly SendKind[] = ['probe', 'confirm', 'ack', 'ping-req', 'relay', 'relay-ack', 'nack', 'dead-ping', 'tell', 'refute', 'suspect', 'gossip', 'view', 'leave', 'announce']

export type SwimEvent =
  | { type: 'up'; peer: string }
  | { type: 'down'; peer: string; reason: DownReason }
  | { type: 'suspect'; peer: string }
  /** This peer's own evidence started or confirmed a suspicion: a probe of `kind` failed, or a dial was refused. */
  | { type: 'raised'; peer: string; why: ProbeKind | 'refused' }
  /** A peer not in the topology was heard of: the shell should add it. */
  | { type: 'learned'; peer: string }

export interface SwimInit {
  self: string
  /** Starting incarnation; must grow across restarts (the shell uses wall-clock seconds). */
  incarnation: number
  config: SwimConfig
  random: Random
  transport: SwimTransport
  /** The current monitoring overlay (the shell rebuilds it when the member set changes). */
  topology: () => RingTopology
  onEvent: (e: SwimEvent) => void
  /** Members of the topology without a record count as alive and up (simulator); else unknown until heard. */
  assumeAlive?: boolean
  /** Monotonic ms at start. */
  now: number
}

interface Member {
  state: MemberState
  inc: number
  since: number
  /** Announced up (an 'up' event was emitted, or assumed). */
  up: boolean
  refused: boolean
  suspicion: Suspicion | undefined
}

export type ProbeKind = 'periodic' | 'hint' | 'confirm'
interface Probe {
  target: string
  kind: ProbeKind
  directAt: number
  endAt: number
  /** The ping waits for a connection to open: no timer runs until opened() or sendFailed(). */
  opening: boolean
  indirect: boolean
  helpers: number
  nacks: number
}
interface Relay { requester: string; seq: number; target: string; nackAt: number }

/** A view of one member for the shell. */
export interface MemberView { id: string; state: MemberState; inc: number; since: number; reason: DownReason | undefined }

export class Swim {
  readonly self: string
  private readonly init: SwimInit
  private readonly cfg: SwimConfig
  private readonly members = new Map<string, Member>()
  private readonly suspects = new Set<string>()
  private readonly probes = new Map<number, Probe>()
  private readonly relays = new Map<number, Relay>()
  private readonly queue = new BroadcastQueue()
  readonly awareness: Awareness
  private inc: number
  private seq = 0
  private order: string[] = []
  private orderKey = ''
  private orderAt = 0
  private stragglerAt = 0
  private readonly unheard = new Map<string, number>()
  /** Monotonic ms we last pinged, or told of its death, each member we hold dead. */
  private readonly deadContact = new Map<string, number>()
  /** Wait before the next dead ping of each member held dead (doubles from deadPingMs). */
  private readonly deadGap = new Map<string, number>()
  private nextProbeAt: number
  /** Extra messages left in this probe period (spend). */
  private extra: number
  /** Extra messages skipped for want of budget (tests, simulator). */
  skipped = 0
  /** When we last sent each peer our view. */
  private readonly viewAt = new Map<string, number>()
  /** Members a restarted peer still announces itself to: tries made, last try, seq of the last ping. */
  private readonly announcing = new Map<string, { tries: number; at: number; seq: number }>()
  private nextGossipAt = Infinity
  private lastGossipAt = -Infinity
  private seenAt: number
  private wakeAt: number | undefined
  private leaving = false
  /** Bumped whenever a member becomes or stops being gone: invalidates the overlay cache. */
  private goneVersion = 0
  private cache: { topology: RingTopology | undefined; version: number; neighbours: string[]; subjects: string[] } = { topology: undefined, version: -1, neighbours: [], subjects: [] }

  constructor (init: SwimInit) {
    this.init = init
    this.cfg = init.config
    this.self = init.self
    this.inc = init.incarnation
    this.awareness = new Awareness(init.config.awarenessMax)
    this.seenAt = init.now
    this.extra = init.config.extraPerPeriod
    // spread the first probe over one period so peers started together do not probe in step
    this.nextProbeAt = init.now + Math.floor(init.random.next() * init.config.probeIntervalMs)
    // announce ourselves: members that are not our neighbours learn we are up by gossip
    if (init.assumeAlive !== true) this.enqueue({ kind: 'alive', peer: this.self, inc: this.inc }, init.now)
  }

  // ---- queries ----

  get incarnation (): number { return this.inc }

  /** State of `peer` in this view; undefined when only the topology knows it (not heard yet). */
  state (peer: string): MemberState | undefined {
    const m = this.members.get(peer)
    if (m) return m.state
    return this.init.assumeAlive === true && this.init.topology().ids.has(peer) ? 'alive' : undefined
  }

  /** One member's record, if any. */
  member (id: string): MemberView | undefined {
    const m = this.members.get(id)
    return m && { id, state: m.state, inc: m.inc, since: m.since, reason: reasonOf(m) }
  }

  /** Every member with a record. */
  list (): MemberView[] {
    return [...this.members].map(([id, m]) => ({ id, state: m.state, inc: m.inc, since: m.since, reason: reasonOf(m) }))
  }

  /** Peers this one probes or is probed by (the connections membership needs). */
  neighbours (): string[] {
    const topology = this.init.topology()
    if (this.cache.topology !== topology || this.cache.version !== this.goneVersion) {
      this.cache = { topology, version: this.goneVersion, neighbours: topology.neighbours(this.self, this.gone), subjects: topology.subjects(this.self, this.gone) }
    }
    return this.cache.neighbours
  }

  /** Peers this one probes (its predecessor in each ring): it dials them, its observers dial it. */
  subjects (): string[] {
    this.neighbours()
    return this.cache.subjects
  }

  /** Updates still queued for dissemination (tests, simulator). */
  get pendingUpdates (): number { return this.queue.size }

  /** When the machine next needs tick(): the earliest deadline (monotonic ms). */
  nextWake (): number {
    let t = this.nextProbeAt
    if (this.queue.size > 0) t = Math.min(t, this.nextGossipAt)
    for (const p of this.probes.values()) if (!p.opening) t = Math.min(t, p.indirect ? p.endAt : p.directAt)
    for (const r of this.relays.values()) t = Math.min(t, r.nackAt)
    for (const id of this.suspects) {
      const s = this.members.get(id)?.suspicion
      if (s) t = Math.min(t, s.deadline())
    }
    // a deadline already due waits for one more call, after the shell let I/O in
    return t <= this.seenAt ? this.seenAt + 1 : t
  }

  // ---- inputs ----

  /** Timers: ends probes, sends ping-reqs and nacks, declares deaths, starts the next probe, gossips. */
  tick (now: number): void {
    if (this.wakeAt !== undefined && now - this.wakeAt > this.cfg.lateTickMs) this.awareness.apply(1)
    const due = (d: number): boolean => now >= d && this.seenAt >= d
    for (const [seq, p] of this.probes) {
      if (p.opening) continue
      if (!p.indirect && due(p.directAt)) {
        this.askHelpers(seq, p)
      } else if (p.indirect && due(p.endAt)) {
        this.probeFailed(seq, p, false, now)
      }
    }
    for (const [seq, r] of this.relays) {
      if (due(r.nackAt)) {
        this.relays.delete(seq)
        this.send(r.requester, { type: 'nack', seq: r.seq, inc: this.inc, updates: [] }, 'nack')
      }
    }
    for (const id of [...this.suspects]) {
      const m = this.members.get(id)
      if (!m?.suspicion) { this.suspects.delete(id); continue }
      if (due(m.suspicion.deadline())) {
        this.markDead(id, m.inc, m.refused, now)
        const verdict: Update = { kind: 'dead', peer: id, inc: m.inc, from: this.self, refused: m.refused }
        this.enqueue(verdict, now)
        // the verdict goes to the dead one too: a peer that was only slow or paused reads it when it
        // runs again and refutes at once (gossip skips members held dead)
        if (!m.refused && this.spend()) {
          this.deadContact.set(id, now)
          this.send(id, { type: 'gossip', seq: 0, inc: this.inc, updates: [verdict] }, 'tell')
        }
      }
    }
    if (now >= this.nextProbeAt && !this.leaving) {
      this.extra = this.cfg.extraPerPeriod
      this.probeNext(now)
      this.announceSome(now)
      const period = this.awareness.scale(this.cfg.probeIntervalMs)
      this.nextProbeAt = Math.max(this.nextProbeAt + period, now + period / 2)
    }
    if (this.queue.size > 0 && now >= this.nextGossipAt) this.gossip(now)
    this.settle(now)
  }

  /** After every input: remember we ran at `now`, and when we expect to be woken next (lateness is measured against it). */
  private settle (now: number): void {
    this.seenAt = Math.max(this.seenAt, now)
    this.wakeAt = this.nextWake()
  }

  /** A message from `from` (already authenticated and decoded by the shell). */
  receive (from: string, msg: SwimMessage, now: number): void {
    if (from === this.self) return
    // updates first: a leaving peer's last messages carry both its new incarnation and its leave
    for (const u of msg.updates) this.apply(u, now)
    this.claimAlive(from, msg.inc, now, msg.updates.some(u => u.kind === 'left' && u.peer === from))
    switch (msg.type) {
      case 'ping': this.send(from, { type: 'ack', seq: msg.seq, inc: this.inc, updates: this.replyUpdates(from) }, 'ack'); break
      case 'ack': this.handleAck(msg.seq, from); break
      case 'ping-req': this.handlePingReq(from, msg.seq, msg.target, now); break
      case 'nack': { const p = this.probes.get(msg.seq); if (p) p.nacks++; break }
      case 'gossip': break
    }
    this.settle(now)
  }

  /** A hint that `peer` may be gone (its connection closed): probe it now, outside the round-robin. */
  hint (peer: string, now: number): void {
    const s = this.state(peer)
    if (peer === this.self || s === 'dead' || s === 'left' || this.probing(peer)) return
    this.startProbe(peer, 'hint', now)
    this.settle(now)
  }

  /**
   * A new member (e.g. its `peer/<id>` record appeared or changed): probe it now if it is one of
   * ours to watch. The others learn it is up from gossip in O(log N) hops (it announces itself to
   * its first contact); a probe from every member would dial it N − 1 times at once.
   */
  join (peer: string, now: number): void {
    if (peer === this.self || this.probing(peer) || !this.neighbours().includes(peer)) return
    this.startProbe(peer, 'hint', now)
    this.settle(now)
  }

  /**
   * A transport connection with `peer` opened (either side dialed). One we hold dead (a healed
   * partition, a peer that was paused, restarted or starved of CPU) is pinged at once with the
   * verdict, so it refutes or acks within a round trip; waiting for the periodic dead ping kept a
   * healed 3/2 partition apart for 45–90 s on a loaded host. At most once a second per member.
   */
  contact (peer: string, now: number): void {
    const m = this.members.get(peer)
    if (peer === this.self || m?.state !== 'dead' || this.leaving || this.probing(peer) || now - (this.deadContact.get(peer) ?? -Infinity) < deadTellMs || !this.spend()) return
    this.deadContact.set(peer, now)
    this.send(peer, { type: 'ping', seq: ++this.seq, inc: this.inc, updates: this.replyUpdates(peer) }, 'dead-ping')
    this.settle(now)
  }

  /** `peer` announced a clean leave by other means (its record says so). */
  left (peer: string, now: number): void {
    const m = this.members.get(peer)
    if (peer === this.self || m?.state === 'left') return
    this.markLeft(peer, m?.inc ?? 0, now)
    this.settle(now)
  }

  /**
   * The connection to `peer` that a send waited for is open: the probes of `peer` start their
   * timers now, as if their ping had just been sent.
   */
  opened (peer: string, now: number): void {
    for (const p of this.probes.values()) {
      if (p.target !== peer || !p.opening) continue
      p.opening = false
      this.timeProbe(p, now)
    }
    this.settle(now)
  }

  /** A send to `peer` failed; `refused` when the dial was refused (no process listens there). */
  sendFailed (peer: string, refused: boolean, now: number): void {
    if (!refused) {
      // the dial failed or timed out: we cannot reach it directly, others may (indirect probes)
      for (const [seq, p] of this.probes) {
        if (p.target !== peer || !p.opening) continue
        p.opening = false
        this.timeProbe(p, now)
        this.askHelpers(seq, p)
      }
      this.settle(now)
      return
    }
    for (const [seq, r] of this.relays) {
      if (r.target !== peer) continue
      this.relays.delete(seq)
      this.send(r.requester, { type: 'nack', seq: r.seq, inc: this.inc, updates: [] }, 'nack')
    }
    let failed = false
    for (const [seq, p] of this.probes) if (p.target === peer) { this.probeFailed(seq, p, true, now); failed = true }
    const m = this.members.get(peer)
    if (!failed && !(m?.state === 'suspect' && m.refused) && m?.state !== 'dead' && m?.state !== 'left') this.suspectSelf(peer, true, now, 'refused')
    this.settle(now)
  }

  /**
   * A send to `peer` was not even tried: this host has too many dials in flight (its own load, no
   * evidence about `peer`). The probes of `peer` waiting for that connection are dropped without a
   * verdict (the round-robin comes back to it), and the ping-reqs we relay to it are answered
   * with a nack at once, so the requesters know we are alive.
   */
  sendSkipped (peer: string, now: number): void {
    for (const [seq, p] of this.probes) if (p.target === peer && p.opening) this.probes.delete(seq)
    for (const [seq, r] of this.relays) {
      if (r.target !== peer) continue
      this.relays.delete(seq)
      this.send(r.requester, { type: 'nack', seq: r.seq, inc: this.inc, updates: [] }, 'nack')
    }
    this.settle(now)
  }

  /** Leaves: announces `left` to every neighbour at once and stops probing. */
  leave (now: number): void {
    this.leaving = true
    this.inc++
    const u: Update = { kind: 'left', peer: this.self, inc: this.inc }
    this.queue.enqueue(u)
    for (const n of this.neighbours()) this.send(n, { type: 'gossip', seq: 0, inc: this.inc, updates: [u] }, 'leave')
    this.settle(now)
  }

  // ---- probing ----

  private readonly gone = (id: string): boolean => {
    const s = this.members.get(id)?.state
    return s === 'dead' || s === 'left'
  }

  private probing (peer: string): boolean {
    for (const p of this.probes.values()) if (p.target === peer) return true
    return false
  }

  /**
   * Round-robin over the subjects in an order shuffled once per subject set: each subject is probed
   * exactly every |subjects| periods, so with its ~K observers at random phases a member that stops
   * is probed within about one period (a reshuffle per round would leave gaps of up to 2K − 1).
   */
  private probeNext (now: number): void {
    const subjects = this.subjects()
    // with every other member held dead there is no subject, but the dead must still be pinged:
    // this was how a peer that had declared its whole view dead stayed alone for good
    if (subjects.length === 0) { if (this.init.assumeAlive !== true) this.probeStragglers(now); else this.pingDead(now); return }
    const key = [...subjects].sort().join(' ')
    if (key !== this.orderKey) {
      this.orderKey = key
      this.order = shuffle(subjects, this.init.random)
      this.orderAt = 0
    }
    const target = this.order[this.orderAt++ % this.order.length]!
    if (!this.probing(target)) this.startProbe(target, 'periodic', now)
    if (this.init.assumeAlive !== true) this.probeStragglers(now)
    else this.pingDead(now)
  }

  /**
   * Backstop of dissemination, one extra probe per period at most: a member only known from the
   * topology (its record) that no update told us about yet; then the dead ones (pingDead; memberlist
   * gossips to the dead for a while too): a paused peer that woke up learns it was declared dead
   * from our ping, and refutes.
   */
  private probeStragglers (now: number): void {
    const ids = [...this.init.topology().ids]
    if (ids.length <= 1) return
    const grace = stragglerGracePeriods * this.cfg.probeIntervalMs
    for (let i = 0; i < Math.min(ids.length, 16); i++) {
      const id = ids[this.stragglerAt++ % ids.length]!
      if (id === this.self || this.members.has(id)) { this.unheard.delete(id); continue }
      const since = this.unheard.get(id)
      if (since === undefined) { this.unheard.set(id, now); continue }
      if (now - since >= grace && !this.probing(id)) { this.startProbe(id, 'hint', now); return }
    }
    this.pingDead(now)
  }

  /**
   * Pings the members held dead whose last contact is oldest, each at most every `deadPingMs`
   * at first (wall time, not stretched; the wait doubles up to `deadPingMaxMs`), up to
   * `deadPingsPerPeriod` per period and within the period's budget (spend). The ping carries the
   * dead verdict: an alive member refutes, and its ack or refutation brings it back here. A view
   * with many stale deaths heals in seconds.
   */
  private pingDead (now: number): void {
    const due = [...this.members]
      .filter(([id, m]) => m.state === 'dead' && now - (this.deadContact.get(id) ?? -Infinity) >= (this.deadGap.get(id) ?? deadPingMs) && !this.probing(id))
      .map(([id]) => id)
      .sort((a, b) => (this.deadContact.get(a) ?? -Infinity) - (this.deadContact.get(b) ?? -Infinity))
    for (const id of due.slice(0, deadPingsPerPeriod)) {
      if (!this.spend()) return
      this.deadContact.set(id, now)
      this.deadGap.set(id, Math.min(deadPingMaxMs, (this.deadGap.get(id) ?? deadPingMs / 2) * 2))
      this.send(id, { type: 'ping', seq: ++this.seq, inc: this.inc, updates: this.replyUpdates(id) }, 'dead-ping')
    }
  }

  private startProbe (target: string, kind: ProbeKind, now: number): void {
    const seq = ++this.seq
    const p: Probe = { target, kind, directAt: 0, endAt: 0, opening: false, indirect: false, helpers: 0, nacks: 0 }
    this.timeProbe(p, now)
    this.probes.set(seq, p)
    p.opening = this.init.transport.send(target, { type: 'ping', seq, inc: this.inc, updates: this.replyUpdates(target) }, kind === 'confirm' ? 'confirm' : 'probe') === false
  }

  /** Sets the deadlines of a probe whose ping leaves now. */
  private timeProbe (p: Probe, now: number): void {
    const timeout = this.awareness.scale(this.cfg.probeTimeoutMs)
    p.directAt = now + timeout
    p.endAt = Math.max(now + this.awareness.scale(this.cfg.probeIntervalMs), p.directAt)
  }

  private askHelpers (seq: number, p: Probe): void {
    p.indirect = true
    let helpers = shuffle([...this.neighbours()].filter(n => n !== p.target && this.state(n) === 'alive'), this.init.random).slice(0, this.cfg.indirectChecks)
    // the periodic probe's helpers are its own cost (k per period at most); those of hint and confirm
    // probes come out of the period's budget, so many suspects do not multiply them
    if (p.kind !== 'periodic') helpers = helpers.filter(() => this.spend())
    p.helpers = helpers.length
    for (const h of helpers) this.send(h, { type: 'ping-req', seq, inc: this.inc, target: p.target, updates: this.piggyback() }, 'ping-req')
  }

  private handleAck (seq: number, from: string): void {
    const a = this.announcing.get(from)
    if (a?.seq === seq) { this.announcing.delete(from); return }
    const p = this.probes.get(seq)
    if (p) {
      this.probes.delete(seq)
      if (p.kind !== 'confirm') this.awareness.apply(-1)
      return
    }
    const r = this.relays.get(seq)
    if (r) {
      this.relays.delete(seq)
      this.send(r.requester, { type: 'ack', seq: r.seq, inc: this.inc, updates: this.piggyback() }, 'relay-ack')
    }
  }

  private handlePingReq (from: string, seq: number, target: string, now: number): void {
    if (target === this.self) {
      this.send(from, { type: 'ack', seq, inc: this.inc, updates: this.piggyback() }, 'ack')
      return
    }
    // relaying is extra work too: past the budget the request is dropped unanswered, and the
    // requester, missing our nack, raises its own awareness and slows down
    if (!this.spend()) return
    const mine = ++this.seq
    // nack at 80% of a probe timeout (Lifeguard), so it reaches the requester before its period ends
    this.relays.set(mine, { requester: from, seq, target, nackAt: now + Math.floor(this.awareness.scale(this.cfg.probeTimeoutMs) * 0.8) })
    this.send(target, { type: 'ping', seq: mine, inc: this.inc, updates: this.replyUpdates(target) }, 'relay')
  }

  private probeFailed (seq: number, p: Probe, refused: boolean, now: number): void {
    this.probes.delete(seq)
    // Lifeguard: helpers that did not even nack suggest the problem is here, not there
    if (!refused && p.kind !== 'confirm' && p.helpers > 0) this.awareness.apply(Math.max(0, p.helpers - p.nacks))
    this.suspectSelf(p.target, refused, now, refused ? 'refused' : p.kind)
  }

  // ---- suspicion and state changes ----

  /** This peer's own evidence against `peer`: start or confirm a suspicion and spread it. */
  private suspectSelf (peer: string, refused: boolean, now: number, why: ProbeKind | 'refused'): void {
    const m = this.members.get(peer)
    if (m && (m.state === 'dead' || m.state === 'left')) return
    this.init.onEvent({ type: 'raised', peer, why })
    const inc = m?.inc ?? 0
    this.apply({ kind: 'suspect', peer, inc, from: this.self, refused }, now)
    const update: Update = { kind: 'suspect', peer, inc, from: this.self, refused }
    // the suspect learns at once, so that if it is only paused it refutes the moment it wakes
    if (!refused) this.send(peer, { type: 'gossip', seq: 0, inc: this.inc, updates: [update] }, 'suspect')
    // and its other neighbours, who can confirm it quickly by probing it themselves
    if (m?.state !== 'suspect') {
      for (const n of this.init.topology().neighbours(peer, this.gone)) {
        if (n !== this.self && n !== peer && this.spend()) this.send(n, { type: 'gossip', seq: 0, inc: this.inc, updates: [update] }, 'suspect')
      }
    }
  }

  private apply (u: Update, now: number): void {
    if (u.peer === this.self) { this.aboutSelf(u, now); return }
    this.learn(u.peer)
    if (u.kind !== 'alive' && u.kind !== 'left') this.learn(u.from)
    const known = this.members.get(u.peer)
    switch (u.kind) {
      case 'alive': {
        const current = known?.inc ?? (this.init.assumeAlive === true ? 0 : -1)
        if (u.inc > current) {
          this.markAlive(u.peer, u.inc, now)
          this.enqueue(u, now)
        }
        return
      }
      case 'suspect': {
        const inc = known?.inc ?? 0
        if (known && (known.state === 'dead' || known.state === 'left')) return
        if (u.inc < inc) return
        if (known?.state === 'suspect' && u.inc === inc && known.suspicion) {
          // confirmations beyond the expected number change nothing anywhere: do not spread them
          let changed = known.suspicion.confirm(u.from) && known.suspicion.confirmations <= this.expectedConfirmations()
          if (u.refused && !known.refused) { this.startSuspicion(u.peer, u.inc, u.from, true, now); changed = true }
          if (changed) this.enqueue(u, now)
          return
        }
        this.startSuspicion(u.peer, u.inc, u.from, u.refused, now)
        this.enqueue(u, now)
        // a neighbour of the suspect sees for itself: its own failed probe is an independent
        // confirmation. Only neighbours (~2K of them), so a suspicion costs O(1) pings, not N
        const s = this.members.get(u.peer)!.suspicion!
        if (u.from !== this.self && s.confirmations < this.expectedConfirmations() && !this.probing(u.peer) && this.neighbours().includes(u.peer) && this.spend()) this.startProbe(u.peer, 'confirm', now)
        return
      }
      case 'dead':
        if (known && (known.state === 'dead' || known.state === 'left')) return
        if (known && u.inc < known.inc) return
        this.markDead(u.peer, u.inc, u.refused, now)
        this.enqueue(u, now)
        return
      case 'left':
        if (known?.state === 'left') return
        if (known && u.inc < known.inc) return
        this.markLeft(u.peer, u.inc, now)
        this.enqueue(u, now)
    }
  }

  /** Someone says something about this peer: refute anything but alive, unless leaving. */
  private aboutSelf (u: Update, now: number): void {
    if (this.leaving) return
    // a claim about an older incarnation is already refuted (and a stale alive changes nothing)
    if (u.inc < this.inc || (u.kind === 'alive' && u.inc === this.inc)) return
    this.inc = Math.max(this.inc, u.inc) + 1
    if (u.kind === 'suspect' || u.kind === 'dead') this.awareness.apply(1)
    this.enqueue({ kind: 'alive', peer: this.self, inc: this.inc }, now)
    // tell the accuser directly too: it is the one whose timer is running
    if (u.kind === 'suspect' || u.kind === 'dead') this.send(u.from, { type: 'gossip', seq: 0, inc: this.inc, updates: [{ kind: 'alive', peer: this.self, inc: this.inc }] }, 'refute')
  }

  /**
   * A message from `peer` carrying its incarnation proves it alive at that incarnation. A peer we
   * hold left that talks to us without leaving in the same message came back (restarted from its
   * home): above its leave incarnation it is up again; at or below it (restarted within the second,
   * or a stale `leftAt` record marked it left again) it is told the verdict and refutes, as a peer
   * held dead is. Without that it stayed left in our view for good, never probed nor synced with.
   */
  private claimAlive (peer: string, inc: number, now: number, leaving = false): void {
    const m = this.members.get(peer)
    if (!m) {
      if (this.init.assumeAlive === true && (inc === 0 || this.init.topology().ids.has(peer))) {
        if (inc > 0) this.members.set(peer, { state: 'alive', inc, since: now, up: true, refused: false, suspicion: undefined })
        return
      }
      this.learn(peer)
      this.markAlive(peer, inc, now)
      this.sendView(peer, now)
      return
    }
    if (inc > m.inc && !(m.state === 'left' && leaving)) {
      const back = m.state === 'dead' || m.state === 'left'
      this.markAlive(peer, inc, now)
      this.enqueue({ kind: 'alive', peer, inc }, now)
      if (back) this.sendView(peer, now)
    } else if (m.state === 'left' && !leaving && this.spend()) {
      this.send(peer, { type: 'gossip', seq: 0, inc: this.inc, updates: [{ kind: 'left', peer, inc: m.inc }] }, 'tell')
    } else if (m.state === 'dead' && !leaving && now - (this.deadContact.get(peer) ?? -Infinity) >= deadTellMs && this.spend()) {
      // it talks to us at the incarnation we hold it dead at: it does not know, so nothing would
      // ever change our view (it does not refute what it never hears, and we do not probe the
      // dead). Tell it, so it refutes; a ping's ack carries the verdict already
      this.deadContact.set(peer, now)
      this.send(peer, { type: 'gossip', seq: 0, inc: this.inc, updates: [{ kind: 'dead', peer, inc: m.inc, from: this.self, refused: m.refused }] }, 'tell')
    }
  }

  /**
   * First contact with a peer (new, or back from the dead): tell it every member we hold alive, so a
   * joiner knows who is up within a round trip instead of waiting for each to be probed or gossiped
   * (memberlist's push-pull at join). O(N) once per first contact; ~2K neighbours make most of them.
   */
  private sendView (to: string, now: number): void {
    if (this.init.assumeAlive === true || now - (this.viewAt.get(to) ?? -Infinity) < viewEveryMs) return
    this.viewAt.set(to, now)
    const view: Update[] = [{ kind: 'alive', peer: this.self, inc: this.inc }]
    for (const [id, m] of this.members) if (id !== to && m.state === 'alive') view.push({ kind: 'alive', peer: id, inc: m.inc })
    for (let i = 0; i < view.length; i += maxUpdatesPerMessage) {
      this.send(to, { type: 'gossip', seq: 0, inc: this.inc, updates: view.slice(i, i + maxUpdatesPerMessage) }, 'view')
    }
  }

  private startSuspicion (peer: string, inc: number, from: string, refused: boolean, now: number): void {
    const prev = this.members.get(peer)
    // stretched by our awareness (memberlist does not): a struggling peer already stretches its probe
    // timeouts, so it raises fewer suspicions, but when the whole host is starved every peer is late,
    // and the deaths it declared on the base timeout were mostly false. In the simulator's CPU model
    // (50 peers, a share of 2 cores cut to 1/10 for 15 s) false deaths fell from 1,029 to 76. A
    // healthy peer (score 0) waits exactly as before, so silent detection when idle is unchanged
    const min = refused ? this.cfg.refusedSuspicionMs : this.awareness.scale(this.suspicionMin())
    const max = refused ? this.cfg.refusedSuspicionMs : min * this.cfg.suspicionMaxMult
    const suspicion = new Suspicion({ start: now, minMs: min, maxMs: max, expected: this.expectedConfirmations(), from })
    const up = prev?.up ?? this.init.assumeAlive === true
    this.members.set(peer, { state: 'suspect', inc, since: now, up, refused, suspicion })
    this.suspects.add(peer)
    if (prev?.state !== 'suspect') this.init.onEvent({ type: 'suspect', peer })
  }

  private markAlive (peer: string, inc: number, now: number): void {
    const prev = this.members.get(peer)
    const wasUp = prev ? prev.up && prev.state !== 'dead' && prev.state !== 'left' : this.init.assumeAlive === true && this.init.topology().ids.has(peer)
    if (prev?.state === 'dead' || prev?.state === 'left') this.goneVersion++
    this.deadContact.delete(peer)
    this.deadGap.delete(peer)
    // a refuted suspicion leaves no work behind: our confirmation probe of it is over
    if (prev?.state === 'suspect') for (const [seq, p] of this.probes) if (p.target === peer && p.kind === 'confirm') this.probes.delete(seq)
    this.members.set(peer, { state: 'alive', inc, since: prev?.state === 'alive' || prev?.state === 'suspect' ? prev.since : now, up: true, refused: false, suspicion: undefined })
    this.suspects.delete(peer)
    if (!wasUp) this.init.onEvent({ type: 'up', peer })
  }

  private markDead (peer: string, inc: number, refused: boolean, now: number): void {
    this.down(peer, 'dead', inc, refused, now)
  }

  private markLeft (peer: string, inc: number, now: number): void {
    this.down(peer, 'left', inc, false, now)
  }

  private down (peer: string, state: 'dead' | 'left', inc: number, refused: boolean, now: number): void {
    const prev = this.members.get(peer)
    const wasUp = prev ? prev.up && prev.state !== 'dead' && prev.state !== 'left' : this.init.assumeAlive === true
    this.members.set(peer, { state, inc: Math.max(inc, prev?.inc ?? 0), since: now, up: false, refused, suspicion: undefined })
    this.goneVersion++
    this.suspects.delete(peer)
    for (const [seq, p] of this.probes) if (p.target === peer) this.probes.delete(seq)
    if (wasUp) this.init.onEvent({ type: 'down', peer, reason: state === 'left' ? 'left' : refused ? 'unreachable' : 'failed' })
  }

  private learn (peer: string): void {
    if (peer !== this.self && !this.init.topology().ids.has(peer)) this.init.onEvent({ type: 'learned', peer })
  }

  private expectedConfirmations (): number {
    return Math.max(0, Math.min(this.cfg.indirectChecks, this.init.topology().size - 2))
  }

  /** Floor of the suspicion timeout: the base up to 100 members, then growing with log N (refutations need O(log N) hops). */
  private suspicionMin (): number {
    return Math.round(this.cfg.suspicionMinMs * Math.max(1, Math.log10(this.init.topology().size + 1) / 2))
  }

  /**
   * Takes one message from this period's budget of extra traffic: confirmation probes, the helpers
   * of hint and confirmation probes, relays for others' ping-reqs, suspicion notices to a suspect's
   * neighbours, dead pings, verdicts told to the dead, announcements. However many members are
   * suspect or dead, a peer sends at most `extraPerPeriod` of them per (awareness-stretched) period.
   * Without it, at 50 peers on 2 starved cores each false suspicion made more of them and the
   * work grew until nothing settled (issue 11: 34 SWIM messages/s per peer against 4 idle).
   * What is skipped is not lost: suspicions wait for their longer timeout, dead pings come round
   * again, a dropped relay shows as a missing nack.
   */
  private spend (): boolean {
    if (this.extra <= 0) { this.skipped++; return false }
    this.extra--
    return true
  }

  /**
   * This peer restarted from its home (its record was there): tell each member it knows that it is
   * back, at its new incarnation, instead of waiting for their dead pings (which back off to 15 s)
   * or for gossip that may ride on dials that fail under load. A ping each (its `inc` proves us
   * alive at the new incarnation; the holder's ack ends the announcement to it), paced by the
   * budget, retried up to 3 times.
   */
  announce (members: readonly string[], now: number): void {
    for (const id of members) if (id !== this.self && !this.announcing.has(id)) this.announcing.set(id, { tries: 0, at: -Infinity, seq: 0 })
    this.settle(now)
  }

  private announceSome (now: number): void {
    for (const [id, a] of this.announcing) {
      const s = this.members.get(id)?.state
      if (a.tries >= announceTries || s === 'left') { this.announcing.delete(id); continue }
      if (now - a.at < announceRetryMs) continue
      if (!this.spend()) return
      a.tries++
      a.at = now
      a.seq = ++this.seq
      this.send(id, { type: 'ping', seq: a.seq, inc: this.inc, updates: [{ kind: 'alive', peer: this.self, inc: this.inc }] }, 'announce')
    }
  }

  // ---- dissemination ----

  private retransmitLimit (): number {
    return this.cfg.retransmitMult * Math.max(1, Math.ceil(Math.log10(this.init.topology().size + 1)))
  }

  private enqueue (u: Update, now: number): void {
    this.queue.enqueue(u)
    this.nextGossipAt = Math.min(this.nextGossipAt, Math.max(now, this.lastGossipAt + this.awareness.scale(this.cfg.gossipIntervalMs)))
  }

  private piggyback (): Update[] {
    return this.queue.take(this.cfg.maxPiggyback, this.retransmitLimit())
  }

  /** Updates for a message to `to`: what we hold against it first (so it can refute), then the queue. */
  private replyUpdates (to: string): Update[] {
    const m = this.members.get(to)
    const against: Update[] = []
    if (m?.state === 'suspect') against.push({ kind: 'suspect', peer: to, inc: m.inc, from: this.self, refused: m.refused })
    else if (m?.state === 'dead') against.push({ kind: 'dead', peer: to, inc: m.inc, from: this.self, refused: m.refused })
    return [...against, ...this.piggyback()].slice(0, this.cfg.maxPiggyback)
  }

  private gossip (now: number): void {
    this.lastGossipAt = now
    // a struggling peer gossips less often too (Lifeguard): its updates still ride on its probes
    this.nextGossipAt = now + this.awareness.scale(this.cfg.gossipIntervalMs)
    const targets = shuffle([...this.neighbours()], this.init.random).slice(0, this.cfg.gossipFanout)
    // alone: nothing to gossip to; what is queued rides on the first probes once there is someone
    if (targets.length === 0) { this.nextGossipAt = Infinity; return }
    for (const t of targets) {
      const updates = this.queue.take(this.cfg.maxPiggyback, this.retransmitLimit())
      if (updates.length === 0) break
      this.send(t, { type: 'gossip', seq: 0, inc: this.inc, updates }, 'gossip')
    }
    if (this.queue.size === 0) this.nextGossipAt = Infinity
  }

  private send (to: string, msg: SwimMessage, why: SendKind): void {
    this.init.transport.send(to, msg, why)
  }
}

function reasonOf (m: Member): DownReason | undefined {
  if (m.state === 'left') return 'left'
  if (m.state === 'dead') return m.refused ? 'unreachable' : 'failed'
  return undefined
}

/** The SWIM parameters out of the mesh config (defaults.ts and its overrides). */
export function swimConfig (c: { readonly [K in keyof MeshDefaults]: number }): SwimConfig {
  return {
    probeIntervalMs: c.swimProbeIntervalMs,
    probeTimeoutMs: c.swimProbeTimeoutMs,
    indirectChecks: c.swimIndirectChecks,
    suspicionMinMs: c.swimSuspicionMinMs,
    suspicionMaxMult: c.swimSuspicionMaxMult,
    refusedSuspicionMs: c.swimRefusedSuspicionMs,
    awarenessMax: c.swimAwarenessMax,
    gossipIntervalMs: c.swimGossipIntervalMs,
    gossipFanout: c.swimGossipFanout,
    retransmitMult: c.swimRetransmitMult,
    maxPiggyback: c.swimMaxPiggyback,
    lateTickMs: c.swimLateTickMs,
    extraPerPeriod: c.swimExtraPerPeriod,
  }
}
