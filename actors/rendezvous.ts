// Rendezvous (highest-random-weight) hashing: a stable 64-bit hash of (instance, peer) and the
// weighted score -w / ln(h) that placement ranks peers by. Pure, deterministic in every process.

const encoder = new TextEncoder()

/** Plain 64-bit FNV-1a over the UTF-8 bytes of `text`, as [hi, lo] unsigned 32-bit halves. */
export function fnv1a64 (text: string): [number, number] {
  const bytes = encoder.encode(text)
  // Offset basis 0xcbf29ce484222325, prime 0x100000001b3 (= 2^40 + 0x1b3), in 32-bit halves.
  let hi = 0xcbf29ce4
  let lo = 0x84222325
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]!) >>> 0
    const loProduct = lo * 0x1b3 // < 2^41: exact in a double
    const carry = Math.floor(loProduct / 0x100000000)
    hi = (Math.imul(hi, 0x1b3) + carry + (lo << 8)) >>> 0
    lo = loProduct >>> 0
  }
  return [hi, lo]
}

/**
 * The placement hash: FNV-1a 64 followed by a murmur3-style finaliser on both halves (FNV alone
 * spreads short, similar keys such as `ns/app#0`/`ns/app#1` poorly). Returns [hi, lo].
 * Changing it moves work on upgrade: peers of different versions must hash alike.
 */
export function hash64 (text: string): [number, number] {
  const [hi, lo] = fnv1a64(text)
  const mixedHi = fmix32((hi ^ Math.imul(lo, 0x9e3779b1)) >>> 0)
  const mixedLo = fmix32((lo ^ mixedHi) >>> 0)
  return [mixedHi, mixedLo]
}

function fmix32 (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** The hash of (instance, peer) as a number strictly inside (0, 1), from its top 53 bits. */
export function unitHash (instance: string, peerId: string): number {
  const [hi, lo] = hash64(`${instance}\u0000${peerId}`)
  const top53 = hi * 0x200000 + (lo >>> 11) // hi · 2^21 + the top 21 bits of lo
  return (top53 + 0.5) / 0x20000000000000 // / 2^53, shifted off 0
}

/**
 * Weighted rendezvous score: -weight / ln(h). With h uniform in (0, 1), a peer wins a key with
 * probability proportional to its weight, and removing a peer only moves the keys it won.
 * `weight` must be > 0.
 */
export function rendezvousScore (instance: string, peerId: string, weight: number): number {
  return -weight / Math.log(unitHash(instance, peerId))
}
