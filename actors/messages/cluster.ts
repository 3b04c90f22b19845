// Messages of the cluster actor (one per peer): its status, the peer list, the join token, tags,
// and the daemon's own stop. Requests are valibot schemas; replies are the types monkd answers.
import * as v from 'valibot'
import { int, list, message, tags, text } from './fields.js'

export const clusterRequests = {
  'peer.status': message('peer.status', {}),
  'cluster.peers': message('cluster.peers', {}),
  /** An invite for `role` (default operator), `uses` redemptions (default any number) within `ttlMs` (default INVITE_TTL_MS, 0 = never). */
  'cluster.token': message('cluster.token', { role: v.optional(v.picklist(['operator', 'worker'], 'operator or worker')), uses: v.optional(int(1, 1_000_000)), ttlMs: v.optional(int(0, 10 * 365 * 24 * 3600 * 1000)) }),
  'cluster.info': message('cluster.info', {}),
  'cluster.peer-tags': message('cluster.peer-tags', { tags }),
  'daemon.stop': message('daemon.stop', {}),
  /** Revokes the admission of the peers named (id or name) that were not grown by the cluster; grown ones are left for cluster.peer-remove (terminated). */
  'cluster.peer-revoke': message('cluster.peer-revoke', { ids: list(text(1, 256), 1, 1000) }),
  /** A new cluster key, sealed for every admitted peer (mesh/rekey.ts); operators only. */
  'cluster.rotate-key': message('cluster.rotate-key', {}),
} as const

export type ClusterRequest = v.InferOutput<typeof clusterRequests[keyof typeof clusterRequests]>

export interface StatusReply {
  peerId: string
  name: string
  tags: string[]
  runtime: string
  clusterId: string
  synced: boolean
  /** This peer's role in its own replica (operator, worker) or 'not admitted'. */
  role?: string
  /** Live peers, this one included. */
  peers: number
  addrs: string[]
  /** monkd's version (package.json) and home; added by the daemon. */
  version?: string
  home?: string
  /** Tunnels this peer served to consumers on other peers (`/monk/tunnel/1`): served, refused (not authorised, or the service did not answer), malformed, live now, bytes each way. */
  tunnels?: { served: number, refused: number, malformed: number, active: number, bytesIn: number, bytesOut: number }
}

export interface PeerRow {
  id: string
  name: string
  tags: string[]
  /** Its role in this peer's replica: operator, worker, or 'not admitted'. */
  role?: string
  alive: boolean
  /** True while this peer has not heard from it yet (known only from its record, e.g. right after a join): not alive, not dead either. */
  unheard?: boolean
  addrs: string[]
  /** What the peer offers to resource requests (cpu in cores, memory in bytes), when it published it. */
  capacity?: Record<string, number>
  /** The requests of the instances it runs, summed (present with capacity). */
  reserved?: Record<string, number>
  /** Peers it has live overlay tunnels with (opened by it: out; served by it: in), as it last published them. */
  tunnels?: Array<{ peer: string, name: string, out: number, in: number }>
}

export interface ClusterReplies {
  'peer.status': StatusReply
  'cluster.peers': PeerRow[]
  'cluster.token': { token: string }
  'cluster.info': StatusReply
  'cluster.peer-tags': { tags: string[] }
  'daemon.stop': { stopping: true }
  /** revoked: peer ids whose admission is revoked; rest: the names given that are grown machines or unknown. */
  'cluster.peer-revoke': { revoked: string[], rest: string[] }
  /** epoch: the rotation's number; switchAt: wall ms when peers switch; sealedFor: peers given the key; skipped: admitted peers that publish no seal key (they are cut off too). */
  'cluster.rotate-key': { epoch: number, switchAt: number, sealedFor: string[], skipped: string[], secrets?: number }
}
