// Persistence of a peer in its home (classic-level, DESIGN §3): replica entries, the HLC
// high-water mark, the cluster it belongs to and its libp2p identity key. Writes are group-committed:
// everything queued while one batch is written goes out in the next atomic batch.
import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { dirname, join } from 'node:path'
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
const metaHorizon = 'm/purged'

export interface StoreOpenOptions {
  /**
   * Repair a damaged store instead of failing: LevelDB's repair for a store that does not open,
   * moving it aside (`data.unreadable-<time>`) and starting empty when even that fails; and
   * loadEntries() drops undecodable entries. Anti-entropy then resyncs what was lost from peers.
   */
  repair?: boolean
  /** Told about everything repair drops or moves (one message per key or action). */
  onWarning?: (message: string) => void
}

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

  /**
   * Opens (creating if needed) the store in `<home>/data`. Throws StoreError naming the real
   * cause: lock held by another process, corruption (with the way out: `--repair`), permission
   * denied, disk full.
   */
  static async open (home: string, opts: StoreOpenOptions = {}): Promise<Store> {
    const dir = join(home, 'data')
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
    } catch (err) {
      throw new StoreError(`cannot create the mesh store directory ${dir}: ${describeFsError(realMkdirError(dir, err))}`, { cause: err })
    }
    try {
      return await Store.openDb(dir)
    } catch (err) {
      const cause = openFailure(err)
      if (!opts.repair || cause.kind === 'locked' || cause.kind === 'denied' || cause.kind === 'full') throw new StoreError(`cannot open the mesh store in ${dir}: ${cause.text}`, { cause: err })
      opts.onWarning?.(`the mesh store in ${dir} is corrupt (${cause.detail}); repairing it`)
    }
    try {
      await ClassicLevel.repair(dir)
      const store = await Store.openDb(dir)
      // repair may have lost records: absence of a key no longer means it was deleted here
      await store.db.del(metaHorizon)
      opts.onWarning?.(`repaired the mesh store in ${dir}; anti-entropy resyncs what it lost from peers`)
      return store
    } catch (err) {
      const aside = `${dir}.unreadable-${Date.now()}`
      try {
        renameSync(dir, aside)
        mkdirSync(dir, { recursive: true, mode: 0o700 })
      } catch (moveErr) {
        throw new StoreError(`cannot repair the mesh store in ${dir} (${openFailure(err).text}) nor move it aside: ${describeFsError(moveErr)}`, { cause: moveErr })
      }
      opts.onWarning?.(`the mesh store in ${dir} could not be repaired (${openFailure(err).detail}); moved it to ${aside} and starting empty: this peer gets a new identity and needs a join token, then resyncs from peers`)
      return await Store.openDb(dir)
    }
  }

  private static async openDb (dir: string): Promise<Store> {
    const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    await db.open()
    return new Store(db, dir)
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
    // a fourth element (founder ids) since roles; a home from before has none
    const founders = Array.isArray(v[3]) && v[3].every(f => typeof f === 'string') ? { founders: v[3] as string[] } : {}
    return { id: v[0], key: v[1], bootstrap: v[2] as string[], ...founders }
  }

  /** Saves the cluster (id, key, bootstrap, founders; never an invite: it is spent). */
  async saveCluster (c: JoinToken): Promise<void> {
    await this.put(metaCluster, encodeCbor(c.founders ? [c.id, c.key, [...c.bootstrap], [...c.founders]] : [c.id, c.key, [...c.bootstrap]]), true)
  }

  /** The persisted HLC high-water mark, if any. */
  async loadHighWater (): Promise<HighWater | undefined> {
    const stored = await this.read(metaHlc)
    if (!stored) return undefined
    const v = decodeCbor(stored, 'stored HLC')
    if (!Array.isArray(v) || !Number.isSafeInteger(v[0]) || !Number.isSafeInteger(v[1])) throw new StoreError(`the HLC record in ${this.dir} is corrupt`)
    return { wall: v[0] as number, counter: v[1] as number }
  }

  /**
   * Every stored replica entry. A corrupt record throws StoreError naming its key, unless
   * `repair`: then it is dropped from the store (each key reported to `onWarning`) and the purge
   * horizon is cleared (absence of a key no longer means it was deleted here).
   */
  async loadEntries (limits: CodecLimits, repair?: { onWarning: (message: string) => void }): Promise<Entry[]> {
    const out: Entry[] = []
    const bad: string[] = []
    for await (const [key, value] of this.db.iterator({ gte: entryPrefix, lt: 'e0' })) {
      try {
        out.push(decodeStoredEntry(value, limits))
      } catch (err) {
        if (!repair) throw new StoreError(`stored entry ${key.slice(entryPrefix.length)} in ${this.dir} is corrupt: ${(err as Error).message}; start monkd with --repair to drop it and resync it from peers`, { cause: err })
        repair.onWarning(`repair: dropped undecodable stored entry ${JSON.stringify(key.slice(entryPrefix.length)).slice(0, 300)} (${(err as Error).message}); peers resync it`)
        bad.push(key)
      }
    }
    if (repair && bad.length) {
      try {
        await this.db.batch([...bad.map(key => ({ type: 'del' as const, key })), { type: 'del' as const, key: metaHorizon }], { sync: true })
      } catch (err) {
        throw new StoreError(`cannot drop ${bad.length} corrupt entries from the mesh store in ${this.dir}: ${describeFsError(err)}`, { cause: err })
      }
    }
    return out
  }

  /** Wall ms of the newest tombstone purged here without every peer's acknowledgement (0: none). */
  async loadHorizon (): Promise<number> {
    const stored = await this.read(metaHorizon)
    if (!stored) return 0
    const v = decodeCbor(stored, 'stored purge horizon')
    if (!Number.isSafeInteger(v)) throw new StoreError(`the purge horizon record in ${this.dir} is corrupt; start monkd with --repair`)
    return v as number
  }

  async saveHorizon (wall: number): Promise<void> {
    await this.put(metaHorizon, encodeCbor(wall), true)
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
        await this.batchWithRecovery(ops, p.sync)
        for (const w of p.waiters) w.resolve()
      } catch (err) {
        const e = new StoreError(`cannot write ${ops.length} records to the mesh store in ${this.dir}: ${describeFsError(err)}`, { cause: err })
        for (const w of p.waiters) w.reject(e)
      }
    }
    this.flushing = undefined
  }

  /**
   * One atomic batch. LevelDB keeps a failed write (a full disk) as a sticky background error
   * that fails every later write until the database is reopened: on failure reopen once and
   * retry, so the store recovers by itself once the cause is gone.
   */
  private async batchWithRecovery (ops: Op[], sync: boolean): Promise<void> {
    try {
      await this.db.batch(ops, { sync })
      return
    } catch (err) {
      try {
        await this.db.close()
        await this.db.open()
      } catch {
        throw err
      }
    }
    await this.db.batch(ops, { sync })
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

/** What stopped LevelDB from opening, in words an operator can act on. */
function openFailure (err: unknown): { kind: 'locked' | 'corrupt' | 'denied' | 'full' | 'other'; text: string; detail: string } {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  const detail = cause?.message ?? (err as Error).message
  if (cause?.code === 'LEVEL_LOCKED' || /lock .*(already held|temporarily unavailable)/i.test(detail)) {
    return { kind: 'locked', detail, text: `another process holds its lock: is another monkd using this home? (${detail})` }
  }
  if (cause?.code === 'LEVEL_CORRUPTION' || /corrupt/i.test(detail) || /(MANIFEST|CURRENT|\.ldb|\.sst|\.log)\S*: No such file/.test(detail)) {
    return { kind: 'corrupt', detail, text: `the store is corrupt (${detail}); start monkd with --repair to repair it (what cannot be read is dropped and resynced from peers)` }
  }
  if (/permission denied|EACCES|EPERM|read-only file system|EROFS/i.test(detail)) return { kind: 'denied', detail, text: `permission denied (${detail}): the home must be writable by this user` }
  if (/no space left|ENOSPC/i.test(detail)) return { kind: 'full', detail, text: `the disk is full (${detail})` }
  return { kind: 'other', detail, text: `${detail} (if the store is damaged, start monkd with --repair)` }
}

/** Node's recursive mkdir reports ENOENT on a read-only parent; a plain mkdir tells the real cause. */
function realMkdirError (dir: string, err: unknown): unknown {
  if ((err as { code?: string }).code !== 'ENOENT' || !existsSync(dirname(dir))) return err
  try {
    mkdirSync(dir, { mode: 0o700 })
    return err
  } catch (plain) {
    return plain
  }
}

function describeFsError (err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { message?: string } }
  const msg = e.cause?.message ?? e.message ?? String(err)
  if (e.code === 'EACCES' || e.code === 'EPERM' || /permission denied/i.test(msg)) return `permission denied (${msg})`
  if (e.code === 'EROFS' || /read-only file system/i.test(msg)) return `read-only file system (${msg})`
  if (e.code === 'ENOSPC' || /no space left/i.test(msg)) return `the disk is full (${msg})`
  if (e.code === 'ENOTDIR' || e.code === 'EEXIST') return `a path component is not a directory (${msg})`
  return msg
}
