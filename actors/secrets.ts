// Sealed values (DESIGN §11): SecretBox is AES-256-GCM under an HKDF of a key, with the scope and
// name bound as additional data, so a sealed value cannot be moved. Secrets in the replica are
// sealed under the cluster's secrets data key of an epoch (secret-keys.ts), which only admitted
// peers can open; a value without an epoch was sealed by an older monk under the cluster key.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import type { Value } from '../mesh/value.js'
import { normalisePath } from './paths.js'
import { isObj } from './values.js'

export class SecretError extends Error {
  override readonly name = 'SecretError'
  constructor (readonly code: 'secret-not-found' | 'secret-not-permitted' | 'secret-corrupt' | 'secret-bad-scope' | 'secret-no-key' | 'secret-no-grant', message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** `epoch`: the data-key epoch it was sealed under (absent: the old cluster-key sealing). */
export interface Sealed { v: 1, iv: Uint8Array, tag: Uint8Array, data: Uint8Array, epoch?: number }

/** What seals and opens secrets for the replica (SecretKeys; a SecretBox in tests of the parts). */
export interface SecretSealer {
  seal (scope: string, name: string, value: string): Sealed
  open (scope: string, name: string, sealed: unknown): string
  /** Resolves once sealing can work (a data key is there), or after `timeoutMs` (seal then says why not). */
  ready?: (timeoutMs: number) => Promise<void>
}

export class SecretBox implements SecretSealer {
  private readonly key: Buffer
  constructor (clusterKey: Uint8Array) {
    this.key = Buffer.from(hkdfSync('sha256', clusterKey, Buffer.alloc(0), 'monk secrets v1', 32))
  }

  seal (scope: string, name: string, value: string): Sealed {
    const iv = randomBytes(12)
    const c = createCipheriv('aes-256-gcm', this.key, iv)
    c.setAAD(Buffer.from(`${scope}\0${name}`))
    const data = Buffer.concat([c.update(value, 'utf8'), c.final()])
    return { v: 1, iv: new Uint8Array(iv), tag: new Uint8Array(c.getAuthTag()), data: new Uint8Array(data) }
  }

  open (scope: string, name: string, sealed: unknown): string {
    const s = decodeSealed(sealed)
    if (!s) throw new SecretError('secret-corrupt', `secret ${name} (${scope}) is not a sealed value`)
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, s.iv)
      d.setAAD(Buffer.from(`${scope}\0${name}`))
      d.setAuthTag(s.tag)
      return Buffer.concat([d.update(s.data), d.final()]).toString('utf8')
    } catch (err) {
      throw new SecretError('secret-corrupt', `secret ${name} (${scope}) cannot be opened with this key`, { cause: err })
    }
  }
}

/**
 * The scope an instance reads secret `name` from: its runnable's path, then the instance, then
 * `global`, the first that holds it (`get` reads the replica); undefined when none does.
 */
export function secretScope (get: (key: string) => unknown, path: string, instance: string, name: string): string | undefined {
  return [path, instance, 'global'].find(scope => get(`secret/${scope}/${name}`) !== undefined)
}

/** `global` or a workload path `ns/name`. */
export function checkScope (scope: string): string {
  const s = normalisePath(scope)
  if (s === 'global' || /^[^\s/]+\/[^\s/]+$/.test(s)) return s
  throw new SecretError('secret-bad-scope', `secret scope must be "global" (-g) or a workload path like ns/name (-r), got "${scope}"`)
}

/** A sealed value as the replica stores it (the replica carries bytes). */
export function encodeSealed (s: Sealed): Value {
  return { v: 1, iv: s.iv, tag: s.tag, data: s.data, ...(s.epoch !== undefined ? { epoch: s.epoch } : {}) }
}

/** A sealed value read from the replica, or undefined if it is not one. */
export function decodeSealed (v: unknown): Sealed | undefined {
  if (!isObj(v)) return undefined
  const { iv, tag, data } = v
  if (!(iv instanceof Uint8Array && tag instanceof Uint8Array && data instanceof Uint8Array)) return undefined
  return typeof v.epoch === 'number' && Number.isSafeInteger(v.epoch) && v.epoch > 0 ? { v: 1, iv, tag, data, epoch: v.epoch } : { v: 1, iv, tag, data }
}
