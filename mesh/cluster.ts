// Cluster identity and join tokens (DESIGN §11): a cluster is an id and a 32-byte key; a token is
// base64url(CBOR [2, id, key, bootstrap multiaddrs, founder ids, invite secret | null]) (version 1
// had no founders and no invite). Without the key a host cannot connect; without an invite an
// operator redeems (roles.ts, admission.ts) it is not admitted.
import { randomBytes } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { decodeCbor, encodeCbor } from './codec.js'
import { TokenError } from './errors.js'

/** A cluster: everything a peer needs to be admitted, except where to find the others. */
export interface Cluster {
  /** 16 lowercase hex characters; names the gossip topics. */
  readonly id: string
  /** 32-byte pre-shared key for libp2p pnet. Secret. */
  readonly key: Uint8Array
}

/** What a join token carries. */
export interface JoinToken extends Cluster {
  /** Multiaddrs of peers to dial first, each ending in /p2p/<peerId>. */
  readonly bootstrap: readonly string[]
  /** Peer ids of the cluster's founders: its trust root (roles.ts). Absent in version 1 tokens. */
  readonly founders?: readonly string[]
  /** Secret of an invite (32 bytes) the joiner redeems for its admission (admission.ts). */
  readonly invite?: Uint8Array
}

const tokenVersion = 2
const idPattern = /^[0-9a-f]{16}$/

/** A new cluster with a random id and key. */
export function createCluster (): Cluster {
  return { id: randomBytes(8).toString('hex'), key: new Uint8Array(randomBytes(32)) }
}

/** Throws TokenError unless `c` is a well-formed cluster. */
export function checkCluster (c: Cluster): void {
  if (typeof c.id !== 'string' || !idPattern.test(c.id)) throw new TokenError(`cluster id must be 16 lowercase hex characters, got ${JSON.stringify(c.id)}`)
  if (!(c.key instanceof Uint8Array) || c.key.length !== 32) throw new TokenError(`cluster key must be 32 bytes, got ${c.key instanceof Uint8Array ? c.key.length : typeof c.key}`)
}

/** Encodes a join token. Throws TokenError on a malformed cluster or bootstrap address. */
export function encodeToken (token: JoinToken): string {
  checkCluster(token)
  for (const a of token.bootstrap) checkBootstrap(a)
  if (token.invite !== undefined && token.invite.length !== 32) throw new TokenError(`invite secret must be 32 bytes, got ${token.invite.length}`)
  const bytes = encodeCbor([tokenVersion, Buffer.from(token.id, 'hex'), token.key, [...token.bootstrap], [...(token.founders ?? [])], token.invite ?? null])
  return Buffer.from(bytes).toString('base64url')
}

/** Parses and validates a join token. Throws TokenError saying which part is wrong. */
export function parseToken (text: string): JoinToken {
  if (typeof text !== 'string' || text.trim() === '') throw new TokenError('join token is empty')
  const trimmed = text.trim()
  if (!/^[A-Za-z0-9_-]+$/.test(trimmed)) throw new TokenError('join token is not base64url (only A-Z a-z 0-9 - _ are allowed)')
  let decoded: unknown
  try {
    decoded = decodeCbor(new Uint8Array(Buffer.from(trimmed, 'base64url')), 'join token')
  } catch (err) {
    throw new TokenError('join token is corrupt: it does not decode (was it truncated when copied?)', { cause: err })
  }
  if (!Array.isArray(decoded) || decoded.length < 1) throw new TokenError('join token is corrupt: wrong structure')
  const [version, id, key, bootstrap, founders, invite] = decoded as unknown[]
  if (version !== 1 && version !== tokenVersion) throw new TokenError(`join token has version ${String(version)}; this monk reads versions 1 and ${tokenVersion}`)
  if (decoded.length !== (version === 1 ? 4 : 6)) throw new TokenError('join token is corrupt: wrong structure')
  if (!(id instanceof Uint8Array) || id.length !== 8) throw new TokenError('join token has no valid cluster id (8 bytes expected)')
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new TokenError('join token has no valid cluster key (32 bytes expected)')
  if (!Array.isArray(bootstrap) || !bootstrap.every(a => typeof a === 'string')) throw new TokenError('join token has no valid bootstrap address list')
  for (const a of bootstrap as string[]) checkBootstrap(a)
  const base = { id: Buffer.from(id).toString('hex'), key: new Uint8Array(key), bootstrap: bootstrap as string[] }
  if (version === 1) return base
  if (!Array.isArray(founders) || !founders.every(f => typeof f === 'string' && f.length > 0 && f.length < 128)) throw new TokenError('join token has no valid founder list')
  if (invite !== null && !(invite instanceof Uint8Array && invite.length === 32)) throw new TokenError('join token has no valid invite (32 bytes or none expected)')
  return { ...base, founders: founders as string[], ...(invite instanceof Uint8Array ? { invite: new Uint8Array(invite) } : {}) }
}

function checkBootstrap (a: string): void {
  let ma
  try {
    ma = multiaddr(a)
  } catch (err) {
    throw new TokenError(`bootstrap address ${JSON.stringify(a)} is not a multiaddr`, { cause: err })
  }
  if (ma.getPeerId() == null) throw new TokenError(`bootstrap address ${a} does not end in /p2p/<peerId>`)
}

/** The 95-byte swarm key file format that @libp2p/pnet expects, from the raw 32-byte key. */
export function swarmKey (key: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new TokenError(`cluster key must be 32 bytes, got ${key.length}`)
  return new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${Buffer.from(key).toString('hex')}`)
}
