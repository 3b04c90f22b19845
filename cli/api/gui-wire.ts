// Wires the web UI into a daemon: the feed on the mesh, the state read through the daemon's own
// dispatch, and action runs through the API (runnable.action, group.action) recorded as running
// actions while they last. monkd calls it once; the tests' in-process peers can too.
import type { Mesh } from '../../mesh/mesh.js'
import { isObj } from '../../actors/values.js'
import { GuiFeed } from './gui-feed.js'
import { guiServer, type GuiServer } from './gui.js'
import type { ApiMessage } from './protocol.js'
import type { Dispatch, DispatchContext } from './server.js'

export interface GuiWiring<M extends ApiMessage> {
  /** The dispatch to serve: the given one, with actions recorded. */
  dispatch: Dispatch<M>
  server: GuiServer
  close: () => void
}

export function wireGui<M extends ApiMessage> (mesh: Mesh, inner: Dispatch<M>, onError?: (err: unknown) => void): GuiWiring<M> {
  const feed = new GuiFeed(mesh)
  const dispatch: Dispatch<M> = (path, message, ctx) => {
    if (message.type !== 'runnable.action' && message.type !== 'group.action') return inner(path, message, ctx)
    const args = message['args']
    return feed.trackAction(path, String(message['action']), isObj(args) ? args : undefined, async () => await inner(path, message, ctx))
  }
  const internal = (): DispatchContext => ({ kind: 'peer', target: undefined, signal: new AbortController().signal, transport: 'unix' })
  const server = guiServer({
    feed,
    state: { ask: async <R>(msg: ApiMessage) => await (inner('peer', msg as M, internal()) as Promise<R>), get: key => mesh.get(key) },
    ...(onError ? { onError } : {}),
  })
  return { dispatch, server, close: () => { server.close(); feed.close() } }
}
