// The web UI's live feed: cluster events made from the daemon's own state changes (replica
// changes of want/, claim/, status/, peer/ and the mesh's peer up/down), never from polling.
// A browser gets the recent history when it connects, then each event as it happens (gui.ts
// sends them as server-sent events). Events that matter to an operator (a peer down or back, a
// peer joining, a failover, an instance failing, an action run) are kept in the history; the
// others (a status change) only tell open pages to refresh what they show.
// Actions run through any peer's API are carried in the replica while they run
// (`action/<id>/<peer>`, owned by the peer that took the request: mesh/keys.ts), so every peer's
// page lists the cluster's running actions, not only its own; an entry of a peer that went down
// ends as failed, and a restarted peer clears what it left.
import type { Change } from '../../mesh/index.js'
import type { Value } from '../../mesh/value.js'
import { decodeClaim, decodePeer, decodeStatus, decodeWant } from '../../actors/state.js'

/** What the feed reads from the mesh (the Mesh class has all of it). */
export interface FeedSource {
  onChange: (prefix: string, fn: (c: Change) => void) => () => void
  onPeerUp: (fn: (peer: string) => void) => () => void
  onPeerDown: (fn: (peer: string, reason: string) => void) => () => void
  alive: () => string[]
  get: (key: string) => unknown
  scan: (prefix: string) => ReadonlyArray<{ key: string, value: unknown }>
  /** Given with put and delete (a real mesh): running actions are shared through the replica. */
  readonly peerId?: string
  put?: (key: string, value: Value) => Promise<unknown>
  delete?: (key: string) => Promise<unknown>
}

/** What `action/<id>/<peer>` holds: the run as shown (secret arguments masked), and its outcome once known. */
export interface ActionRecord { path: string, action: string, args: Record<string, string>, time: string, via: string, phase?: 'done' | 'failed', error?: string }

export const ACTION_PREFIX = 'action/'
/** How long an ended run's outcome stays in the replica for other peers to see, before its key is deleted. */
const OUTCOME_MS = 2000

export type GuiEvent =
  | { kind: 'peer-down', peer: string, name: string, reason: string }
  | { kind: 'peer-up', peer: string, name: string }
  | { kind: 'peer-joined', peer: string, name: string, tags: string[] }
  | { kind: 'placed', instance: string, peer: string, name: string }
  | { kind: 'failover', instance: string, from: string, fromName: string, to: string, toName: string }
  | { kind: 'moved', instance: string, from: string, fromName: string, to: string, toName: string }
  | { kind: 'state', instance: string, peer: string, name: string, state: string, error: string | null }
  | { kind: 'want', instance: string, state: string | null }
  | { kind: 'templates' }
  | { kind: 'action', id: number | string, path: string, action: string, args: Record<string, string>, phase: 'running' | 'done' | 'failed', error?: string, via?: string | undefined }

export type Stamped = GuiEvent & { seq: number, time: string }

/** Event kinds kept in the history a new page gets. */
const KEPT = new Set<GuiEvent['kind']>(['peer-down', 'peer-up', 'peer-joined', 'failover', 'moved', 'action'])
const HISTORY = 200
/** Argument names whose values the UI never shows. */
const SECRET_NAME = /pass|secret|token|key|credential|auth/i

export class GuiFeed {
  private readonly listeners = new Set<(e: Stamped) => void>()
  private readonly history: Stamped[] = []
  private readonly owners = new Map<string, string>()
  private readonly unsubscribe: Array<() => void> = []
  private readonly running = new Map<number, Stamped & { kind: 'action' }>()
  /** Other peers' running actions seen in the replica: key → the event that started it. */
  private readonly remote = new Map<string, Stamped & { kind: 'action' }>()
  /** Keys of other peers' runs whose end was told (until their key is deleted). */
  private readonly ended = new Set<string>()
  private seq = 0
  private actionSeq = 0

