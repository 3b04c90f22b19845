// Maps control-API messages (cli/api/messages.ts) to the Peer: the daemon and tests share it.
import type { Peer } from '../actors/peer.js'
import type { PeerMessage, RunnableMessage } from './api/messages.js'
import type { Dispatch } from './api/server.js'

export interface DispatchExtras {
  /** Fields added to `peer.status` (version, home...). */
  status?: () => Record<string, unknown>
  /** `daemon.stop`: the daemon's shutdown; absent = refused. */
  stop?: () => void
  /** Messages this table does not know (e.g. cloud growth), tried before failing. */
  more?: (msg: { type: string } & Record<string, unknown>) => Promise<unknown> | undefined
}

export function peerDispatch (peer: Peer, extras: DispatchExtras = {}): Dispatch {
  return (_path, msg, ctx) => {
    if (ctx.kind === 'runnable') {
      const r = msg as RunnableMessage
      const target = ctx.target ?? ''
      if (r.type === 'runnable.logs') return peer.logs(target, r, ctx.signal)
      return peer.runnableRequest(target, r)
    }
    const m = msg as PeerMessage
    switch (m.type) {
      case 'peer.status': return Promise.resolve({ ...peer.status(), ...extras.status?.() })
      case 'templates.load': return peer.loadTemplates(m.files, m.paths)
      case 'templates.list': return Promise.resolve(peer.listTemplates(m.kind))
      case 'templates.info': return Promise.resolve(peer.templateInfo(m.path))
      case 'workload.run': return peer.run(m.path, m)
      case 'workload.update': return peer.run(m.path, { ...m, restart: true })
      case 'workload.restart': return peer.run(m.path, { restart: true })
      case 'workload.stop': return peer.stopWorkload(m.path)
      case 'workload.purge': return peer.purge(m.path, m.excise === true)
      case 'workload.ps': return Promise.resolve(peer.ps(m))
      case 'secrets.add': return peer.secretAdd(m.scope, m.name, m.value)
      case 'secrets.rm': return peer.secretRm(m.scope, m.name)
      case 'secrets.list': return Promise.resolve(peer.secretList(m.scope))
      case 'cluster.peers': return Promise.resolve(peer.peersList())
      case 'cluster.token': return Promise.resolve({ token: peer.token() })
      case 'cluster.info': return Promise.resolve({ ...peer.status(), token: peer.token() })
      case 'cluster.peer-tags': return peer.setTags(m.tags).then(() => ({ tags: m.tags }))
      case 'daemon.stop':
        if (!extras.stop) return Promise.reject(Object.assign(new Error('this peer cannot be stopped through the API'), { code: 'unsupported' }))
        setTimeout(extras.stop, 50)
        return Promise.resolve({ stopping: true })
      default: {
        const other = extras.more?.(m as { type: string } & Record<string, unknown>)
        if (other) return other
        return Promise.reject(Object.assign(new Error(`unknown message ${(m as { type: string }).type}`), { code: 'unknown-type' }))
      }
    }
  }
}
