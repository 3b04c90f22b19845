// Which actor paths the control API serves and which messages each accepts. The first path
// segment is the actor kind (`peer`, `runnable`, ...); the rest, when present, names the target
// (`runnable/ns/app#0` → target `ns/app#0`). Unknown paths are 404s, unknown types 400s.
// Bodies are decoded by the message schemas (actors/messages, valibot); this file only routes.
import type * as v from 'valibot'
import { decodeWith, MessageError, UnknownMessageError } from '../../actors/messages/decode.js'
import { targetProblem } from './names.js'
import type { ApiMessage } from './protocol.js'

export interface Route<M extends ApiMessage = ApiMessage> {
  /** The first path segment. */
  readonly kind: string
  /** Whether a target follows the kind: `none` (`peer`), `required` (`runnable/<instance>`), or `optional`. */
  readonly target: 'none' | 'required' | 'optional'
  /** Body schema per message type; each checks the whole body, `type` included. */
  readonly messages: Readonly<Record<string, v.GenericSchema<unknown, M>>>
}

/** An actor path resolved against the routes. */
export interface Resolved<M extends ApiMessage = ApiMessage> {
  readonly route: Route<M>
  /** The whole actor path, e.g. `runnable/ns/app#0`. */
  readonly path: string
  readonly kind: string
  readonly target: string | undefined
}

export type Resolution<M extends ApiMessage = ApiMessage> = { readonly ok: true, readonly resolved: Resolved<M> } | { readonly ok: false, readonly message: string }

export class RouteTable<M extends ApiMessage = ApiMessage> {
  private readonly byKind = new Map<string, Route<M>>()

  constructor (routes: readonly Route<M>[]) {
    for (const r of routes) this.add(r)
  }

  /** Registers one more route (a kind not served yet). */
  add (r: Route<M>): void {
    if (r.kind === '' || r.kind.includes('/')) throw new Error(`route kind must be one path segment, got '${r.kind}'`)
    if (this.byKind.has(r.kind)) throw new Error(`route kind '${r.kind}' is defined twice`)
    this.byKind.set(r.kind, r)
  }

  /** Resolves an actor path, or says why no actor answers there. */
  resolve (path: string): Resolution<M> {
    const slash = path.indexOf('/')
    const kind = slash < 0 ? path : path.slice(0, slash)
    const target = slash < 0 ? undefined : path.slice(slash + 1)
    const route = this.byKind.get(kind)
    if (route === undefined) return { ok: false, message: `no actor at '${path}': unknown kind '${kind}' (known: ${[...this.byKind.keys()].sort().join(', ')})` }
    if (route.target === 'none' && target !== undefined) return { ok: false, message: `no actor at '${path}': '${kind}' takes no target` }
    if (route.target === 'required' && target === undefined) return { ok: false, message: `no actor at '${path}': '${kind}' needs a target, as in ${kind}/<name>` }
    const bad = target === undefined ? undefined : targetProblem(target)
    if (bad !== undefined) return { ok: false, message: `no actor at '${path}': ${bad}` }
    return { ok: true, resolved: { route, path, kind, target } }
  }

  /** Decodes a body for a resolved route; throws MessageError (`invalid-body`) or UnknownMessageError (`unknown-type`). */
  static decode<M extends ApiMessage> (route: Route<M>, body: Record<string, unknown>): M {
    const type = body['type']
    if (typeof type !== 'string' || type === '') throw new MessageError('type', `field 'type' is required and must name a message type (one of: ${Object.keys(route.messages).sort().join(', ')})`)
    const schema = Object.hasOwn(route.messages, type) ? route.messages[type] : undefined
    if (schema === undefined) throw new UnknownMessageError(`'${route.kind}'`, type, Object.keys(route.messages))
    return decodeWith(schema, body)
  }
}
