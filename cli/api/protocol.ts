// The wire protocol of the control API, shared by server and client (import-light: no node
// modules). HTTP/1.1 over $MONK_HOME/monkd.sock (or TCP + bearer token), versioned under /v1:
//
//   POST /v1/actors/<kind>[/<target>]  body {type, ...}      one message to one actor
//     200 application/json        the reply (null when the actor replies nothing)
//     200 application/x-ndjson    a stream: one frame per line, {"item": x} ..., then {"end": true}
//                                 or {"error": {...}}; a stream without its last frame was cut
//     4xx/5xx application/json    {"error": {"code", "message", "field"?}}
//   GET /v1/ping                  {"ok": true, "api": "v1", ...}
//
// <target> may contain slashes (`runnable/ns/app#0`); each segment is percent-encoded.
import { SOCKET_NAME } from './defaults.js'

export const API_VERSION = 'v1'
export const ACTORS_PREFIX = `/${API_VERSION}/actors/`
export const PING_PATH = `/${API_VERSION}/ping`
/** Upgrades (streams both ways): `GET /v1/session/<instance>?start=<json>`, `GET /v1/forward/<instance>?port=N`. */
export const SESSION_PREFIX = `/${API_VERSION}/session/`
export const FORWARD_PREFIX = `/${API_VERSION}/forward/`
/** The `Upgrade:` protocol name of those streams. */
export const UPGRADE_PROTOCOL = 'monk-stream'
export const JSON_TYPE = 'application/json'
export const NDJSON_TYPE = 'application/x-ndjson'

/** Error body of every failed request and the last frame of a failed stream. */
export interface ErrorBody {
  readonly code: string
  readonly message: string
  /** The request field at fault (`tags[1]`, `set.PORT`), for schema errors. */
  readonly field?: string
}

export type StreamFrame =
  | { readonly item: unknown }
  | { readonly end: true }
  | { readonly error: ErrorBody }

/** Every API message: `{type, ...fields}` (the fields each type takes are in actors/messages). */
export interface ApiMessage {
  readonly type: string
  readonly [field: string]: unknown
}

export interface PingReply {
  readonly ok: true
  readonly api: string
  readonly [key: string]: unknown
}

/** URL path for an actor path such as `runnable/ns/app#0`. */
export function actorUrl (actorPath: string): string {
  return ACTORS_PREFIX + actorPath.split('/').map(encodeURIComponent).join('/')
}

/** Actor path of a URL path under ACTORS_PREFIX, or undefined if malformed (bad escapes, empty segments). */
export function actorPathOf (urlPath: string): string | undefined {
  if (!urlPath.startsWith(ACTORS_PREFIX)) return undefined
  const segments = urlPath.slice(ACTORS_PREFIX.length).split('/')
  try {
    const decoded = segments.map(s => decodeURIComponent(s))
    if (decoded.some(s => s === '')) return undefined
    return decoded.join('/')
  } catch {
    return undefined
  }
}

/** Path of the control socket in a monk home directory. */
export function socketPathIn (home: string): string {
  return `${home.replace(/\/+$/, '')}/${SOCKET_NAME}`
}
