// What the cluster knows about instances, answered from the local replica (every peer holds it,
// so `describe` and `ps` take no network hop): the owner (live claimant with the highest epoch),
// its status record, and what a starting instance waits for.
import type { Mesh } from '../../mesh/mesh.js'
import type { ConnectionInfo, Describe, PsRow } from '../messages/workload.js'
import { publishedConnections } from './overlay.js'
import { normalisePath } from '../paths.js'
import { decodeStatus, decodeTpl, instanceKeys, keys, readClaims, readWants, specOf, statusesOf, wantAt, type ClaimRecord, type StatusRecord, type TplRecord, type WantRecord } from '../state.js'
import type { Membership } from './membership.js'
import { describeEntity } from '../entity/describe.js'

type Claims = ReadonlyMap<string, ReadonlyArray<ClaimRecord & { peerId: string }>>

export class InstanceViews {
  constructor (
    private readonly mesh: Mesh,
    private readonly members: Membership,
    private readonly unplacedWhy: (instance: string) => string | null = () => null,
    /** Why an instance can be placed on no known peer at all (see PlacementLoop.unplaceable), or null. */
    readonly unplaceable: (instance: string) => string | null = () => null,
  ) {}

  /** Why the placement left `instance` without a peer, with the dead end named when it is one. */
  private unplaced (instance: string): string | null {
    const why = this.unplacedWhy(instance)
    const end = why !== null ? this.unplaceable(instance) : null
    return why !== null && end !== null ? `${why}; ${end}` : why
  }

  claims (): Claims { return readClaims(this.mesh.scan('claim/')) }

  /** Peer id → its tags. */
  peerTags (): Map<string, string[]> {
    const out = new Map<string, string[]>()
    for (const [id, p] of this.members.byId()) out.set(id, p.tags)
    return out
  }

  /** The peer that runs `instance` (its live claimant), or null. */
  ownerOf (instance: string, claims: Claims = this.claims(), alive: ReadonlySet<string> = this.members.alive()): string | null {
    const cs = (claims.get(instance) ?? []).filter(c => alive.has(c.peerId)).sort((a, b) => b.epoch - a.epoch)
    return cs[0]?.peerId ?? null
  }

  /** The resource requests of the instances `peerId` runs (its live claims), summed. */
  reserved (peerId: string): Record<string, number> {
    const claims = this.claims()
    const out: Record<string, number> = {}
    for (const [base, w] of readWants(this.mesh.scan('want/'))) {
      if (w.state !== 'run') continue
      const tpl = decodeTpl(this.mesh.get(keys.tpl(w.template)))
      for (const inst of instanceKeys(base, w, tpl)) {
        if (this.ownerOf(inst, claims) !== peerId) continue
        for (const [r, n] of Object.entries(tpl ? specOf(tpl).requests : {})) out[r] = (out[r] ?? 0) + n
      }
    }
    return out
  }

  describe (instance: string, claims?: Claims): Describe {
    const inst = normalisePath(instance)
    const want = wantAt(k => this.mesh.get(k), inst)
    const owner = this.ownerOf(inst, claims)
    const st = owner !== null ? decodeStatus(this.mesh.get(keys.status(inst, owner))) : want?.state === 'stop' ? this.stoppedStatus(inst) : undefined
    const tpl = want ? decodeTpl(this.mesh.get(keys.tpl(want.template))) : undefined
    const status: Describe['status'] = want?.state === 'stop' ? 'stopped' : st?.state ?? (want && owner === null ? 'not placed' : want ? 'starting' : null)
    return {
      instance: inst,
      template: want?.template ?? null,
      state: want?.state ?? null,
      status,
      peer: owner,
      peerName: owner !== null ? this.members.nameOf(owner) : null,
      ...(owner !== null && this.members.record(owner).runtime !== '' ? { runtime: this.members.record(owner).runtime } : {}),
      containers: (st?.containers ?? []).map(c => ({ name: c.name, image: c.image, status: c.status })),
      ports: Object.entries(st?.services ?? {}).map(([service, e]) => ({ service, host: e.host, port: e.port })),
      ...this.connections(inst, owner),
      ...(st?.volumes?.length ? { volumes: st.volumes } : {}),
      ...(st?.events?.length ? { events: st.events.map(e => ({ time: new Date(e.at).toISOString(), message: e.message })) } : {}),
      ready: st?.ready ?? false,
      error: st?.error ?? null,
      waiting: status === 'starting' ? this.waitingFor(st, tpl) : status === 'not placed' ? this.unplaced(inst) ?? this.scaledNote(inst, want, tpl) ?? 'a peer to run it' : null,
      generation: st?.generation ?? 0,
      ...(tpl?.kind === 'entity-instance' ? { entity: describeEntity(this.mesh, inst, tpl.value) } : {}),
    }
  }

