// Small facts about talking to the Docker engine through dockerode: how its errors read, label
// filters, dates, and the Node streams it returns.
import { Readable } from 'node:stream'
import type { Labels } from './runtime.js'

export interface EngineError { statusCode?: number, code?: string, json?: { message?: string }, message?: string }

export function engineMessage (err: unknown): string {
  const e = err as EngineError
  return (e.json?.message ?? e.message ?? String(err)).replace(/^\(HTTP code \d+\) [^-]*- /, '').trim()
}

export function status (err: unknown): number | undefined {
  return (err as EngineError).statusCode
}

export function dateOrNull (s: string | undefined): Date | null {
  if (!s || s.startsWith('0001-')) return null
  const d = new Date(s)
  return Number.isNaN(d.getTime()) ? null : d
}

export function labelFilter (labels: Labels): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`)
}

/** Registry failures that mean "could not talk to it", as opposed to "it has no such image". */
export const UNREACHABLE = /dial tcp|no such host|connection refused|i\/o timeout|tls handshake|server misbehaving|network is unreachable|context deadline exceeded|client\.timeout|connection reset|temporary failure in name resolution|no route to host|server gave http response to https client/i
export const NOT_FOUND = /manifest unknown|not found|pull access denied|repository does not exist|name unknown|unauthorized/i

export function matches (have: Labels, want: Labels): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v)
}

/** A stream dockerode returned (typed as a web stream or a buffer in its typings; a Node stream at run time). */
export function readable (x: unknown): Readable {
  if (x instanceof Readable) return x
  throw new TypeError('the Docker engine client returned no stream')
}
