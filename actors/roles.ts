// What each role may ask of the control plane (SECURITY.md): a worker, or a peer not admitted,
// may look (status, peers, lists, describe) and manage itself (its tags, its stop); everything that
// writes the cluster's desired state, acts on workloads, reads their logs or runs commands in
// them needs an operator. The mesh refuses the writes anyway (mesh/roles.ts); this refuses the
// request first, with an error naming the role.
import type { Mesh } from '../mesh/mesh.js'
import type { RequestType } from './messages/index.js'

/** Requests any peer answers, whatever its role. Every other request needs an operator. */
const anyRole: ReadonlySet<RequestType> = new Set<RequestType>([
  'peer.status', 'cluster.peers', 'cluster.info', 'cluster.peer-tags', 'daemon.stop',
  'cluster.nodes', 'cluster.providers',
  'group.status', 'group.describe', 'group.actions', 'runnable.describe', 'runnable.actions',
  'templates.list', 'templates.info', 'templates.search', 'templates.hub-defs', 'hub.ls',
  'workload.ps', 'secrets.list',
])

export class RoleRefused extends Error {
  override readonly name = 'RoleRefused'
  readonly code = 'not-operator'
  readonly status = 403
}

/** The user-facing command of a request type, for messages. */
function commandOf (type: string): string {
  return type.replace(/^(workload|templates|runnable|group|cluster)\./, '').replace('.', ' ')
}

/** Throws RoleRefused unless this peer may serve `type` for its local user. */
export function checkLocalRole (mesh: Mesh, type: RequestType): void {
  if (anyRole.has(type)) return
  const role = mesh.roleOf(mesh.peerId)
  if (role === 'operator') return
  throw new RoleRefused(`this peer (${mesh.peerId}) is ${role === 'worker' ? 'a worker' : 'not admitted to the cluster'}: ${commandOf(type)} (${type}) needs the operator role; run it on an operator peer`)
}

/** Throws RoleRefused unless `peer` may ask this peer, over the mesh, for `type` (actions, exec, logs). */
export function checkRemoteRole (mesh: Mesh, peer: string, type: string): void {
  const role = mesh.roleOf(peer)
  if (role === 'operator') return
  throw new RoleRefused(`peer ${peer} is ${role === 'worker' ? 'a worker' : 'not admitted to the cluster'}: ${type} from another peer needs the operator role`)
}