  /** The connections of `inst` as its owner published them, with the names of the peers they go to. */
  private connections (inst: string, owner: string | null): { connections?: ConnectionInfo[] } {
    if (owner === null) return {}
    const rows = publishedConnections(this.mesh.get(keys.peer(owner)), inst)
    return rows.length ? { connections: rows.map(r => ({ ...r, ...(r.peer ? { peerName: this.members.nameOf(r.peer) } : {}) })) } : {}
  }

  /** For the base path of a scaled runnable: where its replicas are described. */
  private scaledNote (inst: string, want: WantRecord | undefined, tpl: TplRecord | undefined): string | null {
    if (want === undefined) return null
    const ks = instanceKeys(inst, want, tpl)
    return ks.length === 1 && ks[0] === inst ? null : `nothing: ${inst} is scaled to ${ks.length} replica${ks.length === 1 ? '' : 's'} (${ks.length ? `${ks[0] ?? ''}${ks.length > 1 ? ` … ${ks[ks.length - 1] ?? ''}` : ''}` : 'none'}; describe each, or see ps)`
  }

  /** A stopped instance has no claimant: the newest `stopped` status a peer wrote (it lists the volumes kept). */
  private stoppedStatus (inst: string): StatusRecord | undefined {
    let best: StatusRecord | undefined
    for (const e of this.mesh.scan(keys.statusPrefix(inst))) {
      const s = decodeStatus(e.value)
      if (s?.state === 'stopped' && (best === undefined || s.updatedAt > best.updatedAt)) best = s
    }
    return best
  }

  /**
   * What a starting instance waits for: its owner's own word when it wrote one, else read from how
   * far it got: a `depends.wait-for` target not running and ready, its images, or its readiness.
   */
  waitingFor (st: StatusRecord | undefined, tpl: TplRecord | undefined): string | null {
    if (st?.waiting) return st.waiting
    if (st === undefined || st.containers.length === 0) {
      const dep = this.pendingDepends(tpl)
      if (dep !== undefined) return `depends ${dep}`
      const images = imagesOf(tpl)
      return images.length ? `image ${images.join(', ')}` : 'a peer to start it'
    }
    return st.ready ? null : 'readiness'
  }

  private pendingDepends (tpl: TplRecord | undefined): string | undefined {
    for (const raw of tpl ? specOf(tpl).depends.runnables : []) {
      const target = normalisePath(raw)
      const ok = statusesOf(p => this.mesh.scan(p), target).some(e => { const s = decodeStatus(e.value); return s?.state === 'running' && s.ready })
      if (!ok) return target
    }
    return undefined
  }

  ps (o: { all?: boolean | undefined, peer?: string | undefined, tag?: string | undefined }): PsRow[] {
    const peers = this.members.byId()
    const claims = this.claims() // one scan of claim/ for the whole listing
    const alive = this.members.alive()
    const rows: PsRow[] = []
    for (const [base, w] of readWants(this.mesh.scan('want/'))) {
      if (w.state !== 'run' && o.all !== true) continue
      // a scaled runnable: one row per replica, `ns/app#k`
      for (const inst of w.state === 'run' ? instanceKeys(base, w, decodeTpl(this.mesh.get(keys.tpl(w.template)))) : [base]) {
        const owner = this.ownerOf(inst, claims, alive)
        const st = owner !== null ? decodeStatus(this.mesh.get(keys.status(inst, owner))) : w.state === 'stop' ? this.stoppedStatus(inst) : undefined
        const pr = owner !== null ? peers.get(owner) : undefined
        if (o.peer !== undefined && owner !== o.peer && pr?.name !== o.peer) continue
        if (o.tag !== undefined && !(pr?.tags ?? []).includes(o.tag)) continue
        const status = w.state === 'stop' ? 'stopped' : st?.state ?? 'starting'
        const why = w.state === 'run' && owner === null ? this.unplaced(inst) : null
        const tpl = decodeTpl(this.mesh.get(keys.tpl(w.template)))
        const entity = tpl?.kind === 'entity-instance' ? { entity: { type: typeof tpl.value.defines === 'string' ? tpl.value.defines : '', ready: st?.ready ?? false } } : {}
        rows.push({ instance: inst, peer: owner ?? '', peerName: pr?.name ?? '', status, ...(why !== null ? { waiting: why } : {}), containers: (st?.containers ?? []).map(c => ({ name: c.name, image: c.image, status: c.status })), ...(st?.volumes?.length ? { volumes: st.volumes } : {}), ...(st?.error ? { error: st.error } : {}), ...entity })
      }
    }
    return rows.sort((a, b) => a.instance.localeCompare(b.instance))
  }
}

function imagesOf (tpl: TplRecord | undefined): string[] {
  return tpl ? specOf(tpl).containers.flatMap(c => typeof c.fields.image === 'string' ? [c.fields.image] : []) : []
}
