// Which actor paths the control API serves and which messages each accepts. The first path
// segment is the actor kind (`peer`, `runnable`, ...); the rest, when present, names the target
// (`runnable/ns/app#0` → target `ns/app#0`). Unknown paths are 404s, unknown types 400s.
import { SchemaError, UnknownTypeError } from './errors.js'
import { targetProblem } from './names.js'
import type { ApiMessage } from './protocol.js'
import type { Decoder } from './schema.js'

export interface Route {
  /** The first path segment. */
  readonly kind: string
  /** Whether a target follows the kind: `none` (`peer`), `required` (`runnable/<instance>`), or `optional`. */
  readonly target: 'none' | 'required' | 'optional'
  /** Body decoder per message type; each decoder checks the whole body, `type` included. */
  readonly messages: Readonly<Record<string, Decoder<ApiMessage>>>
}

/** An actor path resolved against the routes. */
export interface Resolved {
  readonly route: Route
  /** The whole actor path, e.g. `runnable/ns/app#0`. */
  readonly path: string
  readonly kind: string
  readonly target: string | undefined
}

export type Resolution = { readonly ok: true, readonly resolved: Resolved } | { readonly ok: false, readonly message: string }

export class RouteTable {
  private readonly byKind: ReadonlyMap<string, Route>

  constructor (routes: readonly Route[]) {
    const m = new Map<string, Route>()
    for (const r of routes) {
      if (r.kind === '' || r.kind.includes('/')) throw new Error(`route kind must be one path segment, got '${r.kind}'`)
      if (m.has(r.kind)) throw new Error(`route kind '${r.kind}' is defined twice`)
      m.set(r.kind, r)
    }
    this.byKind = m
  }

  /** Resolves an actor path, or says why no actor answers there. */
  resolve (path: string): Resolution {
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

  /** Decodes a body for a resolved route; throws SchemaError (`invalid-body` or `unknown-type`). */
  static decode (route: Route, body: Record<string, unknown>): ApiMessage {
    const type = body['type']
    if (typeof type !== 'string' || type === '') throw new SchemaError('type', `field 'type' is required and must name a message type (one of: ${Object.keys(route.messages).sort().join(', ')})`)
    if (!Object.hasOwn(route.messages, type)) throw new UnknownTypeError(route.kind, type, Object.keys(route.messages))
    return route.messages[type]!.decode(body, '')
  }
}
