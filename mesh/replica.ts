// The replicated map: LWW by HLC per key, owner rules on local writes, tombstones, change
// notifications by prefix. In memory and free of I/O; the mesh persists and gossips what it applies.
import type { Clock } from './clock.js'
import { checkLocalEntry, entrySize, type CodecLimits } from './codec.js'
import { defaults } from './defaults.js'
import { Digest } from './digest.js'
import { wins, type Entry } from './entry.js'
import { OwnershipError, QuotaError } from './errors.js'
import type { Hlc, HlcClock } from './hlc.js'
import { checkKey, ownerOf } from './keys.js'
import type { Value } from './value.js'

/** Where an applied write came from. */
export type Origin = 'local' | 'remote'

/** One applied change, as delivered to onChange listeners. */
export interface Change {
  key: string
  /** New value; undefined when the key was deleted. */
  value: Value | undefined
  /** Value before the change; undefined when the key did not exist or was deleted. */
  previous: Value | undefined
  hlc: Hlc
  origin: Origin
}

export type ChangeListener = (change: Change) => void

export interface ReplicaInit {
  /** This peer's id: the owner of `peer/<self>`, `claim/…/<self>`, `status/…/<self>`. */
  self: string
  hlc: HlcClock
  clock: Clock
  limits: CodecLimits
  buckets: number
  /** Most entries and encoded bytes one writer may hold here (default: defaults.ts maxWriterEntries / maxWriterBytes). */
  quota?: { entries: number; bytes: number }
  /** A remote entry refused because its writer holds its quota here. */
  onOverQuota?: (entry: Entry) => void
  /** Called when a change listener throws (the error is swallowed after this). */
  onListenerError?: (err: unknown, change: Change) => void
}

interface Slot {
  entry: Entry
  bucket: number
  /** Monotonic ms at which this version was applied here (tombstone purge uses it). */
  appliedAt: number
  /** Encoded size of the entry, counted against its writer's quota. */
  size: number
}

/** What one writer holds in the replica. */
export interface Usage { entries: number; bytes: number }

export class Replica {
  readonly digest: Digest
  private readonly slots = new Map<string, Slot>()
  private readonly byBucket: Array<Set<string>>
  private readonly listeners = new Set<{ prefix: string; fn: ChangeListener }>()
  private readonly applyHooks = new Set<(applied: Entry[], origin: Origin) => void>()
  private readonly init: ReplicaInit
  private readonly usage = new Map<string, Usage>()
  private live = 0

  constructor (init: ReplicaInit) {
    this.init = init
    this.digest = new Digest(init.buckets)
    this.byBucket = Array.from({ length: init.buckets }, () => new Set<string>())
  }

  /** Current value of `key`, or undefined if absent or deleted. */
  get (key: string): Value | undefined {
    return this.slots.get(key)?.entry.value
  }

  /** The entry of `key` including tombstones, with its HLC. */
  entry (key: string): Entry | undefined {
    return this.slots.get(key)?.entry
  }

  /** Live keys under `prefix` (a plain string prefix), sorted by key. */
  scan (prefix: string): Array<{ key: string; value: Value }> {
    const out: Array<{ key: string; value: Value }> = []
    for (const [key, slot] of this.slots) {
      if (slot.entry.value !== undefined && key.startsWith(prefix)) out.push({ key, value: slot.entry.value })
    }
    return out.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  }

  /** Number of live keys. */
  get size (): number { return this.live }

  /** Number of stored entries, tombstones included. */
  get entryCount (): number { return this.slots.size }

  /** Every stored entry, tombstones included (no order). */
  * entries (): IterableIterator<Entry> {
    for (const slot of this.slots.values()) yield slot.entry
  }

  /** Stored entries whose keys fall in the given digest buckets. */
  entriesInBuckets (buckets: Iterable<number>): Entry[] {
    const out: Entry[] = []
    for (const b of buckets) {
      for (const key of this.byBucket[b] ?? []) out.push(this.slots.get(key)!.entry)
    }
    return out
  }