  constructor (private readonly src: FeedSource) {
    for (const [inst, peer] of this.currentOwners()) this.owners.set(inst, peer)
    this.unsubscribe.push(
      src.onPeerDown((peer, reason) => { this.emit({ kind: 'peer-down', peer, name: this.nameOf(peer), reason }); this.endRemoteOf(peer, `peer ${this.nameOf(peer)} went down`) }),
      src.onPeerUp(peer => this.emit({ kind: 'peer-up', peer, name: this.nameOf(peer) })),
      src.onChange('peer/', c => {
        if (c.previous !== undefined || c.value === undefined) return
        const rec = decodePeer(c.value)
        this.emit({ kind: 'peer-joined', peer: c.key.slice('peer/'.length), name: rec.name, tags: rec.tags })
      }),
      src.onChange('claim/', c => this.onClaim(c)),
      src.onChange('status/', c => this.onStatus(c)),
      src.onChange('want/', c => this.emit({ kind: 'want', instance: c.key.slice('want/'.length), state: decodeWant(c.value)?.state ?? null })),
      src.onChange('tpl/', () => this.emitTemplates()),
      src.onChange(ACTION_PREFIX, c => this.onAction(c.key, c.value)),
    )
    for (const { key, value } of src.scan(ACTION_PREFIX)) {
      // runs this peer left when it stopped or died are over
      if (src.peerId !== undefined && key.endsWith(`/${src.peerId}`)) void src.delete?.(key).catch(() => {})
      else this.onAction(key, value)
    }
  }

