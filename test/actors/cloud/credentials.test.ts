// Provider credentials sealed per holder: only the holder's X25519 key opens its envelope; the
// cluster key does not; an envelope is bound to its peer and provider; inputs are checked without
// echoing a value.
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { checkCredentials, decodeProvider, fingerprint, SealKey, sealFor, secretsOf } from '../../../actors/cloud/credentials.js'
import { CredentialsError, redact } from '../../../actors/cloud/errors.js'
import { SecretBox } from '../../../actors/secrets.js'
import { tempDir } from '../../helpers/tmp.js'

const home = (): string => tempDir('monk-seal')
const creds = { accessKeyId: 'AKIAEXAMPLE0000', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
const test = suite('cloud: sealed credentials')

test('the holder opens its envelope; the key is kept in its home across restarts', () => {
  const h = home()
  const a = SealKey.open(h)
  const env = sealFor('aws', 'peerA', a.publicRaw, creds)
  assert.equal(SealKey.open(h).open('aws', 'peerA', env), creds)
  assert.not.ok(Buffer.from(env.sealed.data).toString('latin1').includes('wJalr'), 'sealed, not encoded')
})

test('another peer\'s key, another peer id or another provider cannot open it', () => {
  const a = SealKey.open(home())
  const b = SealKey.open(home())
  const env = sealFor('aws', 'peerA', a.publicRaw, creds)
  const corrupt = (e: unknown): boolean => e instanceof CredentialsError && e.code === 'credentials-corrupt'
  assert.throws(() => b.open('aws', 'peerA', env), corrupt)
  assert.throws(() => a.open('aws', 'peerB', env), corrupt)
  assert.throws(() => a.open('gcp', 'peerA', env), corrupt)
})

test('the cluster key (which every grown machine has) does not open it', () => {
  const a = SealKey.open(home())
  const env = sealFor('aws', 'peerA', a.publicRaw, creds)
  const clusterKey = new Uint8Array(32).fill(7)
  assert.throws(() => new SecretBox(clusterKey).open('provider/aws', 'peerA', env.sealed))
})

test('decodeProvider takes only well-formed records', () => {
  const a = SealKey.open(home())
  const rec = { v: 1, kind: 'aws', options: { endpoint: 'http://127.0.0.1:1' }, fingerprint: fingerprint(creds), envelopes: { peerA: sealFor('aws', 'peerA', a.publicRaw, creds) }, addedAt: 1, addedBy: 'peerA' }
  assert.ok(decodeProvider(rec))
  for (const v of [null, {}, { ...rec, v: 2 }, { ...rec, kind: 'azure' }, { ...rec, envelopes: 'x' }]) assert.is(decodeProvider(v), undefined)
  assert.equal(Object.keys(decodeProvider({ ...rec, envelopes: { x: { epk: 'nope' } } })!.envelopes), [])
})

test('checkCredentials says what is missing and never echoes a value', () => {
  const shown = (f: () => unknown): string => { try { f(); return '' } catch (e) { return (e as Error).message } }
  const m1 = shown(() => checkCredentials('aws', { accessKeyId: 'AKIAONLYKEY123' }))
  assert.match(m1, /secretAccessKey/)
  assert.not.match(m1, /AKIAONLYKEY123/)
  const m2 = shown(() => checkCredentials('gcp', { serviceAccount: '{"private_key":"-----BEGIN PRIVATE KEY-----\\nSECRETSECRET"}' }))
  assert.match(m2, /client_email/)
  assert.not.match(m2, /SECRETSECRET/)
  assert.match(shown(() => checkCredentials('gcp', { serviceAccount: 'not json at all, secret' })), /not JSON/)
  assert.not.match(shown(() => checkCredentials('gcp', { serviceAccount: 'not json at all, secret' })), /secret$/)
  assert.equal(checkCredentials('digitalocean', { token: ' dop_v1_x ' }), { token: 'dop_v1_x' })
})

test('fingerprints tell credential sets apart without revealing them', () => {
  assert.is(fingerprint(creds), fingerprint({ ...creds }))
  assert.is.not(fingerprint(creds), fingerprint({ ...creds, secretAccessKey: 'other' }))
  assert.is(fingerprint(creds).length, 12)
})

test('redact removes each secret and its encodings from provider messages', () => {
  const secrets = secretsOf({ ...creds, serviceAccount: JSON.stringify({ private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n', private_key_id: 'abcdef0123456789' }) })
  const text = `key ${creds.secretAccessKey} b64 ${Buffer.from(creds.secretAccessKey).toString('base64')} id abcdef0123456789 line MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7`
  const out = redact(text, secrets)
  assert.not.ok(out.includes(creds.secretAccessKey))
  assert.not.ok(out.includes('abcdef0123456789'))
  assert.not.ok(out.includes('MIIEvQIBADAN'))
  assert.match(out, /\*\*\*/)
})

test.run()
