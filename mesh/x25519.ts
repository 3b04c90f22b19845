// X25519 keys as the replica carries them (raw 32-byte public keys), and the ephemeral key
// agreement that seals a value for one peer's seal key: the cluster-key envelopes of a rotation
// (rekey.ts), and in actors/ the provider credentials, the secrets data key and secret grants.
import { createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto'

/** The public key object of a raw 32-byte X25519 public key; throws on any other length. */
export function x25519FromRaw (raw: Uint8Array): KeyObject {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) throw new Error('an X25519 public key must be 32 bytes')
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' })
}

/** The raw 32 bytes of an X25519 public key object. */
export function rawX25519 (k: KeyObject): Uint8Array {
  const jwk = k.export({ format: 'jwk' }) as { x?: string }
  if (typeof jwk.x !== 'string') throw new Error('an X25519 public key without x')
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'))
}

/**
 * A fresh ephemeral key pair agreed with the peer whose raw public key is `publicRaw`: the
 * ephemeral public key to send along (`epk`) and the shared secret to derive the sealing key from.
 */
export function ephemeralAgreement (publicRaw: Uint8Array): { epk: Uint8Array, shared: Buffer } {
  const eph = generateKeyPairSync('x25519')
  return { epk: rawX25519(eph.publicKey), shared: diffieHellman({ privateKey: eph.privateKey, publicKey: x25519FromRaw(publicRaw) }) }
}

/** The shared secret of the private key `priv` with the raw public key `epk`. */
export function agreeWith (priv: KeyObject, epk: Uint8Array): Buffer {
  return diffieHellman({ privateKey: priv, publicKey: x25519FromRaw(epk) })
}