  /**
   * Local write of `value` (or a delete when undefined). Checks the key, the owner rule and the
   * value, stamps a fresh HLC, applies and notifies. Returns the new entry, or undefined when a
   * delete found nothing to delete. Throws KeyError, OwnershipError or ValueError.
   */
  write (key: string, value: Value | undefined): Entry | undefined {
    const entry = this.stamp(key, value)
    if (entry) this.applyLocal(entry)
    return entry
  }

  /**
   * The entry a local write of `value` would produce (checks as write(), fresh HLC), without
   * applying it: the mesh persists it first, then applies it with applyLocal().
   */
  stamp (key: string, value: Value | undefined): Entry | undefined {
    checkKey(key, this.init.limits.maxKeyBytes)
    const owner = ownerOf(key)
    if (owner !== undefined && owner !== this.init.self) {
      throw new OwnershipError(`peer ${this.init.self} cannot write ${key}: it belongs to peer ${owner}`)
    }
    const current = this.slots.get(key)
    if (value === undefined && (current === undefined || current.entry.value === undefined)) return undefined
    const entry: Entry = { key, hlc: this.init.hlc.now(), value }
    checkLocalEntry(entry, this.init.limits)
    const over = this.overQuota(entry, current)
    if (over) throw new QuotaError(`peer ${this.init.self} cannot write ${key}: ${over} (tombstones count until purged)`)
    return entry
  }

  /** What `writer` holds here (entries, tombstones included, and encoded bytes). */
  usageOf (writer: string): Usage {
    return { ...(this.usage.get(writer) ?? { entries: 0, bytes: 0 }) }
  }

  /** Why applying `entry` over `current` would take its writer over the quota, or undefined. */
  private overQuota (entry: Entry, current: Slot | undefined): string | undefined {
    const quota = this.init.quota ?? { entries: defaults.maxWriterEntries, bytes: defaults.maxWriterBytes }
    const u = this.usage.get(entry.hlc.peer) ?? { entries: 0, bytes: 0 }
    const same = current !== undefined && current.entry.hlc.peer === entry.hlc.peer
    const entries = u.entries + (same ? 0 : 1)
    const bytes = u.bytes - (same ? current.size : 0) + entrySize(entry) + signatureAllowance(entry)
    if (entries > quota.entries) return `its writer would hold ${entries} entries, more than the ${quota.entries} allowed per writer`
    if (bytes > quota.bytes) return `its writer would hold ${bytes} bytes, more than the ${quota.bytes} allowed per writer`
    return undefined
  }

  /**
   * Applies an entry this peer wrote (from stamp(), or a tombstone the mesh made) and notifies.
   * False when a newer version is already here (it stays).
   */
  applyLocal (entry: Entry): boolean {
    const current = this.slots.get(entry.key)
    if (!wins(entry, current?.entry)) return false
    this.init.hlc.observe(entry.hlc)
    const previous = current?.entry.value
    this.set(entry, current)
    this.emit([{ entry, previous }], 'local')
    return true
  }

  /**
   * Merges entries from another peer (already validated by the codec): each one replaces ours only
   * if its HLC is greater. Returns the entries that won. Throws nothing for well-formed input.
   */
  merge (entries: readonly Entry[]): Entry[] {
    const applied: Array<{ entry: Entry; previous: Value | undefined }> = []
    for (const entry of entries) {
      const current = this.slots.get(entry.key)
      if (!wins(entry, current?.entry)) continue
      if (this.overQuota(entry, current)) { this.init.onOverQuota?.(entry); continue }
      this.init.hlc.observe(entry.hlc)
      const previous = current?.entry.value
      this.set(entry, current)
      applied.push({ entry, previous })
    }
    if (applied.length) this.emit(applied, 'remote')
    return applied.map(a => a.entry)
  }

