// Unit tests of cluster identity and join tokens: round trip and a clear TokenError for each bad part.
import { encode } from 'cborg'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createCluster, encodeToken, parseToken, swarmKey } from '../../mesh/cluster.js'
import { TokenError } from '../../mesh/errors.js'

const peer = '12D3KooWGzh3S2vKqtWMXZUnBj5kdGSgdhy6AHtF4KFymnaP6N5L'
const addr = `/ip4/127.0.0.1/tcp/4001/p2p/${peer}`

const Token = suite('cluster token')

Token('createCluster gives a 16-hex id and a 32-byte key, different each time', () => {
  const a = createCluster()
  const b = createCluster()
  assert.match(a.id, /^[0-9a-f]{16}$/)
  assert.is(a.key.length, 32)
  assert.is.not(a.id, b.id)
  assert.is.not(Buffer.from(a.key).toString('hex'), Buffer.from(b.key).toString('hex'))
})

Token('a token round-trips id, key and bootstrap addresses, and is base64url', () => {
  const c = createCluster()
  const text = encodeToken({ ...c, bootstrap: [addr] })
  assert.match(text, /^[A-Za-z0-9_-]+$/)
  const back = parseToken(`  ${text}\n`)
  assert.is(back.id, c.id)
  assert.equal(back.key, c.key)
  assert.equal(back.bootstrap, [addr])
})

const b64 = (v: unknown): string => Buffer.from(encode(v)).toString('base64url')
const id8 = new Uint8Array(8)
const key32 = new Uint8Array(32)
const bad: Array<[string, string, RegExp]> = [
  ['empty', '', /empty/],
  ['not base64url', 'abc$%', /base64url/],
  ['truncated', encodeToken({ ...createCluster(), bootstrap: [addr] }).slice(0, 30), /corrupt/],
  ['wrong structure', b64({ a: 1 }), /structure/],
  ['unknown version', b64([9, id8, key32, []]), /version 9/],
  ['short id', b64([1, new Uint8Array(3), key32, []]), /cluster id/],
  ['missing key', b64([1, id8, null, []]), /cluster key/],
  ['short key', b64([1, id8, new Uint8Array(16), []]), /cluster key/],
  ['bootstrap not a list', b64([1, id8, key32, 'x']), /bootstrap address list/],
  ['bootstrap not a multiaddr', b64([1, id8, key32, ['hello']]), /not a multiaddr/],
  ['bootstrap without peer id', b64([1, id8, key32, ['/ip4/127.0.0.1/tcp/1']]), /\/p2p\//],
]
for (const [name, text, msg] of bad) {
  Token(`parseToken refuses ${name} with TokenError`, () => {
    try {
      parseToken(text)
      assert.unreachable('accepted')
    } catch (err) {
      assert.instance(err, TokenError)
      assert.is((err as TokenError).code, 'MESH_TOKEN_INVALID')
      assert.match((err as Error).message, msg)
    }
  })
}

Token('swarmKey produces the 95-byte pnet key file', () => {
  const k = swarmKey(new Uint8Array(32).fill(0xab))
  assert.is(k.length, 95)
  assert.match(new TextDecoder().decode(k), /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n(ab){32}$/)
})

Token.run()
