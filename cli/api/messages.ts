// The monkd control protocol: the actor paths the daemon serves and the messages each accepts.
// Messages and replies are defined once, in actors/messages/ (valibot schemas, typed replies);
// this file only says which path kind takes which actors' messages. Kinds are only ever appended.
import { messageTable, type ActorKind, type Request } from '../../actors/messages/index.js'
import type { Route } from './routes.js'

/** Messages that only peers send each other (`/monk/actor/1`), never the control API. */
const peerOnly = new Set(['runnable.logs-page'])

function messagesOf (actors: readonly ActorKind[]): Route<Request>['messages'] {
  const out: Record<string, Route<Request>['messages'][string]> = {}
  for (const a of actors) for (const [type, schema] of Object.entries(messageTable[a])) if (!peerOnly.has(type)) out[type] = schema
  return out
}

/** The daemon's routes: `peer` (the cluster actor and the handlers it hosts), `runnable/<instance>`, `group/<path>`. */
export function monkdRoutes (): Array<Route<Request>> {
  return [
    { kind: 'peer', target: 'none', messages: messagesOf(['cluster', 'templates', 'workloads', 'secrets', 'cloud']) },
    { kind: 'runnable', target: 'required', messages: messagesOf(['runnable']) },
    { kind: 'group', target: 'required', messages: messagesOf(['group']) },
  ]
}

export type * from '../../actors/messages/index.js'
