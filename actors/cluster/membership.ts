// The membership view of one peer: who is in the cluster, who is alive for placement, names,
// tags and the host other peers reach a peer on. Read from the replica's `peer/` records and the
// mesh's heartbeats; nothing here writes.
import type { Mesh } from '../../mesh/mesh.js'
import type { Scheduler } from '../kit/clock.js'
import type { PeerRow } from '../messages/cluster.js'
import type { PeerView } from '../placement.js'
import { decodePeer, keys, type PeerRecord } from '../state.js'
import { isObj } from '../values.js'
import { publishedTunnels } from './overlay.js'

/**
 * How long after start a peer known only from its record (no heartbeat heard yet) counts as alive:
 * a few heartbeat periods (500 ms each), so a joiner first hears the peers that are up.
 */
export const UNKNOWN_GRACE_MS = 3000

export class Membership {
  private readonly startedAt: number

  constructor (private readonly mesh: Mesh, private readonly clock: Scheduler) {
    this.startedAt = clock.now()
  }

  get self (): string { return this.mesh.peerId }

  record (id: string): PeerRecord {
    return decodePeer(this.mesh.get(keys.peer(id)))
  }

  nameOf (id: string): string {
    return this.record(id).name
  }

  /** Live peers by heartbeat, this one included. */
  alive (): Set<string> {
    const out = new Set(this.mesh.alive())
    out.add(this.self)
    return out
  }

  /**
   * Who is alive, for placement. A peer this one has not heard from yet ('unknown': known only from
   * its replicated record) counts as alive for a short grace after start, unless it left: a peer
   * that just joined must not take running work from peers whose heartbeats it has not received yet.
   */
  views (): PeerView[] {
    const young = this.clock.now() - this.startedAt < UNKNOWN_GRACE_MS
    // a peer not admitted (mesh/roles.ts), this one included, gets no work: it is not a candidate
    return this.mesh.peers().filter(p => this.mesh.roleOf(p.id) !== undefined).map(p => {
      const r = decodePeer(p.record)
      const alive = p.self || p.state === 'alive' || (young && p.state === 'unknown' && r.leftAt === null)
      // a peer whose record says `synced: false` has not completed its first exchange: no new work for it
      return { id: p.id, name: r.name || p.id, tags: r.tags, alive, unsynced: isObj(p.record) && p.record.synced === false, ...(r.capacity ? { capacity: r.capacity } : {}) }
    })
  }

  /** The peer list of `monk cluster peers`: members that have not left, or are alive anyway. */
  rows (reserved: (id: string) => Record<string, number> = () => ({})): PeerRow[] {
    return this.mesh.peers().map(p => {
      const r = decodePeer(p.record)
      const cap = r.capacity ? { capacity: r.capacity, reserved: reserved(p.id) } : {}
      const tunnels = publishedTunnels(p.record).map(t => ({ ...t, name: this.nameOf(t.peer) }))
      return { row: { id: p.id, name: r.name, tags: r.tags, role: this.mesh.roleOf(p.id) ?? 'not admitted', alive: p.self || p.state === 'alive', ...(!p.self && p.state === 'unknown' ? { unheard: true } : {}), addrs: r.addrs, ...cap, ...(tunnels.length ? { tunnels } : {}) }, leftAt: this.record(p.id).leftAt }
    }).filter(x => x.leftAt === null || x.row.alive).map(x => x.row)
  }

  /** Name, tags and liveness of every peer (for ps). */
  byId (): Map<string, PeerRecord & { alive: boolean }> {
    return new Map(this.mesh.peers().map(p => [p.id, { ...decodePeer(p.record), alive: p.state === 'alive' || p.self }]))
  }

  /** The host other peers reach `id`'s published services on (its first non-wildcard address). */
  hostOf (id: string): string {
    for (const a of this.record(id).addrs) {
      const m = /^\/ip[46]\/([^/]+)\//.exec(a)
      if (m && m[1] !== '0.0.0.0') return m[1] ?? '127.0.0.1'
    }
    return '127.0.0.1'
  }
}
