// Placement (DESIGN §5): who runs each desired instance, as a pure function of the desired
// instances, the peer view and the current claims. Every peer computes the same answer from the
// same inputs, in any input order; there is no I/O, clock or randomness here.
//
// Order of decisions, per pass:
//  1. sticky, ordinary instances: a live, eligible claimant with epoch >= forceMove keeps its
//     instance; among several such claimants the highest-ranked keeps it (rankClaims).
//  2. sticky, resident instances: as 1, but the claimant's peer must hold nothing else after 1
//     (when a resident and an ordinary instance collide on one peer, the resident moves).
//  3. unclaimed resident instances, then 4. unclaimed ordinary instances: among eligible peers,
//     fewest replicas of the same runnable first (spread), then the highest weighted rendezvous
//     score -w/ln(h(instance, peer)), w = the peer's free capacity (peerWeight); ties by smaller id.
// Instances are visited in key order (replicas by number). Room for resource requests is
// reservation accounting, as in Kubernetes: a peer's capacity minus the requests of every instance
// placed on it in this pass (sticky ones first), so the answer never depends on measurement lag.
// Measured free resources only weigh peers, so the least busy peer wins more often.
import { PLACEMENT_CPU_UNIT, PLACEMENT_MEMORY_UNIT, PLACEMENT_MIN_WEIGHT, PLACEMENT_UNKNOWN_WEIGHT } from './defaults.js'
import { PlacementError } from './errors.js'
import { rendezvousScore, unitHash } from './rendezvous.js'

/** Resource amounts by name: `cpu` in cores, `memory` in bytes, others (e.g. `nvidia.com/gpu`) as counts. */
export type Resources = Readonly<Record<string, number>>

/** A runnable's `affinity` section (spec §2.7.11). */
export interface Affinity {
  /** Only peers carrying this tag. */
  readonly tag?: string
  /** Only the peer with this name (or id); wins over every tag. */
  readonly name?: string
  /** Needs a peer that runs nothing else, and keeps it to itself. */
  readonly resident?: boolean
  /** Skip the room check for resource requests (a busy peer is fine). */
  readonly ignorePressure?: boolean
}

/** One instance that should be running (from `want/<instance>` and its template). */
export interface DesiredInstance {
  /** `ns/name`, or `ns/name#i` for replica i of a scaled runnable (see replicaKeys). */
  readonly key: string
  /** Tags a peer must all carry (`--tag`); ignored when a pin (peer or affinity.name) is set. */
  readonly tags?: readonly string[]
  /** `--peer`: a peer name or id. Wins over affinity.name and over all tags. */
  readonly peer?: string
  readonly affinity?: Affinity
  /** Resources reserved for the instance on its peer; checked unless affinity.ignorePressure. */
  readonly requests?: Resources
  /**
   * `--force-move` marker: claims with an epoch below this are not sticky, so rendezvous picks
   * the peer again. Set it to (highest claim epoch of the instance) + 1 when the user asks.
   */
  readonly forceMove?: number
}

/** One peer as this peer currently sees it (replica record + failure detector). */
export interface PeerView {
  readonly id: string
  readonly name: string
  readonly tags: readonly string[]
  readonly alive: boolean
  readonly draining?: boolean
  /** Has not completed its first anti-entropy exchange (its `peer/` record says `synced: false`): gets no new work, keeps what it claims. */
  readonly unsynced?: boolean
  /**
   * Resources the peer offers to instances. A request fits if capacity minus the requests of the
   * instances placed on the peer covers it; a resource the peer does not list counts as none.
   */
  readonly capacity?: Resources
  /** Measured unused resources; only weighs the peer in rendezvous (capacity when absent). */
  readonly free?: Resources
}

/** A `claim/<instance>/<peerId>` record: "I run it". */
export interface Claim {
  readonly peerId: string
  /** Per-instance generation: a new owner claims with a higher epoch than every claim it saw. */
  readonly epoch: number
  readonly startedAt: number
}

export interface PlacementInput {
  readonly instances: readonly DesiredInstance[]
  readonly peers: readonly PeerView[]
  /** Claims by instance key; may include instances that are no longer desired. */
  readonly claims: ReadonlyMap<string, readonly Claim[]>
}

