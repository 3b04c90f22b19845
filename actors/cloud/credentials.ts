// Provider credentials in the replica (`provider/<kind>`), sealed per holder: each peer that may
// drive machines has an X25519 key (private half in its home, public half in its `peer/<id>`
// record); the credentials are sealed once per holder with SecretBox under the X25519 shared
// secret of an ephemeral key and the holder's key. The cluster key alone does not open them, so a
// grown machine (which has the cluster key) cannot read the credentials of any cloud.
import { createPrivateKey, createPublicKey, generateKeyPairSync, createHash, type KeyObject } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { agreeWith, ephemeralAgreement, rawX25519 } from '../../mesh/x25519.js'
import { decodeSealed, SecretBox, type Sealed } from '../secrets.js'
import { isObj } from '../values.js'
import { CredentialsError } from './errors.js'
import { isProviderKind, type Credentials, type ProviderKind, type ProviderOptions } from './provider.js'

/** One holder's copy: the ephemeral public key and the sealed JSON of the credentials. */
export interface Envelope { epk: Uint8Array, sealed: Sealed }

/** The replicated record `provider/<kind>` (any peer writes it, LWW). */
export interface ProviderRecord {
  v: 1
  kind: ProviderKind
  options: ProviderOptions
  /** sha256 of the credentials, first 12 hex characters: tells two credential sets apart without revealing either. */
  fingerprint: string
  /** Peer id → its sealed copy. */
  envelopes: Record<string, Envelope>
  addedAt: number
  addedBy: string
}

export const providerKey = (kind: ProviderKind): string => `provider/${kind}`


/** Decodes a `provider/<kind>` value defensively (it came from some peer). */
export function decodeProvider (v: unknown): ProviderRecord | undefined {
  if (!isObj(v) || v.v !== 1 || !isProviderKind(v.kind) || !isObj(v.envelopes)) return undefined
  const options: Record<string, string> = {}
  if (isObj(v.options)) for (const [k, x] of Object.entries(v.options)) if (typeof x === 'string') options[k] = x
  const envelopes: Record<string, Envelope> = {}
  for (const [peer, e] of Object.entries(v.envelopes)) {
    const sealed = isObj(e) ? decodeSealed(e.sealed) : undefined
    if (!isObj(e) || !(e.epk instanceof Uint8Array) || !sealed) continue
    envelopes[peer] = { epk: e.epk, sealed }
  }
  return {
    v: 1, kind: v.kind, options, envelopes,
    fingerprint: typeof v.fingerprint === 'string' ? v.fingerprint : '',
    addedAt: typeof v.addedAt === 'number' ? v.addedAt : 0,
    addedBy: typeof v.addedBy === 'string' ? v.addedBy : '',
  }
}

export function fingerprint (creds: Credentials): string {
  const canonical = JSON.stringify(Object.keys(creds).sort().map(k => [k, creds[k]]))
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12)
}

/** Every credential value, for redaction of provider messages. */
export function secretsOf (creds: Credentials): string[] {
  const out: string[] = []
  for (const v of Object.values(creds)) {
    out.push(v)
    // a service account JSON: its private key and its key id are the secrets inside
    if (v.startsWith('{')) {
      try {
        const j = JSON.parse(v) as Record<string, unknown>
        for (const k of ['private_key', 'private_key_id']) if (typeof j[k] === 'string') out.push(j[k] as string)
        if (typeof j.private_key === 'string') for (const line of (j.private_key as string).split('\n')) if (line.length >= 40 && !line.startsWith('-----')) out.push(line)
      } catch { /* not JSON: the whole value is already listed */ }
    }
  }
  return out
}

/** This peer's X25519 key pair, kept in `<home>/cloud/seal.key` (mode 0600). */
export class SealKey {
  private constructor (private readonly priv: KeyObject, readonly publicRaw: Uint8Array) {}

