// A tiny cluster simulator for placement property tests: random clusters, random desired sets,
// and rounds in which every live peer computes place() from its own view, writes its own claims
// and stops its own copies, exactly as monkd peers do through the replica.
import { place, replicaKeys, type Claim, type DesiredInstance, type PeerView, type PlacementResult } from '../../actors/placement.js'
import type { Rng } from './actors-random.js'

export type ClaimTable = Map<string, Map<string, Claim>> // instance → peerId → claim

const TAGS = ['db', 'web', 'gpu', 'eu', 'us']
const GiB = 1024 ** 3

export function randomPeer (r: Rng, i: number): PeerView {
  const tags = TAGS.filter(() => r.chance(0.35))
  const cpu = r.pick([1, 2, 4, 8, 16])
  const memory = r.pick([1, 2, 4, 16, 64]) * GiB
  const gpu = tags.includes('gpu') ? { 'nvidia.com/gpu': r.int(0, 2) } : {}
  return {
    id: `peer-${String(i).padStart(2, '0')}-${r.int(0, 1e6).toString(36)}`,
    name: `p${i}`,
    tags,
    alive: true,
    draining: r.chance(0.05),
    capacity: { cpu, memory, ...gpu },
    free: { cpu: cpu * r.next(), memory: memory * r.next(), ...gpu },
  }
}

export function randomInstances (r: Rng, peers: readonly PeerView[], count: number): DesiredInstance[] {
  const out: DesiredInstance[] = []
  for (let i = 0; out.length < count; i++) {
    const base = `ns${r.int(0, 3)}/app${i}`
    const scale = r.chance(0.2) ? r.int(1, 5) : undefined
    const tags = r.chance(0.3) ? [r.pick(TAGS)] : []
    const pin = r.chance(0.08) && peers.length > 0 ? (r.chance(0.5) ? r.pick(peers).name : r.pick(peers).id) : undefined
    const affinity = {
      ...(r.chance(0.1) ? { tag: r.pick(TAGS) } : {}),
      ...(r.chance(0.05) && peers.length > 0 ? { name: r.pick(peers).name } : {}),
      ...(r.chance(0.07) ? { resident: true } : {}),
      ...(r.chance(0.1) ? { ignorePressure: true } : {}),
    }
    const requests = r.chance(0.3) ? { cpu: r.pick([0.25, 0.5, 1, 2]), ...(r.chance(0.3) ? { memory: r.pick([0.5, 1, 4]) * GiB } : {}), ...(r.chance(0.1) ? { 'nvidia.com/gpu': 1 } : {}) } : undefined
    for (const key of replicaKeys(base, scale)) {
      out.push({
        key,
        ...(tags.length ? { tags } : {}),
        ...(pin !== undefined ? { peer: pin } : {}),
        ...(Object.keys(affinity).length ? { affinity } : {}),
        ...(requests ? { requests } : {}),
      })
    }
  }
  return out
}

export function claimsInput (table: ClaimTable): Map<string, Claim[]> {
  return new Map([...table].map(([k, m]) => [k, [...m.values()]]))
}

export function cloneClaims (table: ClaimTable): ClaimTable {
  return new Map([...table].map(([k, m]) => [k, new Map(m)]))
}

/** Applies what `peerId` does after computing `result` from its own view. Returns true if anything changed. */
export function applyAs (peerId: string, result: PlacementResult, table: ClaimTable, now: number): boolean {
  let changed = false
  for (const p of result.placements) {
    if (p.owner !== peerId) continue
    const claims = table.get(p.instance) ?? new Map<string, Claim>()
    table.set(p.instance, claims)
    const mine = claims.get(peerId)
    if (!mine || mine.epoch < p.epoch) {
      claims.set(peerId, { peerId, epoch: p.epoch, startedAt: mine?.startedAt ?? now })
      changed = true
    }
  }
  for (const s of result.stop) {
    if (s.peerId !== peerId) continue
    if (table.get(s.instance)?.delete(peerId) === true) changed = true
  }
  return changed
}

/** One round where every live peer acts on the same (agreed) view. Returns true if anything changed. */
export function agreedRound (instances: readonly DesiredInstance[], peers: readonly PeerView[], table: ClaimTable, now: number): boolean {
  const result = place({ instances, peers, claims: claimsInput(table) })
  let changed = false
  for (const p of peers) if (p.alive && applyAs(p.id, result, table, now)) changed = true
  return changed
}

/** Runs agreed rounds until nothing changes; returns the number of rounds that changed something. */
export function converge (instances: readonly DesiredInstance[], peers: readonly PeerView[], table: ClaimTable, maxRounds = 6): number {
  for (let round = 0; round < maxRounds; round++) {
    if (!agreedRound(instances, peers, table, round)) return round
  }
  throw new Error(`placement did not reach a fixpoint in ${maxRounds} rounds`)
}

/** Live claimants of an instance. */
export function liveClaimants (table: ClaimTable, instance: string, peers: readonly PeerView[]): string[] {
  const alive = new Set(peers.filter(p => p.alive).map(p => p.id))
  return [...(table.get(instance)?.keys() ?? [])].filter(id => alive.has(id)).sort()
}
