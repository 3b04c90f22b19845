// A deterministic network of pure SWIM machines (mesh/swim.ts) for table tests: simulated time in
// 1 ms steps, 1 ms latency, links that can be cut, peers that can be paused or killed, and a log
// of every event and message.
import { SeededRandom } from '../../mesh/clock.js'
import { defaults } from '../../mesh/defaults.js'
import { Swim, swimConfig, type SwimConfig, type SwimEvent } from '../../mesh/swim.js'
import type { SwimMessage } from '../../mesh/swim-codec.js'
import { RingTopology } from '../../mesh/swim-ring.js'

export const testConfig: SwimConfig = swimConfig(defaults)

export interface Logged { at: number; node: string; event: SwimEvent }
export interface Sent { at: number; from: string; to: string; msg: SwimMessage }

interface InFlight { at: number; from: string; to: string; msg: SwimMessage }

export class SwimNet {
  now = 0
  readonly ids: string[]
  readonly nodes = new Map<string, Swim>()
  readonly events: Logged[] = []
  readonly sent: Sent[] = []
  readonly topology: RingTopology
  private flight: InFlight[] = []
  private refusals: Array<{ at: number; from: string; to: string }> = []
  private readonly cut = new Set<string>()
  private readonly paused = new Set<string>()
  private readonly killed = new Set<string>()
  /** Peers whose dials are refused (a killed process on a reachable host). */
  readonly refusing = new Set<string>()

  constructor (n: number, private readonly opts: { config?: Partial<SwimConfig>; seed?: number; assumeAlive?: boolean; rings?: number } = {}) {
    this.ids = Array.from({ length: n }, (_, i) => `n${String(i).padStart(2, '0')}`)
    this.topology = new RingTopology(this.ids, opts.rings ?? defaults.swimRings)
    for (const [i, self] of this.ids.entries()) this.nodes.set(self, this.machine(self, i, 0, opts.assumeAlive ?? true))
  }

  private machine (self: string, i: number, incarnation: number, assumeAlive: boolean): Swim {
    return new Swim({
      self,
      incarnation,
      config: { ...testConfig, ...this.opts.config },
      random: new SeededRandom((this.opts.seed ?? 1) * 1000 + i + this.now),
      topology: () => this.topology,
      assumeAlive,
      now: this.now,
      transport: { send: (to, msg) => { this.send(self, to, msg) } },
      onEvent: event => { this.events.push({ at: this.now, node: self, event }) },
    })
  }

  /** A killed peer started again (a new process from its home) with `incarnation`; it knows the others only from the topology. */
  restart (id: string, incarnation: number): void {
    this.killed.delete(id)
    this.flight = this.flight.filter(f => f.to !== id)
    this.nodes.set(id, this.machine(id, this.ids.indexOf(id), incarnation, false))
  }

  node (id: string): Swim { return this.nodes.get(id)! }

  /** Drops every message from `a` to `b` (one direction). */
  cutLink (a: string, b: string): void { this.cut.add(`${a}>${b}`) }
  /** Lets messages from `a` to `b` through again. */
  mendLink (a: string, b: string): void { this.cut.delete(`${a}>${b}`) }
  pause (id: string): void { this.paused.add(id) }
  resume (id: string): void { this.paused.delete(id) }
  kill (id: string): void { this.killed.add(id) }

  /** Runs the network until `until` (ms) in 1 ms steps. */
  runUntil (until: number): void {
    while (this.now < until) {
      this.now++
      const due = this.flight.filter(f => f.at <= this.now && !this.paused.has(f.to))
      this.flight = this.flight.filter(f => !(f.at <= this.now && !this.paused.has(f.to)))
      for (const f of due) {
        if (this.killed.has(f.to)) continue
        this.node(f.to).receive(f.from, f.msg, this.now)
      }
      const failed = this.refusals.filter(r => r.at <= this.now)
      this.refusals = this.refusals.filter(r => r.at > this.now)
      for (const r of failed) if (!this.killed.has(r.from)) this.node(r.from).sendFailed(r.to, true, this.now)
      for (const [id, s] of this.nodes) {
        if (this.killed.has(id) || this.paused.has(id)) continue
        if (s.nextWake() <= this.now) s.tick(this.now)
      }
    }
  }

  /** Events of `type` about `peer` seen by `node` (every node when omitted). */
  about (peer: string, type: SwimEvent['type'], node?: string): Logged[] {
    return this.events.filter(e => e.event.type === type && 'peer' in e.event && e.event.peer === peer && (node === undefined || e.node === node))
  }

  private send (from: string, to: string, msg: SwimMessage): void {
    this.sent.push({ at: this.now, from, to, msg })
    if (this.killed.has(from)) return
    if (this.refusing.has(to)) {
      // a refused dial comes back as an error a moment later
      this.refusals.push({ at: this.now + 1, from, to })
      return
    }
    if (this.cut.has(`${from}>${to}`)) return
    this.flight.push({ at: this.now + 1, from, to, msg })
  }
}
