import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { fnv1a64, hash64, rendezvousScore, unitHash } from '../../actors/rendezvous.js'
import { rng } from '../helpers/actors-random.js'

const hex = ([hi, lo]: [number, number]): string => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0')

/** Reference FNV-1a 64 in BigInt, to check the 32-bit-halves arithmetic. */
function fnvBig (text: string): string {
  let h = 0xcbf29ce484222325n
  for (const b of new TextEncoder().encode(text)) {
    h ^= BigInt(b)
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return h.toString(16).padStart(16, '0')
}

const Hash = suite('rendezvous hash')

Hash('FNV-1a 64 matches the published test vectors', () => {
  assert.is(hex(fnv1a64('')), 'cbf29ce484222325')
  assert.is(hex(fnv1a64('a')), 'af63dc4c8601ec8c')
  assert.is(hex(fnv1a64('foobar')), '85944171f73967e8')
})

Hash('FNV-1a 64 in 32-bit halves equals a BigInt reference on random strings (incl. non-ASCII)', () => {
  const r = rng(7)
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789/#-_:é漢🙂\u0000'
  for (let i = 0; i < 500; i++) {
    const s = Array.from({ length: r.int(0, 40) }, () => [...alphabet][r.int(0, [...alphabet].length - 1)]).join('')
    assert.is(hex(fnv1a64(s)), fnvBig(s), s)
  }
})

Hash('placement hash is pinned: peers of every version must agree (golden values)', () => {
  assert.is(hex(hash64('x')), 'b74d2ab976093a5a')
  assert.is(unitHash('ns/app', 'peer-a'), 0.41785469320985497)
  assert.is(unitHash('ns/app#1', 'peer-b'), 0.013244305685717273)
})

Hash('unitHash stays strictly inside (0, 1) and is roughly uniform', () => {
  const buckets = new Array<number>(10).fill(0)
  for (let i = 0; i < 20_000; i++) {
    const h = unitHash(`ns/app#${i}`, 'peer-x')
    assert.ok(h > 0 && h < 1)
    buckets[Math.floor(h * 10)]!++
  }
  for (const b of buckets) assert.ok(b > 1700 && b < 2300, `bucket count ${b} of 20000 is far from 2000`)
})

Hash('weighted score: a peer with weight 3 wins about 3x as often as one with weight 1', () => {
  let heavy = 0
  const n = 20_000
  for (let i = 0; i < n; i++) {
    const key = `ns/w${i}`
    if (rendezvousScore(key, 'heavy', 3) > rendezvousScore(key, 'light', 1)) heavy++
  }
  const share = heavy / n
  assert.ok(share > 0.72 && share < 0.78, `heavy share ${share} should be near 0.75`)
})

Hash.run()
