// Small checks on values that came from outside (JSON bodies, CBOR from peers, replica entries).
import { encodeCbor } from '../mesh/codec.js'

/** A plain object (a JSON/CBOR map): not null, not an array, not bytes. */
export function isObj (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

/**
 * Equal as replicated data, whatever the order of map keys. Not JSON text: a value that came over
 * the mesh is decoded from canonical CBOR (map keys shortest first), while one built here keeps the
 * order it was built in, so the same value compared as JSON looked changed (chaos seed 31: an
 * excise rewrote a template nobody touched). Falls back to JSON text for what CBOR cannot encode.
 */
export function sameData (a: unknown, b: unknown): boolean {
  try {
    return Buffer.from(encodeCbor(a)).equals(encodeCbor(b))
  } catch {
    return JSON.stringify(a) === JSON.stringify(b)
  }
}
