// The secrets data key (SECURITY.md "Secrets"): secrets in the replica are sealed under a random
// 32-byte data key of an epoch, never under the cluster key. The record `secretkey/<epoch>` holds
// that key sealed to the X25519 seal key (cloud/credentials.ts) of each admitted OPERATOR, one
// envelope per operator; only operators may write it (every key outside the owned prefixes of
// mesh/keys.ts is operator-only, mesh/roles.ts). A worker holds no envelope: it opens a secret only
// through a grant `secretgrant/<peer>/<scope>/<name>`, the value sealed to its own seal key, which
// an operator writes while an instance that may read the secret is placed on it (or it is that
// instance's standby). A peer that was never admitted, or was removed, has neither, so holding the
// cluster key opens no secret. The keeper (secret-keeper.ts) maintains both kinds of record.
import { createHash } from 'node:crypto'
import type { Mesh } from '../mesh/mesh.js'
import type { Value } from '../mesh/value.js'
import { SealKey, sealText, type Envelope } from './cloud/credentials.js'
import { decodeSealed, SecretBox, SecretError, type Sealed, type SecretSealer } from './secrets.js'
import { isObj } from './values.js'

export const secretKeyPrefix = 'secretkey/'
export const secretKeyKey = (epoch: number): string => `${secretKeyPrefix}${epoch}`

/** The replicated record `secretkey/<epoch>`. */
export interface SecretKeyRecord { v: 1, epoch: number, envelopes: Record<string, Envelope>, by: string, at: number }

/** Decodes a `secretkey/<epoch>` value defensively (it came from some peer). */
export function decodeSecretKey (v: unknown): SecretKeyRecord | undefined {
  if (!isObj(v) || v.v !== 1 || typeof v.epoch !== 'number' || !Number.isSafeInteger(v.epoch) || v.epoch <= 0 || !isObj(v.envelopes)) return undefined
  const envelopes: Record<string, Envelope> = {}
  for (const [peer, e] of Object.entries(v.envelopes)) {
    const sealed = isObj(e) ? decodeSealed(e.sealed) : undefined
    if (isObj(e) && e.epk instanceof Uint8Array && sealed) envelopes[peer] = { epk: e.epk, sealed }
  }
  return { v: 1, epoch: v.epoch, envelopes, by: typeof v.by === 'string' ? v.by : '', at: typeof v.at === 'number' ? v.at : 0 }
}

export function encodeSecretKey (r: SecretKeyRecord): Value {
  const envelopes: Record<string, Value> = {}
  for (const [peer, e] of Object.entries(r.envelopes)) {
    envelopes[peer] = { epk: e.epk, sealed: { v: 1, iv: e.sealed.iv, tag: e.sealed.tag, data: e.sealed.data } }
  }
  return { v: 1, epoch: r.epoch, envelopes, by: r.by, at: r.at }
}

export const secretGrantPrefix = 'secretgrant/'
export const secretGrantKey = (peer: string, scope: string, name: string): string => `${secretGrantPrefix}${peer}/${scope}/${name}`

/** `secretgrant/<peer>/<scope>/<name>` split, or undefined when the key is not one. */
export function parseGrantKey (key: string): { peer: string, scope: string, name: string } | undefined {
  if (!key.startsWith(secretGrantPrefix)) return undefined
  const parts = key.slice(secretGrantPrefix.length).split('/')
  if (parts.length < 3) return undefined
  return { peer: parts[0]!, scope: parts.slice(1, -1).join('/'), name: parts.at(-1)! }
}

/**
 * The replicated record `secretgrant/<peer>/<scope>/<name>`: the secret's value sealed to `peer`'s
 * seal key (bound to the key and the peer). `src`: the print of the sealed `secret/` value it was
 * made from (a changed secret makes the grant stale); `to`: the seal key it was sealed to (hex).
 */
export interface SecretGrant { v: 1, env: Envelope, src: string, to: string, by: string, at: number }

/** A short digest of a sealed value as the replica holds it (changes whenever the secret is written again). */
export function sealedPrint (s: Sealed): string {
  return createHash('sha256').update(s.iv).update(s.tag).update(s.data).digest('hex').slice(0, 32)
}

export function decodeGrant (v: unknown): SecretGrant | undefined {
  if (!isObj(v) || v.v !== 1 || typeof v.src !== 'string' || typeof v.to !== 'string' || !isObj(v.env)) return undefined
  const sealed = decodeSealed(v.env.sealed)
  if (!(v.env.epk instanceof Uint8Array) || !sealed) return undefined
  return { v: 1, env: { epk: v.env.epk, sealed }, src: v.src, to: v.to, by: typeof v.by === 'string' ? v.by : '', at: typeof v.at === 'number' ? v.at : 0 }
}

export function encodeGrant (g: SecretGrant): Value {
  return { v: 1, env: { epk: g.env.epk, sealed: { v: 1, iv: g.env.sealed.iv, tag: g.env.sealed.tag, data: g.env.sealed.data } }, src: g.src, to: g.to, by: g.by, at: g.at }
}

