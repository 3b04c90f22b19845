// Unit tests of entry signatures (mesh/signing.ts): an entry verifies only with its writer's key
// and only as written: any change to the key, HLC, writer or value, a missing signature or one made
// by another peer fails.
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeDelta, encodeDelta, type CodecLimits } from '../../mesh/codec.js'
import { defaults } from '../../mesh/defaults.js'
import type { Entry } from '../../mesh/entry.js'
import { EntrySigner, EntryVerifier } from '../../mesh/signing.js'
import { fakePeer } from '../helpers/mesh-ids.js'

const Signing = suite('entry signing')

async function signer (): Promise<EntrySigner> {
  // two copies of @libp2p/interface in node_modules: the key is the same object either way (as in mesh/store.ts)
  const key = await generateKeyPair('Ed25519') as unknown as PrivateKey
  return new EntrySigner(key, peerIdFromPrivateKey(key).toString())
}

const limits: CodecLimits = { maxKeyBytes: defaults.maxKeyBytes, maxEntryBytes: defaults.maxEntryBytes, maxDeltaBytes: defaults.maxDeltaBytes, maxDeltaEntries: defaults.maxDeltaEntries, maxValueDepth: defaults.maxValueDepth }

Signing('a signed entry verifies, also after a round trip through the wire codec', async () => {
  const a = await signer()
  const v = new EntryVerifier()
  const live = a.sign({ key: 'want/ns/app', hlc: { wall: 1_700_000_000_000, counter: 3, peer: a.self }, value: { b: [1, 2.5, 'x'], a: new Uint8Array([1]), n: null } })
  const gone = a.sign({ key: 'want/ns/old', hlc: { wall: 1_700_000_000_001, counter: 0, peer: a.self }, value: undefined })
  assert.is(live.sig?.length, 64)
  assert.ok(v.verify(live) && v.verify(gone))
  const [l2, g2] = decodeDelta(encodeDelta([live, gone]), limits) as [Entry, Entry]
  assert.ok(v.verify(l2) && v.verify(g2), 'decoded entries verify (the signed bytes are re-encoded deterministically)')
})

Signing('any change to a signed entry, a missing signature or another peer\'s signature fails', async () => {
  const a = await signer()
  const b = await signer()
  const v = new EntryVerifier()
  const e = a.sign({ key: 'want/x', hlc: { wall: 1_700_000_000_000, counter: 0, peer: a.self }, value: { run: 'id' } })
  const cases: Array<[string, Entry]> = [
    ['value changed', { ...e, value: { run: 'id > /tmp/pwned' } }],
    ['made a tombstone', { ...e, value: undefined }],
    ['key changed', { ...e, key: 'want/y' }],
    ['wall changed', { ...e, hlc: { ...e.hlc, wall: e.hlc.wall + 1 } }],
    ['counter changed', { ...e, hlc: { ...e.hlc, counter: 1 } }],
    ['writer changed to another peer', { ...e, hlc: { ...e.hlc, peer: b.self } }],
    ['no signature', { key: e.key, hlc: e.hlc, value: e.value }],
    ['signature of zeros', { ...e, sig: new Uint8Array(64) }],
    ['signature too short', { ...e, sig: e.sig!.subarray(0, 63) }],
    ['signed by another peer in the writer\'s name', { ...e, sig: b.sign({ ...e, hlc: { ...e.hlc, peer: b.self } }).sig! }],
    ['writer is not a real peer id', { ...e, hlc: { ...e.hlc, peer: fakePeer(1) } }],
  ]
  assert.ok(v.verify(e), 'the original verifies')
  for (const [what, bad] of cases) assert.not.ok(v.verify(bad), what)
})

Signing('a peer cannot sign in another peer\'s name', async () => {
  const a = await signer()
  const b = await signer()
  assert.throws(() => a.sign({ key: 'want/x', hlc: { wall: 1, counter: 0, peer: b.self }, value: 1 }), /cannot sign/)
})

Signing('the public key cache stays bounded under made-up writers', async () => {
  const v = new EntryVerifier(8)
  const real: EntrySigner[] = []
  for (let i = 0; i < 20; i++) real.push(await signer())
  for (const s of real) {
    const e = s.sign({ key: 'want/x', hlc: { wall: 1, counter: 0, peer: s.self }, value: 1 })
    assert.ok(v.verify(e))
  }
  assert.ok((v as unknown as { keys: Map<string, unknown> }).keys.size <= 8)
})

Signing.run()
