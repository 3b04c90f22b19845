// Replica deltas over gossipsub (DESIGN §3): local writes are batched for a few ms and published on
// /monk/<clusterId>/state/1; every received delta is validated before it is applied or forwarded.
import type { GossipSub } from '@chainsafe/libp2p-gossipsub'
import { TopicValidatorResult, type Message, type PeerId } from '@libp2p/interface'
import type { Random } from './clock.js'
import { checkInbound, decodeDelta, encodeDelta, entrySize, type CodecLimits } from './codec.js'
import { countRejection, type MeshCounters } from './counters.js'
import { wins, type Entry } from './entry.js'
import { DecodeError } from './errors.js'
import type { HlcClock } from './hlc.js'
import type { Replica } from './replica.js'
import type { Roles } from './roles.js'
import type { EntryVerifier } from './signing.js'

export interface GossipInit {
  pubsub: GossipSub
  topic: string
  replica: Replica
  hlc: HlcClock
  limits: CodecLimits
  counters: MeshCounters
  random: Random
  /** Longest a local write waits before its batch is published. */
  batchMs: number
  /** Checks each entry's writer signature (signing.ts). */
  verifier: EntryVerifier
  /** Decides each entry by its writer's role, holding those of writers not admitted yet (roles.ts). */
  roles: Roles
}

// room for the array headers around the entries of a delta
const deltaOverhead = 16

export class Gossip {
  private readonly init: GossipInit
  private readonly pending = new Map<string, Entry>()
  private pendingBytes = deltaOverhead
  private timer: NodeJS.Timeout | undefined
  private dropRate = 0
  private stopped = false

  constructor (init: GossipInit) {
    this.init = init
  }

  /** Subscribes to the state topic and installs the validator. */
  start (): void {
    const { pubsub, topic } = this.init
    pubsub.topicValidators.set(topic, (from, msg) => this.validate(from, msg))
    pubsub.subscribe(topic)
  }

  /** Queues local writes for the next delta. */
  enqueue (entries: readonly Entry[]): void {
    if (this.stopped) return
    for (const e of entries) {
      const size = entrySize(e)
      const replaced = this.pending.get(e.key)
      if (replaced) this.pendingBytes -= entrySize(replaced)
      if (!replaced && (this.pendingBytes + size > this.init.limits.maxDeltaBytes || this.pending.size >= this.init.limits.maxDeltaEntries)) void this.flush()
      this.pending.delete(e.key)
      this.pending.set(e.key, e)
      this.pendingBytes += size
    }
    this.timer ??= setTimeout(() => { void this.flush() }, this.init.batchMs)
  }

  /** Publishes the pending batch now (no-op when empty); resolves once it is handed to gossipsub. */
  flush (): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined }
    if (this.pending.size === 0) return Promise.resolve()
    const entries = [...this.pending.values()]
    this.pending.clear()
    this.pendingBytes = deltaOverhead
    const { counters } = this.init
    counters.deltasPublished++
    counters.entriesPublished += entries.length
    return this.init.pubsub.publish(this.init.topic, encodeDelta(entries)).then(() => {}, () => { counters.publishErrors++ })
  }

  /** Test hook: fraction of received deltas silently discarded before validation (0 = none). */
  setDropRate (rate: number): void {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`gossip drop rate must be in [0, 1], got ${rate}`)
    this.dropRate = rate
  }

  /** Test hook: publishes arbitrary bytes on the state topic (to exercise other peers' validation). */
  async publishRaw (bytes: Uint8Array): Promise<void> {
    await this.init.pubsub.publish(this.init.topic, bytes)
  }

  /** Publishes what is pending, then unsubscribes. */
  async stop (): Promise<void> {
    if (this.stopped) return
    const flushed = this.flush()
    this.stopped = true
    await flushed
    try { this.init.pubsub.unsubscribe(this.init.topic) } catch {}
    this.init.pubsub.topicValidators.delete(this.init.topic)
  }

  /**
   * Runs for every delta before gossipsub delivers or forwards it: a valid delta is applied here and
   * accepted (forwarded); anything else is rejected (not forwarded) and counted. Never throws.
   */
  private validate (_from: PeerId, msg: Message): TopicValidatorResult {
    const { counters } = this.init
    if (this.stopped) return TopicValidatorResult.Ignore
    if (this.dropRate > 0 && this.init.random.next() < this.dropRate) {
      counters.droppedByTestHook++
      return TopicValidatorResult.Ignore
    }
    counters.deltasReceived++
    try {
      // StrictSign is gossipsub's default policy, so unsigned messages never get here; we still
      // refuse them because the owner check needs the authenticated origin
      if (msg.type !== 'signed') throw new DecodeError('malformed', 'unsigned delta')
      const entries = decodeDelta(msg.data, this.init.limits)
      checkInbound(entries, msg.from.toString(), this.init.hlc)
      // an entry that would not win changes nothing here: its signature is not worth checking (a
      // replay of an older write is dropped by LWW); one that would must be its writer's own
      for (const e of entries) {
        if (wins(e, this.init.replica.entry(e.key)) && !this.init.verifier.verify(e)) {
          throw new DecodeError('signature', `entry ${e.key} does not carry a valid signature of its writer ${e.hlc.peer}`)
        }
      }
      // an entry its writer's role does not allow is refused alone (a writer admitted elsewhere but
      // not here yet is held); a delta with nothing allowed is not forwarded
      const { allowed, refused } = this.init.roles.screen(entries)
      counters.rejectedRole += refused
      if (allowed.length === 0 && refused > 0) return TopicValidatorResult.Ignore
      const applied = this.init.replica.merge(allowed)
      counters.remoteEntriesApplied += applied.length
      counters.deltasAccepted++
      return TopicValidatorResult.Accept
    } catch (err) {
      countRejection(counters, err instanceof DecodeError ? err.reason : 'malformed')
      return TopicValidatorResult.Reject
    }
  }
}