/** Seals the value `plain` of secret `name` (`scope`), sealed in the replica as `sealed`, for `peer`. */
export function makeGrant (peer: string, publicRaw: Uint8Array, scope: string, name: string, sealed: Sealed, plain: string, by: string, at: number): SecretGrant {
  return { v: 1, env: sealText(secretGrantKey(peer, scope, name), peer, publicRaw, plain), src: sealedPrint(sealed), to: Buffer.from(publicRaw).toString('hex'), by, at }
}

/** Seals the data key `key` (32 bytes) of `epoch` for `peer`. */
export function sealDataKey (epoch: number, peer: string, publicRaw: Uint8Array, key: Uint8Array): Envelope {
  return sealText(secretKeyKey(epoch), peer, publicRaw, Buffer.from(key).toString('base64'))
}

/**
 * Seals and opens secrets: under the data keys this peer holds an envelope of (operators), or
 * through this peer's grant of the secret (workers).
 */
export class SecretKeys implements SecretSealer {
  /** epoch → the epk of the envelope it was opened from, and the key. */
  private readonly cache = new Map<number, { epk: string, key: Uint8Array }>()

  constructor (private readonly mesh: Mesh, readonly sealKey: SealKey) {}

  /** Every data-key record in the replica, by ascending epoch. */
  records (): SecretKeyRecord[] {
    return this.mesh.scan(secretKeyPrefix).map(e => decodeSecretKey(e.value)).filter((r): r is SecretKeyRecord => r !== undefined).sort((a, b) => a.epoch - b.epoch)
  }

  /** The highest epoch, the one new secrets are sealed under; undefined before an operator made one. */
  current (): SecretKeyRecord | undefined { return this.records().at(-1) }

  /** The data key of `epoch` from this peer's envelope; throws SecretError('secret-no-key') when it has none. */
  dataKey (epoch: number): Uint8Array {
    const self = this.mesh.peerId
    const rec = decodeSecretKey(this.mesh.get(secretKeyKey(epoch)))
    const env = rec?.envelopes[self]
    if (!rec || !env) {
      throw new SecretError('secret-no-key', `this peer (${self}) holds no secrets data key of epoch ${epoch}: it is not admitted to the cluster, it was removed, or no operator has sealed the key to it yet`)
    }
    const epk = Buffer.from(env.epk).toString('hex')
    const have = this.cache.get(epoch)
    if (have && have.epk === epk) return have.key
    let key: Uint8Array
    try {
      key = new Uint8Array(Buffer.from(this.sealKey.openText(secretKeyKey(epoch), self, env), 'base64'))
    } catch (err) {
      throw new SecretError('secret-no-key', `the secrets data key of epoch ${epoch} sealed for this peer (${self}) does not open with its seal key (was its home recreated?)`, { cause: err })
    }
    if (key.length !== 32) throw new SecretError('secret-corrupt', `the secrets data key of epoch ${epoch} is not 32 bytes`)
    this.cache.set(epoch, { epk, key })
    return key
  }

  async ready (timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs
    while (Date.now() < until) {
      const cur = this.current()
      if (cur?.envelopes[this.mesh.peerId]) return
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  seal (scope: string, name: string, value: string): Sealed {
    const cur = this.current()
    if (!cur) throw new SecretError('secret-no-key', 'this cluster has no secrets data key yet: an operator peer makes one once it has synced (try again in a moment)')
    return { ...new SecretBox(this.dataKey(cur.epoch)).seal(scope, name, value), epoch: cur.epoch }
  }

  open (scope: string, name: string, sealed: unknown): string {
    const s = decodeSealed(sealed)
    if (!s) throw new SecretError('secret-corrupt', `secret ${name} (${scope}) is not a sealed value`)
    if (s.epoch === undefined) {
      throw new SecretError('secret-corrupt', `secret ${name} (${scope}) was sealed under the cluster key by an older monk: an operator peer re-seals it under the secrets data key once it has synced; until then it is not opened`)
    }
    // a worker opens only through its grant; anyone else needs an envelope of the data key
    if (this.mesh.roleOf(this.mesh.peerId) === 'worker') return this.openGrant(scope, name, s)
    return new SecretBox(this.dataKey(s.epoch)).open(scope, name, s)
  }

  /** Opens secret `name` (`scope`), sealed in the replica as `s`, through this peer's grant. */
  private openGrant (scope: string, name: string, s: Sealed): string {
    const self = this.mesh.peerId
    const key = secretGrantKey(self, scope, name)
    const g = decodeGrant(this.mesh.get(key))
    if (!g) {
      throw new SecretError('secret-no-grant', `waiting for an operator to grant secret ${name} (${scope}) to this peer (${self}): a worker opens only the secrets of instances placed on it, and an operator peer seals them to it while one is live`)
    }
    if (g.src !== sealedPrint(s)) {
      throw new SecretError('secret-no-grant', `waiting for an operator to grant secret ${name} (${scope}) to this peer (${self}) again: the secret changed since its grant was made`)
    }
    try {
      return this.sealKey.openText(key, self, g.env)
    } catch (err) {
      throw new SecretError('secret-no-grant', `the grant of secret ${name} (${scope}) to this peer (${self}) does not open with its seal key (was its home recreated?); waiting for an operator to grant it again`, { cause: err })
    }
  }
}