  /** Loads the key of `home`, creating it on first use. */
  static open (home: string): SealKey {
    const dir = join(home, 'cloud')
    const file = join(dir, 'seal.key')
    let priv: KeyObject
    try {
      priv = createPrivateKey({ key: readFileSync(file), format: 'der', type: 'pkcs8' })
    } catch {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      priv = generateKeyPairSync('x25519').privateKey
      writeFileSync(file, priv.export({ format: 'der', type: 'pkcs8' }), { mode: 0o600 })
    }
    return new SealKey(priv, rawX25519(createPublicKey(priv)))
  }

  /** The X25519 shared secret with the raw public key `epk` (mesh/rekey.ts opens rotated cluster keys with it). */
  agree (epk: Uint8Array): Uint8Array {
    return new Uint8Array(agree(this.priv, epk))
  }

  /** Opens the envelope sealed for `peer` (this peer) of the credentials of `kind`. */
  open (kind: ProviderKind, peer: string, e: Envelope): Credentials {
    let text: string
    try {
      text = this.openText(`provider/${kind}`, peer, e)
    } catch {
      throw new CredentialsError('credentials-corrupt', `the ${kind} credentials sealed for peer ${peer} cannot be opened with this peer's key (was its home recreated? add the provider again)`)
    }
    return parseCreds(text)
  }

  /** Opens an envelope sealed with sealText(context, peer, …) for this peer; throws SecretError when it is not this peer's. */
  openText (context: string, peer: string, e: Envelope): string {
    return new SecretBox(agree(this.priv, e.epk)).open(context, peer, e.sealed)
  }
}

/** Seals `text` for the peer whose public X25519 key is `publicRaw`, bound to `context` and `peer`. */
export function sealText (context: string, peer: string, publicRaw: Uint8Array, text: string): Envelope {
  const { epk, shared } = keyError(() => ephemeralAgreement(publicRaw))
  return { epk, sealed: new SecretBox(shared).seal(context, peer, text) }
}

/** Seals `creds` of `kind` for the peer whose public X25519 key is `publicRaw`. */
export function sealFor (kind: ProviderKind, peer: string, publicRaw: Uint8Array, creds: Credentials): Envelope {
  return sealText(`provider/${kind}`, peer, publicRaw, JSON.stringify(creds))
}

function parseCreds (text: string): Credentials {
  const v = JSON.parse(text) as unknown
  if (!isObj(v)) throw new CredentialsError('credentials-corrupt', 'sealed credentials are not an object')
  const out: Record<string, string> = {}
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x
  return out
}

/** Runs `f`; a malformed X25519 key in it becomes a CredentialsError. */
function keyError<T> (f: () => T): T {
  try { return f() } catch (err) { throw new CredentialsError('credentials-corrupt', (err as Error).message) }
}

function agree (priv: KeyObject, epk: Uint8Array): Buffer {
  return keyError(() => agreeWith(priv, epk))
}

/** Checks and normalises credentials given for `kind`; the message never echoes a value. */
export function checkCredentials (kind: ProviderKind, creds: Credentials): Credentials {
  const need = (k: string): string => {
    const v = creds[k]
    if (typeof v !== 'string' || v.trim() === '') throw new CredentialsError('bad-credentials-input', `${kind} credentials need a non-empty "${k}"`)
    return v.trim()
  }
  switch (kind) {
    case 'aws': {
      const out: Record<string, string> = { accessKeyId: need('accessKeyId'), secretAccessKey: need('secretAccessKey') }
      if (typeof creds.sessionToken === 'string' && creds.sessionToken !== '') out.sessionToken = creds.sessionToken
      return out
    }
    case 'gcp': {
      const sa = need('serviceAccount')
      let j: Record<string, unknown>
      try { j = JSON.parse(sa) as Record<string, unknown> } catch { throw new CredentialsError('bad-credentials-input', 'the GCP service account key is not JSON (give the key file downloaded from IAM)') }
      for (const k of ['client_email', 'private_key']) if (typeof j[k] !== 'string') throw new CredentialsError('bad-credentials-input', `the GCP service account key has no "${k}" (give a service account key file, type service_account)`)
      return { serviceAccount: sa }
    }
    case 'digitalocean': return { token: need('token') }
    case 'local': return {}
  }
}
