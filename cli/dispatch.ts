// The daemon's dispatch: the control API hands each decoded message to the handler that the one
// table (actors/messages/index.ts) names. monkd and the tests' in-process peers share it.
import type { CloudManager } from '../actors/cloud-manager.js'
import { cloudHandlers } from '../actors/handlers/cloud.js'
import type { ClusterExtras } from '../actors/handlers/cluster.js'
import { systemScheduler } from '../actors/kit/clock.js'
import { dispatch, type AllHandlers, type Handlers, type Request } from '../actors/messages/index.js'
import type { Peer } from '../actors/peer.js'
import { checkLocalRole } from '../actors/roles.js'
import type { Mesh } from '../mesh/mesh.js'
import type { Dispatch } from './api/server.js'

export interface DispatchOptions extends ClusterExtras {
  /** The cloud side; absent (tests' peers) = cloud messages are refused as unsupported. */
  cloud?: { manager: CloudManager, mesh: Mesh }
}

const unsupported = (): Promise<never> => Promise.reject(Object.assign(new Error('this peer has no cloud manager'), { code: 'unsupported' }))
const noCloud: Handlers<'cloud'> = {
  'cluster.grow': unsupported, 'cluster.nodes': unsupported, 'cluster.shrink': unsupported,
  'cluster.peer-remove': unsupported, 'cluster.providers': unsupported, 'cluster.provider-add': unsupported,
}

export function peerDispatch (peer: Peer, o: DispatchOptions = {}): Dispatch<Request> {
  const all: AllHandlers = { ...peer.handlers(o), cloud: o.cloud ? cloudHandlers(o.cloud.manager, o.cloud.mesh, systemScheduler) : noCloud }
  return (_path, msg: Request, ctx) => {
    // a worker's CLI gets a clear refusal naming its role (the mesh would refuse the writes anyway)
    checkLocalRole(peer.mesh, msg.type)
    return dispatch(all, msg, { target: ctx.target, signal: ctx.signal })
  }
}
