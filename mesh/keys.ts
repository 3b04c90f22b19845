// Replica keys and their owner rules (DESIGN §3): which peer may write which key.
import { KeyError } from './errors.js'

/**
 * Prefixes whose keys belong to one peer, named by the key's last segment:
 * `peer/<peerId>`, `claim/<instance>/<peerId>`, `status/<instance>/<peerId>`,
 * `entity/<instance>/<peerId>`, `action/<id>/<peerId>`. Every other key may be written by any peer (LWW). Append-only: changing a rule changes the protocol.
 */
export const ownedPrefixes: ReadonlyMap<string, { minSegments: number; maxSegments: number }> = new Map([
  ['peer', { minSegments: 2, maxSegments: 2 }],
  // instances are paths themselves (`ns/app/0`), so the owner is the last segment, not the third
  ['claim', { minSegments: 3, maxSegments: Infinity }],
  ['status', { minSegments: 3, maxSegments: Infinity }],
  // an entity instance's persisted lifecycle state, written by the peer that ran the lifecycle
  ['entity', { minSegments: 3, maxSegments: Infinity }],
  // an action run through a peer's API while it runs (`action/<id>/<peerId>`, the web UI's running actions)
  ['action', { minSegments: 3, maxSegments: 3 }],
])

// control characters would make keys ambiguous in logs and listings
const badChar = /[\u0000-\u001f\u007f]/ // eslint-disable-line no-control-regex

/** Why `key` is not a well-formed replica key, or undefined if it is. */
export function keyProblem (key: unknown, maxKeyBytes: number): string | undefined {
  if (typeof key !== 'string') return 'key is not a string'
  if (key.length === 0) return 'key is empty'
  if (Buffer.byteLength(key) > maxKeyBytes) return `key is longer than ${maxKeyBytes} bytes`
  if (badChar.test(key)) return 'key contains a control character'
  const segments = key.split('/')
  if (segments.some(s => s.length === 0)) return 'key has an empty path segment (leading, trailing or double /)'
  const dots = segments.find(s => s === '.' || s === '..')
  if (dots !== undefined) return `key has a "${dots}" path segment (keys name things, they never navigate)`
  const rule = ownedPrefixes.get(segments[0]!)
  if (rule && (segments.length < rule.minSegments || segments.length > rule.maxSegments)) {
    return `key under ${segments[0]}/ must have ${rule.minSegments === rule.maxSegments ? rule.minSegments : `at least ${rule.minSegments}`} segments`
  }
  return undefined
}

/**
 * Why `path` (a name that becomes part of a key: a template or instance path, a secret scope or
 * name) is not usable, or undefined if it is: the same segment rules as keys (no empty, `.` or
 * `..` segment, no control character). `a/b_c` and `a_b/c` are different names and different
 * keys; anything mapping names to files must keep them apart (actors/runnable.ts does).
 */
export function pathProblem (path: string): string | undefined {
  if (path.length === 0) return 'it is empty'
  if (badChar.test(path)) return 'it contains a control character'
  const segments = path.split('/')
  if (segments.some(s => s.length === 0)) return 'it has an empty path segment (leading, trailing or double /)'
  const dots = segments.find(s => s === '.' || s === '..')
  if (dots !== undefined) return `it has a "${dots}" path segment`
  return undefined
}

/** Throws KeyError if `key` is not well-formed. */
export function checkKey (key: string, maxKeyBytes: number): void {
  const problem = keyProblem(key, maxKeyBytes)
  if (problem) throw new KeyError(`invalid replica key ${JSON.stringify(key).slice(0, 200)}: ${problem}`)
}

/** The peer that owns `key`, or undefined when any peer may write it. Assumes a well-formed key. */
export function ownerOf (key: string): string | undefined {
  const first = key.indexOf('/')
  if (first < 0 || !ownedPrefixes.has(key.slice(0, first))) return undefined
  return key.slice(key.lastIndexOf('/') + 1)
}

/** True when `writer` may write `key`. */
export function mayWrite (key: string, writer: string): boolean {
  const owner = ownerOf(key)
  return owner === undefined || owner === writer
}
