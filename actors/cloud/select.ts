// Reading the node records of the replica: the rows of `cluster.nodes`, and which grown machines
// `cluster.shrink` and `cluster.peer-remove` terminate (the CloudManager drains what is picked).
import type { Mesh } from '../../mesh/mesh.js'
import { decodeNode, type NodeRecord } from '../node.js'
import { decodePeer } from '../state.js'
import { GrowError } from './errors.js'
import { autoTags } from './provider.js'
import type { NodeRow, PeerRemoveRequest, ShrinkRequest } from './rows.js'

/** Instances a peer runs (its claims). */
function busy (mesh: Mesh, peerId: string | null): number {
  if (peerId === null) return 0
  return mesh.scan('claim/').filter(e => e.key.endsWith(`/${peerId}`)).length
}

const tagged = (r: NodeRecord, tag: string): boolean => r.spec.tags.includes(tag) || autoTags(r.provider, { region: r.spec.region, zone: r.spec.zone }).includes(tag)

/** Idle grown peers matching `req`, newest first; busy ones are skipped (with why) unless forced. */
export function pickShrink (mesh: Mesh, req: ShrinkRequest): { pick: NodeRecord[], skipped: Array<{ name: string, reason: string }> } {
  const skipped: Array<{ name: string, reason: string }> = []
  const pick: NodeRecord[] = []
  const all = mesh.scan('node/').map(e => decodeNode(e.value)).filter((r): r is NodeRecord => r !== undefined && (r.state === 'joined' || r.state === 'booting' || r.state === 'creating' || r.state === 'requested'))
    .sort((a, b) => b.requestedAt - a.requestedAt || b.name.localeCompare(a.name, undefined, { numeric: true }))
  for (const r of all) {
    if (req.provider !== undefined && r.provider !== req.provider) continue
    if (req.name !== undefined && r.name !== req.name && !new RegExp(`^${req.name.replace(/[^a-z0-9-]/g, '')}-\\d+$`).test(r.name)) continue
    if (req.tag !== undefined && !tagged(r, req.tag)) continue
    const n = busy(mesh, r.peerId)
    if (n > 0 && req.force !== true) { skipped.push({ name: r.name, reason: `runs ${n} instance(s) (use --force to terminate it anyway)` }); continue }
    if (req.count !== undefined && pick.length >= req.count) continue
    pick.push(r)
  }
  return { pick, skipped }
}

/** The grown peers named (node name, peer name or peer id) or tagged; errors name what does not match. */
export function pickPeerRemove (mesh: Mesh, req: PeerRemoveRequest): NodeRecord[] {
  const recs = mesh.scan('node/').map(e => decodeNode(e.value)).filter((r): r is NodeRecord => r !== undefined && r.state !== 'gone' && !(r.state === 'failed' && r.cleanup !== 'pending'))
  const pick = new Map<string, NodeRecord>()
  for (const id of req.ids ?? []) {
    const r = recs.find(x => x.name === id || x.peerId === id)
    if (!r) {
      const peer = mesh.peers().find(p => p.id === id || decodePeer(p.record).name === id)
      if (peer) throw new GrowError('not-grown', `peer ${id} was not grown by this cluster (no machine to terminate): stop its monkd there with monk cluster exit`)
      throw new GrowError('no-such-node', `no grown peer or node named ${id} (see monk cluster nodes)`)
    }
    pick.set(r.name, r)
  }
  if (req.tag !== undefined) for (const r of recs) if (tagged(r, req.tag)) pick.set(r.name, r)
  if (pick.size === 0) throw new GrowError('no-such-node', 'no grown peer matches: give --id NAME or --tag TAG')
  if (req.force !== true) {
    const taken = [...pick.values()].filter(r => busy(mesh, r.peerId) > 0)
    if (taken.length > 0) throw new GrowError('node-busy', `${taken.map(r => r.name).join(', ')} run(s) instances; use --force to terminate anyway (their work moves to other matching peers)`)
  }
  return [...pick.values()]
}

/** `cluster.nodes`: the node records (all, or those named), with their peers' liveness. */
export function nodeRows (mesh: Mesh, names: readonly string[] | undefined, peerName: (id: string) => string): NodeRow[] {
  const want = names && names.length > 0 ? new Set(names) : null
  const alive = new Set(mesh.alive())
  const rows: NodeRow[] = []
  for (const { value } of mesh.scan('node/')) {
    const r = decodeNode(value)
    if (!r || (want && !want.has(r.name))) continue
    rows.push({
      name: r.name, provider: r.provider, state: r.state, region: r.spec.region, zone: r.spec.zone, instanceType: r.spec.instanceType,
      tags: [...new Set([...r.spec.tags, ...autoTags(r.provider, { region: r.spec.region, zone: r.spec.zone })])],
      cloudId: r.cloudId, address: r.address, peerId: r.peerId, alive: r.peerId !== null && alive.has(r.peerId),
      driver: r.driver, driverName: peerName(r.driver), error: r.error, warning: r.warning, cleanup: r.cleanup,
      requestedAt: r.requestedAt, stateAt: r.stateAt, history: r.history,
    })
  }
  return rows.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }))
}
