// What the web UI shows at a glance, in one answer (GET /v1/gui/state): the peers with their
// health, tags, provider, region and load, and the workloads as the run tree (group → runnable
// → containers) with state, peer, ports and volumes. Built from the same handlers the CLI asks
// (cluster.peers, workload.ps, cluster.nodes) and the replica's want and status records; a page
// asks again only when the feed (gui-feed.ts) says something changed. No secret is in it: no
// join token, no secret value, no `set` variable.
import type { NodeRow } from '../../actors/cloud/rows.js'
import type { PeerRow, PsRow, StatusReply } from '../../actors/messages/index.js'
import { decodePeer, decodeStatus, decodeWant } from '../../actors/state.js'

export interface GuiPeer {
  id: string
  name: string
  health: 'alive' | 'dead' | 'unheard'
  self: boolean
  tags: string[]
  runtime: string
  provider: string | null
  region: string | null
  /** Instances it runs now, and its reserved share of cpu and memory (0..1) when it published capacity. */
  load: { instances: number, cpu: number | null, memory: number | null }
}

export interface GuiInstance {
  instance: string
  status: string
  peer: string
  peerName: string
  containers: Array<{ name: string, image: string, status: string }>
  ports: Array<{ service: string, host: string, port: number }>
  volumes: Array<{ name: string, host: string, mounts: string[] }>
  waiting: string | null
  error: string | null
  entity: { type: string, ready: boolean } | null
}

/** A group the user ran (or a runnable run alone, then with itself as only member). */
export interface GuiGroup { path: string, runnables: GuiInstance[] }

export interface GuiState {
  self: { id: string, name: string, clusterId: string, version: string | null }
  peers: GuiPeer[]
  workloads: GuiGroup[]
}

export interface StateSource {
  ask: <R>(message: { type: string, [k: string]: unknown }) => Promise<R>
  get: (key: string) => unknown
}

export async function guiState (src: StateSource): Promise<GuiState> {
  const [status, peers, rows, nodes] = await Promise.all([
    src.ask<StatusReply>({ type: 'peer.status' }),
    src.ask<PeerRow[]>({ type: 'cluster.peers' }),
    src.ask<PsRow[]>({ type: 'workload.ps', all: true }),
    // no cloud provider configured is the common case: no provider or region then
    src.ask<NodeRow[]>({ type: 'cluster.nodes' }).catch(() => [] as NodeRow[]),
  ])
  const byPeer = new Map<string, number>()
  for (const r of rows) if (r.peer !== '' && r.status !== 'stopped') byPeer.set(r.peer, (byPeer.get(r.peer) ?? 0) + 1)
  const share = (p: PeerRow, k: string): number | null => {
    const cap = p.capacity?.[k]
    return cap === undefined || cap <= 0 ? null : Math.round(((p.reserved?.[k] ?? 0) / cap) * 1000) / 1000
  }
  const guiPeers = peers.map((p): GuiPeer => {
    const node = nodes.find(n => n.peerId === p.id || n.name === p.name)
    return {
      id: p.id,
      name: p.name,
      health: p.alive ? 'alive' : p.unheard === true ? 'unheard' : 'dead',
      self: p.id === status.peerId,
      tags: p.tags,
      runtime: decodePeer(src.get(`peer/${p.id}`)).runtime,
      provider: node?.provider ?? null,
      region: node?.region ?? null,
      load: { instances: byPeer.get(p.id) ?? 0, cpu: share(p, 'cpu'), memory: share(p, 'memory') },
    }
  })
  const groups = new Map<string, GuiInstance[]>()
  for (const r of [...rows].sort((a, b) => a.instance.localeCompare(b.instance))) {
    const root = decodeWant(src.get(`want/${r.instance}`))?.root ?? r.instance.replace(/#\d+$/, '')
    const st = r.peer === '' ? undefined : decodeStatus(src.get(`status/${r.instance}/${r.peer}`))
    const ports = Object.entries(st?.services ?? {}).map(([service, s]) => ({ service, host: s.host, port: s.port }))
    const list = groups.get(root) ?? []
    list.push({
      instance: r.instance,
      status: r.status,
      peer: r.peer,
      peerName: r.peerName,
      containers: r.containers,
      ports,
      volumes: (r.volumes ?? []).map(v => ({ name: v.name, host: v.host, mounts: v.mounts })),
      waiting: r.waiting ?? null,
      error: r.error ?? null,
      entity: r.entity ?? null,
    })
    groups.set(root, list)
  }
  return {
    self: { id: status.peerId, name: status.name, clusterId: status.clusterId, version: status.version ?? null },
    peers: guiPeers,
    workloads: [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([path, runnables]) => ({ path, runnables })),
  }
}