  /** Listens to every event from now on; returns the unsubscribe function. */
  subscribe (fn: (e: Stamped) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  /** The kept events, oldest first, and the actions still running. */
  recent (): { events: Stamped[], running: Stamped[] } {
    const alive = new Set(this.src.alive())
    const remote = [...this.remote].filter(([key]) => alive.has(key.slice(key.lastIndexOf('/') + 1))).map(([, e]) => e)
    return { events: [...this.history], running: [...this.running.values(), ...remote] }
  }

  /** Records an action run through the API (by the CLI or a page) until it settles. */
  async trackAction<T> (path: string, action: string, args: Record<string, unknown> | undefined, run: () => Promise<T>): Promise<T> {
    const id = ++this.actionSeq
    const shown = Object.fromEntries(Object.entries(args ?? {}).map(([k, v]) => [k, SECRET_NAME.test(k) ? '••••' : typeof v === 'string' ? v : JSON.stringify(v)]))
    const via = this.src.peerId !== undefined ? this.nameOf(this.src.peerId) : ''
    const start = this.emit({ kind: 'action', id, path, action, args: shown, phase: 'running', ...(via !== '' ? { via } : {}) })
    this.running.set(id, start as Stamped & { kind: 'action' })
    const key = this.src.peerId !== undefined && this.src.put !== undefined ? `${ACTION_PREFIX}${Date.now().toString(36)}-${id}/${this.src.peerId}` : undefined
    const record: ActionRecord = { path, action, args: shown, time: start.time, via }
    const share = (rec: ActionRecord): void => { if (key !== undefined) void this.src.put!(key, JSON.parse(JSON.stringify(rec)) as Value).catch(() => {}) }
    share(record)
    let outcome: Pick<ActionRecord, 'phase' | 'error'> = { phase: 'done' }
    try {
      const out = await run()
      this.emit({ kind: 'action', id, path, action, args: shown, phase: 'done' })
      return out
    } catch (e) {
      outcome = { phase: 'failed', error: (e as Error).message }
      this.emit({ kind: 'action', id, path, action, args: shown, phase: 'failed', error: (e as Error).message })
      throw e
    } finally {
      this.running.delete(id)
      share({ ...record, ...outcome })
      if (key !== undefined) setTimeout(() => { void this.src.delete?.(key).catch(() => {}) }, OUTCOME_MS).unref?.()
    }
  }

  /** Another peer's run, from the replica: started (no phase), ended (a phase), or its key deleted. */
  private onAction (key: string, value: unknown): void {
    const peer = key.slice(key.lastIndexOf('/') + 1)
    if (peer === this.src.peerId) return // this peer's own runs are told by trackAction
    const started = this.remote.get(key)
    const rec = actionRecord(value)
    if (rec !== undefined && rec.phase === undefined) {
      if (started !== undefined) return
      this.remote.set(key, this.emit({ kind: 'action', id: key, path: rec.path, action: rec.action, args: rec.args, phase: 'running', via: rec.via }) as Stamped & { kind: 'action' })
      return
    }
    if (rec === undefined) { this.ended.delete(key); if (started === undefined) return }
    // the outcome may arrive without the start (both written before this peer synced): tell it once
    if (started === undefined && (rec === undefined || this.ended.has(key))) return
    if (rec !== undefined) this.ended.add(key)
    this.remote.delete(key)
    const shown = started ?? { path: rec!.path, action: rec!.action, args: rec!.args, via: rec!.via }
    this.emit({ kind: 'action', id: key, path: shown.path, action: shown.action, args: shown.args, via: shown.via, phase: rec?.phase ?? 'done', ...(rec?.error !== undefined ? { error: rec.error } : {}) })
  }

  /** A peer went down: its runs cannot report, they end as failed here. */
  private endRemoteOf (peer: string, why: string): void {
    for (const [key, e] of this.remote) {
      if (!key.endsWith(`/${peer}`)) continue
      this.remote.delete(key)
      this.emit({ kind: 'action', id: key, path: e.path, action: e.action, args: e.args, via: e.via, phase: 'failed', error: why })
    }
  }

  close (): void {
    for (const u of this.unsubscribe) u()
    this.listeners.clear()
  }

  private templatesSoon: NodeJS.Timeout | undefined
  /** A load writes many tpl/ keys at once: one event for the lot. */
  private emitTemplates (): void {
    this.templatesSoon ??= setTimeout(() => { this.templatesSoon = undefined; this.emit({ kind: 'templates' }) }, 200)
    this.templatesSoon.unref?.()
  }

  private onClaim (c: Change): void {
    if (c.value === undefined || decodeClaim(c.value) === undefined) return
    const rest = c.key.slice('claim/'.length)
    const i = rest.lastIndexOf('/')
    if (i < 0) return
    const instance = rest.slice(0, i)
    const to = rest.slice(i + 1)
    const from = this.owners.get(instance)
    this.owners.set(instance, to)
    if (from === to) return
    if (from === undefined) { this.emit({ kind: 'placed', instance, peer: to, name: this.nameOf(to) }); return }
    const kind = this.src.alive().includes(from) ? 'moved' : 'failover'
    this.emit({ kind, instance, from, fromName: this.nameOf(from), to, toName: this.nameOf(to) })
  }

  private onStatus (c: Change): void {
    const rest = c.key.slice('status/'.length)
    const i = rest.lastIndexOf('/')
    if (i < 0) return
    const now = decodeStatus(c.value)
    const before = decodeStatus(c.previous)
    if (now?.state === before?.state && now?.error === before?.error) return
    const peer = rest.slice(i + 1)
    this.emit({ kind: 'state', instance: rest.slice(0, i), peer, name: this.nameOf(peer), state: now?.state ?? 'gone', error: now?.error ?? null })
  }

  /** Instance → the peer with its newest claim. */
  private currentOwners (): Map<string, string> {
    const best = new Map<string, { peer: string, epoch: number }>()
    for (const { key, value } of this.src.scan('claim/')) {
      const rest = key.slice('claim/'.length)
      const i = rest.lastIndexOf('/')
      const claim = decodeClaim(value)
      if (i < 0 || claim === undefined) continue
      const inst = rest.slice(0, i)
      const prev = best.get(inst)
      if (prev === undefined || claim.epoch > prev.epoch) best.set(inst, { peer: rest.slice(i + 1), epoch: claim.epoch })
    }
    return new Map([...best].map(([k, v]) => [k, v.peer]))
  }

  nameOf (peer: string): string {
    const v = this.src.get(`peer/${peer}`)
    return v === undefined ? peer.slice(0, 12) : decodePeer(v).name
  }

  private emit (e: GuiEvent): Stamped {
    const stamped = { ...e, seq: ++this.seq, time: new Date().toISOString() } as Stamped
    if (KEPT.has(e.kind) || (e.kind === 'state' && e.state === 'failed')) {
      this.history.push(stamped)
      if (this.history.length > HISTORY) this.history.shift()
    }
    for (const l of this.listeners) {
      try { l(stamped) } catch { /* a page that went away: its stream is closed by gui.ts */ }
    }
    return stamped
  }
}

function actionRecord (v: unknown): ActionRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const r = v as Partial<ActionRecord>
  if (typeof r.path !== 'string' || typeof r.action !== 'string' || typeof r.args !== 'object' || r.args === null) return undefined
  const args = Object.fromEntries(Object.entries(r.args).filter(([, a]) => typeof a === 'string')) as Record<string, string>
  return { path: r.path, action: r.action, args, time: typeof r.time === 'string' ? r.time : '', via: typeof r.via === 'string' ? r.via : '', ...(r.phase === 'done' || r.phase === 'failed' ? { phase: r.phase } : {}), ...(typeof r.error === 'string' ? { error: r.error } : {}) }
}
