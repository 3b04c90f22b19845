// Cluster key rotation (SECURITY.md, mesh README "Key rotation"): an operator makes a new 32-byte
// cluster key and writes `clusterkey/<epoch>` = { epoch, by, at, switchAt, envelopes }, one
// envelope per admitted peer that publishes a seal key (`sealKey` in its `peer/<id>` record):
// the key sealed with AES-256-GCM under an HKDF of the X25519 secret of an ephemeral key and the
// peer's seal key. Removed and never-admitted peers get no envelope. Each admitted peer opens its
// own, keeps the key in its home and, at `switchAt`, protects every new connection with it and
// closes the old ones (protector.ts): the libp2p node keeps its port and peer id, work keeps
// running. Only operators write `clusterkey/` (roles.ts: not an owned prefix).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { RoleError } from './errors.js'
import type { Value } from './value.js'
import { ephemeralAgreement } from './x25519.js'

export const clusterKeyPrefix = 'clusterkey/'
/** Epochs sort as text too (zero-padded). */
export const clusterKeyKey = (epoch: number): string => `${clusterKeyPrefix}${String(epoch).padStart(10, '0')}`

/** The new key sealed for one peer: ephemeral X25519 public key, GCM nonce, ciphertext + tag. */
export interface KeyEnvelope { epk: Uint8Array, iv: Uint8Array, box: Uint8Array }

export interface Rotation {
  epoch: number
  /** Operator that rotated, and when (wall ms). */
  by: string
  at: number
  /** Wall ms at which every peer switches to the new key (gives gossip time to reach them all). */
  switchAt: number
  envelopes: Record<string, KeyEnvelope>
}

/** This peer's X25519 seal key (actors/cloud/credentials.ts SealKey): its public half and key agreement. */
export interface SealOpener {
  readonly publicRaw: Uint8Array
  /** The X25519 shared secret with the raw public key `epk`. */
  agree: (epk: Uint8Array) => Uint8Array
}

const info = (epoch: number, peer: string): Buffer => Buffer.from(`monk ${clusterKeyKey(epoch)} for ${peer}`)

function boxKey (shared: Uint8Array, epoch: number, peer: string): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), info(epoch, peer), 32))
}

/** Seals `key` (32 bytes) of `epoch` for `peer`, whose raw X25519 public key is `publicRaw`. */
export function sealClusterKey (epoch: number, peer: string, publicRaw: Uint8Array, key: Uint8Array): KeyEnvelope {
  const { epk, shared } = ephemeralAgreement(publicRaw)
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', boxKey(shared, epoch, peer), iv)
  cipher.setAAD(info(epoch, peer))
  const box = Buffer.concat([cipher.update(key), cipher.final(), cipher.getAuthTag()])
  return { epk, iv: new Uint8Array(iv), box: new Uint8Array(box) }
}

/** Opens the envelope of `epoch` sealed for `peer` with its seal key. Throws RoleError when it does not open. */
export function openClusterKey (epoch: number, peer: string, e: KeyEnvelope, seal: SealOpener): Uint8Array {
  try {
    const decipher = createDecipheriv('aes-256-gcm', boxKey(seal.agree(e.epk), epoch, peer), e.iv)
    decipher.setAAD(info(epoch, peer))
    decipher.setAuthTag(e.box.subarray(e.box.length - 16))
    const key = Buffer.concat([decipher.update(e.box.subarray(0, e.box.length - 16)), decipher.final()])
    if (key.length !== 32) throw new Error(`${key.length} bytes`)
    return new Uint8Array(key)
  } catch (err) {
    throw new RoleError(`the cluster key of epoch ${epoch} sealed for peer ${peer} does not open with this peer's seal key (was its home's cloud/seal.key recreated? join again with a fresh token): ${(err as Error).message}`)
  }
}

export function encodeRotation (r: Rotation): Value {
  const envelopes: Record<string, Value> = {}
  for (const [peer, e] of Object.entries(r.envelopes)) envelopes[peer] = { epk: e.epk, iv: e.iv, box: e.box }
  return { epoch: r.epoch, by: r.by, at: r.at, switchAt: r.switchAt, envelopes }
}

/** The rotation in a replica value, or undefined when it is not one (malformed envelopes are left out). */
export function decodeRotation (v: Value | undefined): Rotation | undefined {
  if (!isRecord(v)) return undefined
  const { epoch, by, at, switchAt, envelopes } = v
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1) return undefined
  if (typeof by !== 'string' || typeof at !== 'number' || typeof switchAt !== 'number' || !isRecord(envelopes)) return undefined
  const out: Record<string, KeyEnvelope> = {}
  for (const [peer, e] of Object.entries(envelopes)) {
    if (!isRecord(e)) continue
    const { epk, iv, box } = e
    if (epk instanceof Uint8Array && epk.length === 32 && iv instanceof Uint8Array && iv.length === 12 && box instanceof Uint8Array && box.length === 48) out[peer] = { epk, iv, box }
  }
  return { epoch, by, at, switchAt, envelopes: out }
}