/** Why a peer cannot take an instance, in the order the checks run. */
export type Exclusion =
  | 'dead' // not alive in this view (or unknown)
  | 'draining'
  | 'unsynced' // new work only: the peer's replica is not synced yet
  | 'pin' // not the peer named by --peer / affinity.name
  | 'tags' // lacks a required tag
  | 'not-empty' // resident instance, but the peer runs something else
  | 'resident-there' // the peer is reserved by a resident instance
  | 'resources' // capacity left after reservations does not cover the requests

export interface Placed {
  readonly instance: string
  /** Peer id that runs the instance. */
  readonly owner: string
  /** Epoch the owner's claim must carry; if its claim has a lower one, it rewrites the claim. */
  readonly epoch: number
  /** `sticky`: a claimant kept it. `rendezvous`: chosen by hashing (it may still be the old claimant after a force-move). */
  readonly how: 'sticky' | 'rendezvous'
}

export interface Unplaced {
  readonly instance: string
  readonly owner: null
  readonly code: 'no-eligible-peer'
  /** e.g. "no eligible peer for ns/db: 2 dead, 1 lacks a tag". */
  readonly message: string
  /** How many peers were excluded for each reason (each peer counted once, by its first failed check). */
  readonly excluded: Readonly<Partial<Record<Exclusion, number>>>
  /** Each peer passed over, in id order, with the reason (and for resources what was short). */
  readonly passedOver: ReadonlyArray<{ readonly peer: string, readonly why: Exclusion, readonly detail: string }>
}

export type Placement = Placed | Unplaced

/** A claim whose (live) peer must stop its copy of the instance at once. */
export interface StopOrder {
  readonly instance: string
  readonly peerId: string
  readonly epoch: number
  /**
   * `duplicate`: it was a valid sticky claim but a higher-ranked claimant keeps the instance.
   * `ineligible`: its peer can no longer run the instance (see `why`).
   * `forced`: a force-move made the claim non-sticky and rendezvous chose another peer.
   * `unwanted`: the instance is not desired any more.
   */
  readonly reason: 'duplicate' | 'ineligible' | 'forced' | 'unwanted'
  readonly why?: Exclusion
  /** Owner that keeps the instance, when there is one. */
  readonly keptBy?: string
}

export interface PlacementResult {
  /** One entry per desired instance, in instance key order. */
  readonly placements: readonly Placement[]
  readonly byInstance: ReadonlyMap<string, Placement>
  /** Claims to stop, in (instance, peer id) order. Only live peers' claims appear. */
  readonly stop: readonly StopOrder[]
}

// ---------------------------------------------------------------------------------------------
// Instance keys and replicas

const replicaSuffix = /#(0|[1-9][0-9]*)$/

/** Instance keys of a runnable: `[base]` when it is not scaled, else `base#0` … `base#(n-1)`. */
export function replicaKeys (base: string, scale?: number): string[] {
  if (scale === undefined) return [base]
  if (!Number.isInteger(scale) || scale < 0) throw new PlacementError(`scale of ${base} must be a whole number >= 0, got ${scale}`)
  return Array.from({ length: scale }, (_, i) => `${base}#${i}`)
}

/** Splits `ns/name#3` into base `ns/name` and replica 3; replica is null for an unscaled key. */
export function parseInstanceKey (key: string): { base: string, replica: number | null } {
  const m = replicaSuffix.exec(key)
  return m ? { base: key.slice(0, m.index), replica: Number(m[1]) } : { base: key, replica: null }
}

/** Total order on instance keys: by base (code units, locale-free), then replica number. */
export function compareInstanceKeys (a: string, b: string): number {
  const pa = parseInstanceKey(a)
  const pb = parseInstanceKey(b)
  if (pa.base !== pb.base) return pa.base < pb.base ? -1 : 1
  return (pa.replica ?? -1) - (pb.replica ?? -1)
}

// ---------------------------------------------------------------------------------------------
// Ranking

/**
 * Rank of competing claims for one instance, best first: higher epoch (the newer owner: a peer
 * that returns after a failover sees the newer claim and stops), then higher rendezvous hash
 * h(instance, peer) (unweighted, so fluctuating free capacity cannot flip it), then smaller peer id.
 */
export function rankClaims (instance: string, claims: readonly Claim[]): Claim[] {
  return [...claims].sort((a, b) => {
    if (a.epoch !== b.epoch) return b.epoch - a.epoch
    const ha = unitHash(instance, a.peerId)
    const hb = unitHash(instance, b.peerId)
    if (ha !== hb) return hb - ha
    return a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0
  })
}

