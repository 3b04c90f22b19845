// Signed entries (mesh README, "Signed entries"): every replica entry carries an Ed25519 signature
// made with its writer's libp2p key, over the key, the HLC (writer included) and the value or
// tombstone. A receiver checks it against the public key inside the writer's peer id, so an entry
// relayed by anyone (gossip or anti-entropy) is exactly what its writer wrote, and the owner rules
// of keys.ts hold on every path. Node's crypto does the work (cost: mesh README, "Signed entries").
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { encode } from 'cborg'
import type { Entry } from './entry.js'

/** Length of an Ed25519 signature. */
export const signatureBytes = 64

// domain separation: these bytes are never a valid message of any other monk protocol
const domain = 'monk/entry/1'

// DER headers of an Ed25519 key in PKCS#8 (private seed) and SPKI (public) form (RFC 8410)
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex')
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex')

/** The bytes a signature covers. */
export function signedBytes (e: Entry): Uint8Array {
  return e.value === undefined
    ? encode([domain, e.key, e.hlc.wall, e.hlc.counter, e.hlc.peer, 1])
    : encode([domain, e.key, e.hlc.wall, e.hlc.counter, e.hlc.peer, 0, e.value])
}

/** Signs this peer's entries with its libp2p identity key. */
export class EntrySigner {
  readonly self: string
  private readonly key: KeyObject

  constructor (privateKey: PrivateKey, self: string) {
    if (privateKey.type !== 'Ed25519') throw new TypeError(`entry signing needs an Ed25519 identity, this peer has ${privateKey.type}`)
    // libp2p's Ed25519 private key is the 32-byte seed followed by the 32-byte public key
    const seed = privateKey.raw.subarray(0, 32)
    this.key = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' })
    this.self = self
  }

  /** `e` with this peer's signature. Throws when `e` names another writer. */
  sign (e: Entry): Entry {
    if (e.hlc.peer !== this.self) throw new Error(`peer ${this.self} cannot sign entry ${e.key} written by ${e.hlc.peer}`)
    return { key: e.key, hlc: e.hlc, value: e.value, sig: new Uint8Array(sign(null, signedBytes(e), this.key)) }
  }
}

/**
 * Checks entries' signatures against their writers' peer ids. Public keys are cached (bounded: the
 * writers of a cluster are few; a flood of made-up ids only evicts).
 */
export class EntryVerifier {
  private readonly keys = new Map<string, KeyObject | null>()
  private readonly maxKeys: number

  constructor (maxKeys = 4096) {
    this.maxKeys = maxKeys
  }

  /** True when `e` carries a valid signature of its writer. */
  verify (e: Entry): boolean {
    if (e.sig === undefined || e.sig.length !== signatureBytes) return false
    const key = this.publicKey(e.hlc.peer)
    if (key === null) return false
    try {
      return verify(null, signedBytes(e), key, e.sig)
    } catch {
      return false
    }
  }

  private publicKey (peer: string): KeyObject | null {
    const cached = this.keys.get(peer)
    if (cached !== undefined) return cached
    let key: KeyObject | null = null
    try {
      const pub = peerIdFromString(peer).publicKey
      if (pub?.type === 'Ed25519') key = createPublicKey({ key: Buffer.concat([spkiPrefix, pub.raw]), format: 'der', type: 'spki' })
    } catch {
      key = null
    }
    if (this.keys.size >= this.maxKeys) this.keys.delete(this.keys.keys().next().value!)
    this.keys.set(peer, key)
    return key
  }
}
