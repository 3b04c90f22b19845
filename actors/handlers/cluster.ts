// The cluster actor's own messages: this peer's status, the peer list, the join token, this
// peer's tags, and the daemon's stop (which only the daemon can do: given as `stop`).
import type { Mesh } from '../../mesh/mesh.js'
import { INVITE_TTL_MS } from '../defaults.js'
import { decodeSealed } from '../secrets.js'
import type { Membership } from '../cluster/membership.js'
import type { Handlers } from '../messages/index.js'
import type { StatusReply } from '../messages/cluster.js'

export interface ClusterExtras {
  /** Fields added to `peer.status` (version, home). */
  status?: () => { version?: string, home?: string }
  /** `daemon.stop`: the daemon's shutdown; absent = refused. */
  stop?: () => void
  /** The requests reserved on each peer (the instances it runs), for the peer list. */
  reserved?: (peerId: string) => Record<string, number>
}

export interface ClusterSelf { name: string, tags: string[], runtime: string }

/** Delay before the daemon stops, so the reply reaches the asker first. */
const STOP_DELAY_MS = 50

export function clusterHandlers (mesh: Mesh, members: Membership, self: ClusterSelf, extras: ClusterExtras = {}): Handlers<'cluster'> {
  const status = (): StatusReply => ({
    peerId: mesh.peerId, name: self.name, tags: [...self.tags], runtime: self.runtime, clusterId: mesh.clusterId, synced: mesh.synced,
    peers: mesh.alive().length, addrs: mesh.addresses(), tunnels: tunnelCounts(mesh), role: mesh.roleOf(mesh.peerId) ?? 'not admitted', ...extras.status?.(),
  })
  return {
    'peer.status': () => Promise.resolve(status()),
    'cluster.peers': () => Promise.resolve(members.rows(extras.reserved)),
    // every token carries a fresh invite: the cluster key alone admits nobody (mesh/roles.ts)
    'cluster.token': async m => ({ token: await mesh.invite({ role: m.role ?? 'operator', uses: m.uses ?? null, ttlMs: m.ttlMs ?? INVITE_TTL_MS }) }),
    'cluster.info': () => Promise.resolve(status()),
    'cluster.peer-tags': async m => {
      self.tags.splice(0, self.tags.length, ...m.tags)
      await mesh.announce({ tags: m.tags })
      return { tags: m.tags }
    },
    'cluster.peer-revoke': async m => {
      const grown = new Set(mesh.scan('node/').flatMap(e => { const v = e.value as { name?: unknown, peerId?: unknown }; return [v.name, v.peerId].filter((x): x is string => typeof x === 'string') }))
      const revoked: string[] = []
      const rest: string[] = []
      for (const id of m.ids) {
        const peer = mesh.peers().find(p => p.id === id || (p.record as { name?: unknown } | undefined)?.name === id)
        if (!peer || grown.has(id) || grown.has(peer.id)) { rest.push(id); continue }
        if (peer.id === mesh.peerId) throw Object.assign(new Error(`peer ${id} is this peer: remove it from another operator`), { code: 'bad-request' })
        await mesh.admit(peer.id, 'removed')
        revoked.push(peer.id)
      }
      return { revoked, rest }
    },
    // secrets are still sealed with an HKDF of the cluster key (actors/secrets.ts): say how many
    // secrets sealed per admitted peer (secret-keys.ts) do not depend on the cluster key; only values an
    // older monk sealed under it, not yet re-sealed by the keeper, are at risk after a rotation
    'cluster.rotate-key': async () => ({ ...await mesh.rotateKey(), secrets: mesh.scan('secret/').filter(({ value }) => { const s = decodeSealed(value); return s !== undefined && s.epoch === undefined }).length }),
    'daemon.stop': () => {
      const stop = extras.stop
      if (!stop) return Promise.reject(Object.assign(new Error('this peer cannot be stopped through the API'), { code: 'unsupported' }))
      setTimeout(stop, STOP_DELAY_MS)
      return Promise.resolve({ stopping: true })
    },
  }
}

function tunnelCounts (mesh: Mesh): NonNullable<StatusReply['tunnels']> {
  const { served, refused, malformed, active, bytesIn, bytesOut } = mesh.tunnels.server
  return { served, refused, malformed, active, bytesIn, bytesOut, raw: { ...mesh.tunnels.raw } }
}