/**
 * A peer's rendezvous weight: how many (1 core, 1 GiB) workloads fit in its free cpu and memory,
 * using whichever of the two it reports; PLACEMENT_UNKNOWN_WEIGHT if it reports neither.
 */
export function peerWeight (free: Resources | undefined): number {
  const cpu = free?.['cpu']
  const memory = free?.['memory']
  const slots: number[] = []
  if (cpu !== undefined) slots.push(cpu / PLACEMENT_CPU_UNIT)
  if (memory !== undefined) slots.push(memory / PLACEMENT_MEMORY_UNIT)
  if (slots.length === 0) return PLACEMENT_UNKNOWN_WEIGHT
  return Math.max(PLACEMENT_MIN_WEIGHT, Math.min(...slots))
}

// ---------------------------------------------------------------------------------------------
// place()

interface PeerState {
  readonly view: PeerView
  readonly tags: ReadonlySet<string>
  /** Capacity minus the requests of instances placed here in this pass. */
  readonly room: Record<string, number>
  /** Weighing figures: measured free (or capacity) minus requests placed by rendezvous in this pass. */
  readonly weighFree: Record<string, number> | undefined
  /** Instances given to this peer so far in this pass. */
  count: number
  residents: number
  replicasOf: Map<string, number>
}

interface Ctx {
  readonly peers: ReadonlyMap<string, PeerState>
  readonly sortedPeers: readonly PeerState[]
}

/** Computes the owner of every desired instance and the claims to stop. Pure; see the file header. */
export function place (input: PlacementInput): PlacementResult {
  const instances = validateInstances(input.instances)
  const ctx = buildPeers(input.peers)
  const claimsOf = (key: string): Claim[] => normaliseClaims(key, input.claims.get(key) ?? [])

  const owners = new Map<string, Placement>()
  const assign = (inst: DesiredInstance, peer: PeerState, epoch: number, how: Placed['how']): void => {
    owners.set(inst.key, { instance: inst.key, owner: peer.view.id, epoch, how })
    peer.count++
    if (inst.affinity?.resident === true) peer.residents++
    const base = parseInstanceKey(inst.key).base
    peer.replicasOf.set(base, (peer.replicasOf.get(base) ?? 0) + 1)
    for (const [r, amount] of Object.entries(inst.requests ?? {})) {
      peer.room[r] = (peer.room[r] ?? 0) - amount
      // Measured free figures already include what a sticky claimant runs.
      if (how === 'rendezvous' && peer.weighFree) peer.weighFree[r] = (peer.weighFree[r] ?? 0) - amount
    }
  }

  const isResident = (i: DesiredInstance): boolean => i.affinity?.resident === true
  const ordinary = instances.filter(i => !isResident(i))
  const residents = instances.filter(isResident)

  // Steps 1 and 2: sticky claims.
  for (const inst of [...ordinary, ...residents]) {
    const floor = inst.forceMove ?? 0
    const candidates = claimsOf(inst.key).filter(c => {
      if (c.epoch < floor) return false
      const peer = ctx.peers.get(c.peerId)
      return peer !== undefined && exclusionOf(inst, peer, { claimant: true }) === null
    })
    const keeper = rankClaims(inst.key, candidates)[0]
    if (keeper) assign(inst, ctx.peers.get(keeper.peerId)!, keeper.epoch, 'sticky')
  }

  // Steps 3 and 4: rendezvous for what no claimant kept.
  for (const inst of [...residents, ...ordinary]) {
    if (owners.has(inst.key)) continue
    const base = parseInstanceKey(inst.key).base
    const excluded: Partial<Record<Exclusion, number>> = {}
    const passedOver: Array<{ peer: string, why: Exclusion, detail: string }> = []
    let best: { peer: PeerState, spread: number, score: number } | undefined
    for (const peer of ctx.sortedPeers) {
      const why = exclusionOf(inst, peer, { claimant: false })
      if (why !== null) {
        excluded[why] = (excluded[why] ?? 0) + 1
        passedOver.push({ peer: peer.view.name || peer.view.id, why, detail: why === 'resources' ? shortfall(inst, peer) : exclusionWords[why] })
        continue
      }
      const spread = peer.replicasOf.get(base) ?? 0
      const score = rendezvousScore(inst.key, peer.view.id, peerWeight(peer.weighFree))
      // sortedPeers is in id order, so keeping the first of equal candidates breaks ties by smaller id.
      if (!best || spread < best.spread || (spread === best.spread && score > best.score)) best = { peer, spread, score }
    }
    if (best) {
      const claims = claimsOf(inst.key)
      const highest = claims.reduce((m, c) => Math.max(m, c.epoch), 0)
      assign(inst, best.peer, Math.max(highest + 1, inst.forceMove ?? 1), 'rendezvous')
    } else {
      owners.set(inst.key, { instance: inst.key, owner: null, code: 'no-eligible-peer', message: describeExclusions(inst.key, excluded, ctx.sortedPeers.length, passedOver), excluded, passedOver })
    }
  }

  const stop = stopOrders(input.claims, instances, owners, ctx, claimsOf)
  const placements = instances.map(i => owners.get(i.key)!)
  return { placements, byInstance: owners, stop }
}

