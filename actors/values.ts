// Small checks on values that came from outside (JSON bodies, CBOR from peers, replica entries).

/** A plain object (a JSON/CBOR map): not null, not an array, not bytes. */
export function isObj (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}