  /** Restores entries read from disk: no notifications, no hooks; moves the HLC past them. */
  load (entries: Iterable<Entry>): void {
    for (const entry of entries) {
      const current = this.slots.get(entry.key)
      if (!wins(entry, current?.entry)) continue
      this.init.hlc.restore(entry.hlc)
      this.set(entry, current)
    }
  }

  /** Tombstones with the monotonic time they were applied here. */
  tombstones (): Array<{ entry: Entry; appliedAt: number }> {
    const out: Array<{ entry: Entry; appliedAt: number }> = []
    for (const slot of this.slots.values()) if (slot.entry.value === undefined) out.push({ entry: slot.entry, appliedAt: slot.appliedAt })
    return out
  }

  /** Forgets the given tombstones, unless a newer version replaced them meanwhile. Returns those removed. */
  purge (tombstones: readonly Entry[]): Entry[] {
    const removed: Entry[] = []
    for (const t of tombstones) {
      const slot = this.slots.get(t.key)
      if (!slot || slot.entry !== t) continue
      this.digest.toggle(slot.entry, slot.bucket)
      this.slots.delete(t.key)
      this.byBucket[slot.bucket]!.delete(t.key)
      this.account(slot.entry.hlc.peer, -1, -slot.size)
      removed.push(t)
    }
    return removed
  }

  /**
   * Calls `fn` after every applied change of a key starting with `prefix` ('' = all keys),
   * synchronously, once the whole batch it belongs to is applied. Returns an unsubscribe function.
   */
  onChange (prefix: string, fn: ChangeListener): () => void {
    const l = { prefix, fn }
    this.listeners.add(l)
    return () => { this.listeners.delete(l) }
  }

  /** Mesh-internal: called with each batch of applied entries (persistence, gossip), before listeners. */
  onApply (fn: (applied: Entry[], origin: Origin) => void): () => void {
    this.applyHooks.add(fn)
    return () => { this.applyHooks.delete(fn) }
  }

  private set (entry: Entry, current: Slot | undefined): void {
    const size = entrySize(entry) + signatureAllowance(entry)
    if (current) {
      this.digest.toggle(current.entry, current.bucket)
      if (current.entry.value !== undefined) this.live--
      this.account(current.entry.hlc.peer, -1, -current.size)
      current.entry = entry
      current.appliedAt = this.init.clock.monotonic()
      current.size = size
      this.digest.toggle(entry, current.bucket)
    } else {
      const bucket = this.digest.bucketOf(entry.key)
      this.slots.set(entry.key, { entry, bucket, appliedAt: this.init.clock.monotonic(), size })
      this.byBucket[bucket]!.add(entry.key)
      this.digest.toggle(entry, bucket)
    }
    this.account(entry.hlc.peer, 1, size)
    if (entry.value !== undefined) this.live++
  }

  private account (writer: string, entries: number, bytes: number): void {
    const u = this.usage.get(writer) ?? { entries: 0, bytes: 0 }
    u.entries += entries
    u.bytes += bytes
    if (u.entries <= 0) this.usage.delete(writer)
    else this.usage.set(writer, u)
  }

  private emit (applied: Array<{ entry: Entry; previous: Value | undefined }>, origin: Origin): void {
    const entries = applied.map(a => a.entry)
    for (const hook of this.applyHooks) hook(entries, origin)
    if (this.listeners.size === 0) return
    for (const { entry, previous } of applied) {
      const change: Change = { key: entry.key, value: entry.value, previous, hlc: entry.hlc, origin }
      for (const l of this.listeners) {
        if (!entry.key.startsWith(l.prefix)) continue
        try {
          l.fn(change)
        } catch (err) {
          this.init.onListenerError?.(err, change)
        }
      }
    }
  }
}

// an entry not signed yet (a local write before commit) counts as it will be sent
function signatureAllowance (e: Entry): number {
  return e.sig === undefined ? 66 : 0
}