function stopOrders (
  claims: ReadonlyMap<string, readonly Claim[]>,
  instances: readonly DesiredInstance[],
  owners: ReadonlyMap<string, Placement>,
  ctx: Ctx,
  claimsOf: (key: string) => Claim[]
): StopOrder[] {
  const desired = new Map(instances.map(i => [i.key, i]))
  const out: StopOrder[] = []
  const keys = [...new Set([...claims.keys()])].sort(compareInstanceKeys)
  for (const key of keys) {
    const inst = desired.get(key)
    const placement = owners.get(key)
    const owner = placement?.owner ?? null
    for (const c of claimsOf(key)) {
      const peer = ctx.peers.get(c.peerId)
      if (!peer?.view.alive || c.peerId === owner) continue
      const keptBy = owner === null ? {} : { keptBy: owner }
      if (!inst) { out.push({ instance: key, peerId: c.peerId, epoch: c.epoch, reason: 'unwanted' }); continue }
      const why = exclusionOf(inst, peer, { claimant: true, ignoreOccupancy: true })
      if (why !== null) out.push({ instance: key, peerId: c.peerId, epoch: c.epoch, reason: 'ineligible', why, ...keptBy })
      else if (c.epoch < (inst.forceMove ?? 0)) out.push({ instance: key, peerId: c.peerId, epoch: c.epoch, reason: 'forced', ...keptBy })
      else if (placement !== undefined && placement.owner !== null && placement.how === 'sticky') out.push({ instance: key, peerId: c.peerId, epoch: c.epoch, reason: 'duplicate', ...keptBy })
      // A valid claim that was not even sticky lost only to occupancy: a resident whose peer runs other work.
      else out.push({ instance: key, peerId: c.peerId, epoch: c.epoch, reason: 'ineligible', why: 'not-empty', ...keptBy })
    }
  }
  return out
}

/**
 * The first rule that keeps `peer` from running `inst`, or null if it may. A claimant skips the
 * resources check: running work is never evicted for room (its reservation is still counted). With
 * `ignoreOccupancy`, the resident checks are skipped too (used to explain stop orders).
 */
function exclusionOf (inst: DesiredInstance, peer: PeerState, opts: { claimant: boolean, ignoreOccupancy?: boolean }): Exclusion | null {
  const v = peer.view
  if (!v.alive) return 'dead'
  if (v.draining === true) return 'draining'
  if (v.unsynced === true && !opts.claimant) return 'unsynced'
  const pin = inst.peer ?? inst.affinity?.name
  if (pin !== undefined) {
    if (v.id !== pin && v.name !== pin) return 'pin'
  } else {
    for (const t of inst.tags ?? []) if (!peer.tags.has(t)) return 'tags'
    const tag = inst.affinity?.tag
    if (tag !== undefined && !peer.tags.has(tag)) return 'tags'
  }
  if (opts.ignoreOccupancy !== true) {
    if (inst.affinity?.resident === true) { if (peer.count > 0) return 'not-empty' } else if (peer.residents > 0) return 'resident-there'
  }
  if (!opts.claimant && inst.affinity?.ignorePressure !== true && inst.requests) {
    for (const [r, amount] of Object.entries(inst.requests)) {
      if (amount > 0 && (peer.room[r] ?? 0) < amount) return 'resources'
    }
  }
  return null
}

