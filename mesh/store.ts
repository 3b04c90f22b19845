// Persistence of a peer in its home (classic-level, DESIGN §3): replica entries, the HLC
// high-water mark, the cluster it belongs to and its libp2p identity key. Writes are group-committed:
// everything queued while one batch is written goes out in the next atomic batch.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { ClassicLevel } from 'classic-level'
import { decodeCbor, decodeStoredEntry, encodeCbor, encodeStoredEntry, type CodecLimits } from './codec.js'
import type { Entry } from './entry.js'
import { StoreError } from './errors.js'
import type { HighWater } from './hlc.js'
import type { JoinToken } from './cluster.js'

const entryPrefix = 'e/'
const metaHlc = 'm/hlc'
const metaIdentity = 'm/identity'
const metaCluster = 'm/cluster'

type Op = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }

interface Pending {
  ops: Map<string, Op>
  sync: boolean
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>
}

// @libp2p/crypto 5.1.23 declares its keys against @libp2p/interface 3 while libp2p 2.10 uses 2.11;
// the objects are the same at run time (libp2p itself uses this package), only the types differ
function asPrivateKey (key: unknown): PrivateKey { return key as PrivateKey }

export class Store {
  private readonly db: ClassicLevel<string, Uint8Array>
  private readonly dir: string
  private pending: Pending | undefined
  private flushing: Promise<void> | undefined
  private highWater: (() => HighWater) | undefined

  private constructor (db: ClassicLevel<string, Uint8Array>, dir: string) {
    this.db = db
    this.dir = dir
  }

  /** Opens (creating if needed) the store in `<home>/data`. Throws StoreError (e.g. another process holds it). */
  static async open (home: string): Promise<Store> {
    const dir = join(home, 'data')
    try {
      mkdirSync(dir, { recursive: true })
      const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
      await db.open()
      return new Store(db, dir)
    } catch (err) {
      throw new StoreError(`cannot open the mesh store in ${dir}: ${(err as Error).message}${(err as { code?: string }).code === 'LEVEL_DATABASE_NOT_OPEN' ? ' (is another monkd using this home?)' : ''}`, { cause: err })
    }
  }

  /** Where the high-water mark is read from at each commit (the peer's HLC). */
  trackHighWater (fn: () => HighWater): void { this.highWater = fn }

  /** The persisted identity key, created and saved on first use. */
  async identity (): Promise<PrivateKey> {
    const stored = await this.read(metaIdentity)
    if (stored) {
      try {
        return asPrivateKey(privateKeyFromProtobuf(stored))
      } catch (err) {
        throw new StoreError(`the identity key in ${this.dir} is corrupt; remove the home to start as a new peer`, { cause: err })
      }
    }
    const key = await generateKeyPair('Ed25519')
    await this.put(metaIdentity, privateKeyToProtobuf(key), true)
    return asPrivateKey(key)
  }

  /** The cluster this home belongs to, if any. */
  async cluster (): Promise<JoinToken | undefined> {
    const stored = await this.read(metaCluster)
    if (!stored) return undefined
    const v = decodeCbor(stored, 'stored cluster')
    if (!Array.isArray(v) || typeof v[0] !== 'string' || !(v[1] instanceof Uint8Array) || !Array.isArray(v[2])) {
      throw new StoreError(`the cluster record in ${this.dir} is corrupt`)
    }
    return { id: v[0], key: v[1], bootstrap: v[2] as string[] }
  }

  async saveCluster (c: JoinToken): Promise<void> {
    await this.put(metaCluster, encodeCbor([c.id, c.key, [...c.bootstrap]]), true)
  }

  /** The persisted HLC high-water mark, if any. */
  async loadHighWater (): Promise<HighWater | undefined> {
    const stored = await this.read(metaHlc)
    if (!stored) return undefined
    const v = decodeCbor(stored, 'stored HLC')
    if (!Array.isArray(v) || !Number.isSafeInteger(v[0]) || !Number.isSafeInteger(v[1])) throw new StoreError(`the HLC record in ${this.dir} is corrupt`)
    return { wall: v[0] as number, counter: v[1] as number }
  }

  /** Every stored replica entry. A corrupt record throws StoreError naming its key. */
  async loadEntries (limits: CodecLimits): Promise<Entry[]> {
    const out: Entry[] = []
    for await (const [key, value] of this.db.iterator({ gte: entryPrefix, lt: 'e0' })) {
      try {
        out.push(decodeStoredEntry(value, limits))
      } catch (err) {
        throw new StoreError(`stored entry ${key.slice(entryPrefix.length)} in ${this.dir} is corrupt: ${(err as Error).message}`, { cause: err })
      }
    }
    return out
  }

  /**
   * Queues entries (tombstones included) for the next atomic batch, with the current HLC
   * high-water mark. Resolves when the batch is written; with `sync` it is fsynced first
   * (acknowledged local writes), otherwise it survives a process crash but not a power loss.
   */
  write (entries: readonly Entry[], sync: boolean): Promise<void> {
    const p = this.queue(sync)
    for (const e of entries) p.ops.set(entryPrefix + e.key, { type: 'put', key: entryPrefix + e.key, value: encodeStoredEntry(e) })
    return this.wait(p)
  }

  /** Queues removal of purged tombstones. */
  remove (keys: readonly string[]): Promise<void> {
    const p = this.queue(false)
    for (const k of keys) p.ops.set(entryPrefix + k, { type: 'del', key: entryPrefix + k })
    return this.wait(p)
  }

  /** Waits for queued writes, then closes the database. */
  async close (): Promise<void> {
    while (this.flushing || this.pending) await (this.flushing ?? Promise.resolve())
    await this.db.close()
  }

  private queue (sync: boolean): Pending {
    this.pending ??= { ops: new Map(), sync: false, waiters: [] }
    if (sync) this.pending.sync = true
    if (!this.flushing) this.flushing = Promise.resolve().then(() => this.flush())
    return this.pending
  }

  private wait (p: Pending): Promise<void> {
    return new Promise((resolve, reject) => { p.waiters.push({ resolve, reject }) })
  }

  private async flush (): Promise<void> {
    while (this.pending) {
      const p = this.pending
      this.pending = undefined
      const ops = [...p.ops.values()]
      const hw = this.highWater?.()
      if (hw) ops.push({ type: 'put', key: metaHlc, value: encodeCbor([hw.wall, hw.counter]) })
      try {
        await this.db.batch(ops, { sync: p.sync })
        for (const w of p.waiters) w.resolve()
      } catch (err) {
        const e = new StoreError(`cannot write ${ops.length} records to the mesh store in ${this.dir}: ${(err as Error).message}`, { cause: err })
        for (const w of p.waiters) w.reject(e)
      }
    }
    this.flushing = undefined
  }

  private async read (key: string): Promise<Uint8Array | undefined> {
    try {
      return await this.db.get(key)
    } catch (err) {
      throw new StoreError(`cannot read ${key} from the mesh store in ${this.dir}: ${(err as Error).message}`, { cause: err })
    }
  }

  private async put (key: string, value: Uint8Array, sync: boolean): Promise<void> {
    try {
      await this.db.put(key, value, { sync })
    } catch (err) {
      throw new StoreError(`cannot write ${key} to the mesh store in ${this.dir}: ${(err as Error).message}`, { cause: err })
    }
  }
}
