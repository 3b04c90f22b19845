// Fake but well-formed (base58btc) peer ids for unit tests that need no real key.
const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** A deterministic peer-id-shaped string; ids order as their numbers do for n < 58. */
export function fakePeer (n: number): string {
  return `12D3KooW${'x'.repeat(43)}${alphabet[n % 58]}`
}