const exclusionWords: Record<Exclusion, string> = {
  dead: 'dead',
  draining: 'draining',
  unsynced: 'not synced yet',
  pin: 'not the pinned peer',
  tags: 'lacking a required tag',
  'not-empty': 'running other work (resident needs an empty peer)',
  'resident-there': 'reserved by a resident instance',
  resources: 'without room for the requests',
}

function describeExclusions (key: string, excluded: Partial<Record<Exclusion, number>>, total: number, passed: ReadonlyArray<{ peer: string, why: Exclusion, detail: string }> = []): string {
  if (total === 0) return `no eligible peer for ${key}: no peers known`
  const parts = (Object.keys(exclusionWords) as Exclusion[])
    .filter(e => (excluded[e] ?? 0) > 0)
    .map(e => `${excluded[e]} ${exclusionWords[e]}`)
  const short = passed.filter(p => p.why === 'resources').map(p => `${p.peer}: ${p.detail}`)
  return `no eligible peer for ${key}: ${parts.join(', ')}${short.length ? ` (${short.join('; ')})` : ''}`
}

/** What a peer lacks for an instance's requests: `cpu 2 requested, 1 free of 1`. */
function shortfall (inst: DesiredInstance, peer: PeerState): string {
  const out: string[] = []
  for (const [r, amount] of Object.entries(inst.requests ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const room = peer.room[r] ?? 0
    if (amount > 0 && room < amount) out.push(`${r} ${amountText(r, amount)} requested, ${amountText(r, Math.max(0, room))} free of ${amountText(r, peer.view.capacity?.[r] ?? 0)}`)
  }
  return out.join(', ')
}

function amountText (r: string, n: number): string {
  if (r === 'memory') return n >= 1024 ** 3 ? `${+(n / 1024 ** 3).toFixed(2)}Gi` : `${+(n / 1024 ** 2).toFixed(1)}Mi`
  return `${+n.toFixed(3)}`
}

function validateInstances (list: readonly DesiredInstance[]): DesiredInstance[] {
  const seen = new Set<string>()
  for (const inst of list) {
    if (typeof inst.key !== 'string' || inst.key === '') throw new PlacementError('every desired instance needs a non-empty key')
    if (seen.has(inst.key)) throw new PlacementError(`instance ${inst.key} is listed twice in the desired set`)
    seen.add(inst.key)
    if (inst.forceMove !== undefined && !Number.isFinite(inst.forceMove)) throw new PlacementError(`forceMove of ${inst.key} must be a finite number`)
    for (const [r, amount] of Object.entries(inst.requests ?? {})) {
      if (!Number.isFinite(amount) || amount < 0) throw new PlacementError(`request ${r} of ${inst.key} must be a finite number >= 0, got ${amount}`)
    }
  }
  return [...list].sort((a, b) => compareInstanceKeys(a.key, b.key))
}

function buildPeers (views: readonly PeerView[]): Ctx {
  const peers = new Map<string, PeerState>()
  for (const v of views) {
    if (peers.has(v.id)) throw new PlacementError(`peer ${v.id} is listed twice in the peer view`)
    const weighFrom = v.free ?? v.capacity
    peers.set(v.id, { view: v, tags: new Set(v.tags), room: { ...v.capacity }, weighFree: weighFrom ? { ...weighFrom } : undefined, count: 0, residents: 0, replicasOf: new Map() })
  }
  const sortedPeers = [...peers.values()].sort((a, b) => (a.view.id < b.view.id ? -1 : a.view.id > b.view.id ? 1 : 0))
  return { peers, sortedPeers }
}

/** One claim per peer (the highest epoch if a peer appears twice), in peer id order. */
function normaliseClaims (key: string, claims: readonly Claim[]): Claim[] {
  const byPeer = new Map<string, Claim>()
  for (const c of claims) {
    if (!Number.isFinite(c.epoch)) throw new PlacementError(`claim of ${key} by ${c.peerId} has a non-finite epoch`)
    const prev = byPeer.get(c.peerId)
    if (!prev || c.epoch > prev.epoch || (c.epoch === prev.epoch && c.startedAt < prev.startedAt)) byPeer.set(c.peerId, c)
  }
  return [...byPeer.values()].sort((a, b) => (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0))
}
