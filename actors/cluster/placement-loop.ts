// The placement loop of one peer: on every replica change (`want/`, `claim/`, `tpl/`, `peer/`) or
// membership change it runs `place()` (pure, placement.ts) over the wants, the claims and the live
// peers, and tells each runnable actor its assignment. Bursts of changes coalesce into one pass.
import type { Mesh } from '../../mesh/mesh.js'
import type { Scheduler, Timer } from '../kit/clock.js'
import { place, type DesiredInstance, type Placement, type PlacementInput } from '../placement.js'
import type { SecretHolders } from '../secret-keeper.js'
import { decodeTpl, instanceKeys, keys, readClaims, readWants, specOf, type WantRecord } from '../state.js'
import type { Membership } from './membership.js'
import type { Assignment, RunnableActors } from './runnables.js'

/** Coalesces bursts of replica changes into one placement pass. */
export const PLACE_DEBOUNCE_MS = 15

export class PlacementLoop {
  private timer: Timer | null = null
  private stopped = false
  /** The last pass's placements, for describe and ps (why an instance waits). */
  private last: ReadonlyMap<string, Placement> = new Map()
  /** The last pass's desired instances (their pins and tags), to tell a wait from a dead end. */
  private desiredBy: ReadonlyMap<string, DesiredInstance> = new Map()

  constructor (private readonly mesh: Mesh, private readonly members: Membership, private readonly actors: RunnableActors, private readonly clock: Scheduler) {}

  schedule (): void {
    if (this.stopped || this.timer) return
    this.timer = this.clock.setTimeout(() => { this.timer = null; this.placeNow() }, PLACE_DEBOUNCE_MS)
  }

  stop (): void {
    this.stopped = true
    this.timer?.cancel()
  }

  /** What placement works from, read from the replica now. */
  private inputs (): { wants: Map<string, WantRecord>, input: PlacementInput } {
    // a scaled runnable stands for its replicas `inst#0` … `inst#(n-1)`, each placed on its own
    const wants = new Map<string, WantRecord>()
    for (const [inst, w] of readWants(this.mesh.scan('want/'))) {
      for (const k of instanceKeys(inst, w, decodeTpl(this.mesh.get(keys.tpl(w.template))))) wants.set(k, w)
    }
    const claims = readClaims(this.mesh.scan('claim/'))
    const instances: DesiredInstance[] = []
    for (const [inst, w] of wants) if (w.state === 'run') instances.push(this.desired(inst, w))
    return { wants, input: { instances, peers: this.members.views(), claims } }
  }

  placeNow (): void {
    if (this.stopped || !this.mesh.synced) return
    const self = this.mesh.peerId
    const { wants, input } = this.inputs()
    const { instances, claims } = input
    const result = place(input)
    this.last = result.byInstance
    this.desiredBy = new Map(instances.map(i => [i.key, i]))
    const mine = [...claims.entries()].filter(([, cs]) => cs.some(c => c.peerId === self)).map(([i]) => i)
    for (const inst of new Set([...wants.keys(), ...mine, ...this.actors.names()])) {
      const w = wants.get(inst)
      const p = result.byInstance.get(inst)
      const a: Assignment = {
        want: w,
        owner: p !== undefined && p.owner === self,
        epoch: p && p.owner !== null ? p.epoch : 0,
        ownerId: p?.owner ?? null,
        unplacedReason: p && p.owner === null ? p.message : null,
        purge: w === undefined,
      }
      this.actors.assign(inst, a)
    }
  }

  /**
   * Every wanted-running instance whose runnable lists `permitted-secrets`, with the peers that
   * hold it or stand by for it (secret-keeper.ts grants them its secrets): placement's owner, every
   * peer that claims it, and the standby: the peer placement would choose if the owner died (the
   * same pure `place` with the owner marked dead), so a failover needs no live operator.
   */
  secretHolders (): SecretHolders[] {
    if (!this.mesh.synced) return []
    const { wants, input } = this.inputs()
    const result = place(input)
    const out: SecretHolders[] = []
    const byOwner = new Map<string, SecretHolders[]>()
    for (const [inst, w] of wants) {
      if (w.state !== 'run') continue
      const tpl = decodeTpl(this.mesh.get(keys.tpl(w.template)))
      const spec = tpl ? specOf(tpl) : null
      if (!spec || spec.permittedSecrets.length === 0) continue
      const owner = result.byInstance.get(inst)?.owner ?? null
      const peers = new Set<string>((input.claims.get(inst) ?? []).map(c => c.peerId))
      if (owner !== null) peers.add(owner)
      const h = { instance: inst, path: spec.path, secrets: spec.permittedSecrets, peers: [...peers] }
      out.push(h)
      if (owner !== null) byOwner.set(owner, [...byOwner.get(owner) ?? [], h])
    }
    for (const [owner, hs] of byOwner) {
      const without = place({ ...input, peers: input.peers.map(p => p.id === owner ? { ...p, alive: false } : p) })
      for (const h of hs) {
        const standby = without.byInstance.get(h.instance)?.owner ?? null
        if (standby !== null && !h.peers.includes(standby)) h.peers = [...h.peers, standby]
      }
    }
    return out
  }

  /** Why the last pass left `instance` without a peer, or null (placed, or not wanted). */
  unplaced (instance: string): string | null {
    const p = this.last.get(instance)
    return p !== undefined && p.owner === null ? p.message : null
  }

  /**
   * Why `instance` cannot be placed on any peer the cluster knows, dead or alive (a pin to a name no
   * peer has, tags no peer carries), or null when it only waits (a peer dead, unsynced, full).
   */
  unplaceable (instance: string): string | null {
    const d = this.desiredBy.get(instance)
    if (d === undefined || this.unplaced(instance) === null) return null
    const peers = this.members.views()
    const pin = d.peer ?? d.affinity?.name
    if (pin !== undefined) return peers.some(p => p.id === pin || p.name === pin) ? null : `no peer is named "${pin}" (known: ${peers.map(p => p.name).sort().join(', ')})`
    const tags = [...(d.tags ?? []), ...(d.affinity?.tag !== undefined ? [d.affinity.tag] : [])]
    if (tags.length === 0 || peers.some(p => tags.every(t => p.tags.includes(t)))) return null
    return `no peer has the tag${tags.length === 1 ? '' : 's'} ${tags.join(', ')} (a peer takes tags with monkd --tag)`
  }

  private desired (inst: string, w: WantRecord): DesiredInstance {
    const tpl = decodeTpl(this.mesh.get(keys.tpl(w.template)))
    const spec = tpl ? specOf(tpl) : null
    const affinity = spec?.affinity ?? null
    const requests = spec && Object.keys(spec.requests).length ? spec.requests : undefined
    return {
      key: inst,
      ...(requests ? { requests } : {}),
      ...(w.tags.length ? { tags: w.tags } : {}),
      ...(w.peer !== null ? { peer: w.peer } : {}),
      ...(affinity ? { affinity } : {}),
      ...(w.forceMove > 0 ? { forceMove: w.forceMove } : {}),
    }
  }
}
