// Admission and roles (SECURITY.md, mesh README "Admission"): the founders of a cluster are its
// trust root; an operator admits a peer by writing `admit/<peer>` = { role, by, at }, and revokes
// it with role 'removed'. Holding the cluster key only lets a host connect: a peer with no
// admission writes nothing anyone applies. Workers write only the keys they own (keys.ts); every
// other key (templates, wants, secrets, providers, nodes, hub settings, admissions, invites) is
// written by operators only. Each receiver judges a writer by its own replica, on gossip and sync.
import { entrySize } from './codec.js'
import type { Entry } from './entry.js'
import { ownerOf } from './keys.js'
import type { Replica } from './replica.js'
import type { Value } from './value.js'

export type Role = 'operator' | 'worker'

/** What an `admit/<peer>` record holds; role 'removed' revokes. */
export interface Admission { role: Role | 'removed', by: string, at: number }

export const admitPrefix = 'admit/'
export const invitePrefix = 'invite/'
export const admitKey = (peer: string): string => `${admitPrefix}${peer}`

/** The admission in a replica value, or undefined when it is not one. */
export function decodeAdmission (v: Value | undefined): Admission | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return undefined
  const { role, by, at } = v as Record<string, Value>
  if (role !== 'operator' && role !== 'worker' && role !== 'removed') return undefined
  if (typeof by !== 'string' || typeof at !== 'number') return undefined
  return { role, by, at }
}

/** Why `writer`, holding `role`, may not write `key`; undefined when it may. */
export function roleProblem (key: string, writer: string, role: Role | undefined): string | undefined {
  if (role === 'operator') return undefined
  if (role === undefined) return `peer ${writer} is not admitted to the cluster (an operator admits it with an invite: monk cluster token)`
  const owner = ownerOf(key)
  if (owner === writer) return undefined
  return `peer ${writer} is a worker: writing ${key} needs the operator role`
}

export interface RolesInit {
  replica: Replica
  /** Founders of the cluster: operators whatever the replica says (the trust root). */
  founders: readonly string[]
  /** False: every peer counts as an operator (a mesh started without admission, as before roles). */
  enforce: boolean
  /** Most entries held while their writer's admission has not arrived yet, in all. */
  maxPending: number
  maxPendingBytes: number
}

/**
 * Decides writes by role, and holds entries whose writer is not admitted yet: an admission and the
 * first writes of the peer it admits travel separately, and may arrive in either order. When an
 * `admit/` record arrives, the writer's held entries are merged (the replica's LWW and quota
 * still apply). Bounded: past maxPending the oldest held entries are dropped (anti-entropy offers
 * them again while the sender holds them).
 */
export class Roles {
  private readonly init: RolesInit
  private readonly founders: Set<string>
  private readonly pending = new Map<string, Map<string, Entry>>()
  private pendingCount = 0
  private pendingBytes = 0

  constructor (init: RolesInit) {
    this.init = init
    this.founders = new Set(init.founders)
  }

  get enforced (): boolean { return this.init.enforce }

  /** The role of `peer` by this replica: founders are operators; undefined = not admitted (or removed). */
  roleOf (peer: string): Role | undefined {
    if (!this.init.enforce) return 'operator'
    const a = decodeAdmission(this.init.replica.get(admitKey(peer)))
    if (a?.role === 'removed') return undefined
    if (this.founders.has(peer)) return 'operator'
    return a?.role
  }

  /** True when `peer` holds a record of removal (peer-remove), founders included. */
  removed (peer: string): boolean {
    return decodeAdmission(this.init.replica.get(admitKey(peer)))?.role === 'removed'
  }

  /**
   * Why this peer's own write of `key` is refused, or undefined. A peer not admitted yet still
   * writes the keys it owns (its peer record first): others hold them until its admission arrives.
   */
  localProblem (key: string, self: string): string | undefined {
    const role = this.roleOf(self)
    if (role === undefined && ownerOf(key) === self) return undefined
    return roleProblem(key, self, role)
  }

  /**
   * Splits received entries (signatures already checked) into those their writers may write and
   * those refused. Refused entries of a writer that is not admitted (yet) are held.
   */
  screen (entries: readonly Entry[]): { allowed: Entry[], refused: number } {
    if (!this.init.enforce) return { allowed: [...entries], refused: 0 }
    const allowed: Entry[] = []
    let refused = 0
    for (const e of entries) {
      const role = this.roleOf(e.hlc.peer)
      if (roleProblem(e.key, e.hlc.peer, role) === undefined) { allowed.push(e); continue }
      refused++
      if (role === undefined && !this.removed(e.hlc.peer)) this.hold(e)
    }
    return { allowed, refused }
  }

  /** Takes the held entries of writers admitted by now (call after `admit/` records change). */
  release (): Entry[] {
    const out: Entry[] = []
    for (const [writer, held] of this.pending) {
      const role = this.roleOf(writer)
      if (role === undefined) {
        if (this.removed(writer)) this.drop(writer)
        continue
      }
      for (const e of held.values()) if (roleProblem(e.key, writer, role) === undefined) out.push(e)
      this.drop(writer)
    }
    return out
  }

  /** Entries held now, in all or of one writer (tests, counters). */
  held (writer?: string): number { return writer === undefined ? this.pendingCount : this.pending.get(writer)?.size ?? 0 }

  private hold (e: Entry): void {
    let held = this.pending.get(e.hlc.peer)
    if (!held) { held = new Map(); this.pending.set(e.hlc.peer, held) }
    const before = held.get(e.key)
    if (before) { this.pendingCount--; this.pendingBytes -= entrySize(before) }
    held.set(e.key, e)
    this.pendingCount++
    this.pendingBytes += entrySize(e)
    while (this.pendingCount > this.init.maxPending || this.pendingBytes > this.init.maxPendingBytes) {
      const [writer, oldest] = this.pending.entries().next().value!
      const [key, entry] = oldest.entries().next().value!
      oldest.delete(key)
      this.pendingCount--
      this.pendingBytes -= entrySize(entry)
      if (oldest.size === 0) this.pending.delete(writer)
    }
  }

  private drop (writer: string): void {
    const held = this.pending.get(writer)
    if (!held) return
    for (const e of held.values()) { this.pendingCount--; this.pendingBytes -= entrySize(e) }
    this.pending.delete(writer)
  }
}