/** The raw X25519 public key a `peer/<id>` record publishes (`sealKey`), if any. */
export function sealKeyOf (record: Value | undefined): Uint8Array | undefined {
  if (!isRecord(record)) return undefined
  const k = record.sealKey
  return k instanceof Uint8Array && k.length === 32 ? k : undefined
}

function isRecord (v: Value | undefined): v is Record<string, Value> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

/** How long after a rotation every peer switches keys, by default: gossip reaches a LAN in milliseconds, anti-entropy in seconds. */
export const defaultSwitchMs = 3000

export interface KeyRotationInit {
  self: string
  /** Absent: this peer cannot open envelopes (a mesh without a seal key; it keeps its key). */
  seal: SealOpener | undefined
  now: () => number
  scan: (prefix: string) => Array<{ key: string, value: Value }>
  get: (key: string) => Value | undefined
  /** The role of a peer in this replica; undefined when not admitted or removed. */
  admitted: (peer: string) => boolean
  /** The key new connections use now. */
  current: () => Uint8Array
  /** Keeps `key` in the home (the next start uses it). */
  save: (key: Uint8Array) => Promise<void>
  /** Protects new connections with `key` and closes every open one. */
  switchTo: (key: Uint8Array) => Promise<void>
  write: (key: string, value: Value) => Promise<unknown>
  warn: (message: string) => void
}

/** What `rotate` did: the epoch, the peers that received the key, and the admitted peers that could not (no seal key published). */
export interface RotateResult { epoch: number, switchAt: number, sealedFor: string[], skipped: string[] }

/** Follows `clusterkey/` records: opens this peer's envelope of the newest one and switches at its time. */
export class KeyRotation {
  private applied = 0
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor (private readonly init: KeyRotationInit) {}

  /** The newest rotation in the replica, if any. */
  latest (): Rotation | undefined {
    let best: Rotation | undefined
    for (const { value } of this.init.scan(clusterKeyPrefix)) {
      const r = decodeRotation(value)
      if (r && (!best || r.epoch > best.epoch)) best = r
    }
    return best
  }

  /** Makes a new key and seals it for every admitted peer with a seal key (the caller checks the role: the write does too). */
  async rotate (switchMs = defaultSwitchMs): Promise<RotateResult> {
    const { init } = this
    const epoch = (this.latest()?.epoch ?? 0) + 1
    const key = new Uint8Array(randomBytes(32))
    const envelopes: Record<string, KeyEnvelope> = {}
    const skipped: string[] = []
    const peers = new Set(init.scan('peer/').map(e => e.key.slice('peer/'.length)))
    for (const { key: k } of init.scan('admit/')) peers.add(k.slice('admit/'.length))
    peers.add(init.self)
    for (const peer of [...peers].sort()) {
      if (!init.admitted(peer)) continue
      const pub = peer === init.self ? init.seal?.publicRaw : sealKeyOf(init.get(`peer/${peer}`))
      if (pub === undefined) { skipped.push(peer); continue }
      envelopes[peer] = sealClusterKey(epoch, peer, pub, key)
    }
    if (envelopes[init.self] === undefined) throw new RoleError(`peer ${init.self} has no seal key: it cannot rotate the cluster key (it would lock itself out)`)
    const at = init.now()
    const rotation: Rotation = { epoch, by: init.self, at, switchAt: at + switchMs, envelopes }
    await init.write(clusterKeyKey(epoch), encodeRotation(rotation))
    return { epoch, switchAt: rotation.switchAt, sealedFor: Object.keys(envelopes).sort(), skipped }
  }

  /** Looks at the newest rotation (at start, and whenever `clusterkey/` changes). */
  check (): void {
    const { init } = this
    if (this.stopped || init.seal === undefined) return
    const r = this.latest()
    if (!r || r.epoch <= this.applied) return
    const envelope = r.envelopes[init.self]
    this.applied = r.epoch
    if (!envelope) return // not admitted when it was made (or removed): nothing to open
    let key: Uint8Array
    try {
      key = openClusterKey(r.epoch, init.self, envelope, init.seal)
    } catch (err) {
      init.warn((err as Error).message)
      return
    }
    if (Buffer.from(key).equals(Buffer.from(init.current()))) return
    clearTimeout(this.timer)
    void init.save(key).catch(err => { init.warn(`cannot keep the new cluster key in the home: ${(err as Error).message}`) })
    const run = (): void => {
      if (this.stopped) return
      void init.switchTo(key).catch(err => { init.warn(`switching to the cluster key of epoch ${r.epoch} failed: ${(err as Error).message}`) })
    }
    const wait = r.switchAt - init.now()
    if (wait <= 0) run()
    else this.timer = setTimeout(run, wait)
  }

  stop (): void {
    this.stopped = true
    clearTimeout(this.timer)
  }
}
