// The web UI's live feed: cluster events made from the daemon's own state changes (replica
// changes of want/, claim/, status/, peer/ and the mesh's peer up/down), never from polling.
// A browser gets the recent history when it connects, then each event as it happens (gui.ts
// sends them as server-sent events). Events that matter to an operator (a peer down or back, a
// peer joining, a failover, an instance failing, an action run) are kept in the history; the
// others (a status change) only tell open pages to refresh what they show.
import type { Change } from '../../mesh/index.js'
import { decodeClaim, decodePeer, decodeStatus, decodeWant } from '../../actors/state.js'

/** What the feed reads from the mesh (the Mesh class has all of it). */
export interface FeedSource {
  onChange: (prefix: string, fn: (c: Change) => void) => () => void
  onPeerUp: (fn: (peer: string) => void) => () => void
  onPeerDown: (fn: (peer: string, reason: string) => void) => () => void
  alive: () => string[]
  get: (key: string) => unknown
  scan: (prefix: string) => ReadonlyArray<{ key: string, value: unknown }>
}

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
  | { kind: 'action', id: number, path: string, action: string, args: Record<string, string>, phase: 'running' | 'done' | 'failed', error?: string }

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
  private seq = 0
  private actionSeq = 0

  constructor (private readonly src: FeedSource) {
    for (const [inst, peer] of this.currentOwners()) this.owners.set(inst, peer)
    this.unsubscribe.push(
      src.onPeerDown((peer, reason) => this.emit({ kind: 'peer-down', peer, name: this.nameOf(peer), reason })),
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
    )
  }

  /** Listens to every event from now on; returns the unsubscribe function. */
  subscribe (fn: (e: Stamped) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  /** The kept events, oldest first, and the actions still running. */
  recent (): { events: Stamped[], running: Stamped[] } {
    return { events: [...this.history], running: [...this.running.values()] }
  }

  /** Records an action run through the API (by the CLI or a page) until it settles. */
  async trackAction<T> (path: string, action: string, args: Record<string, unknown> | undefined, run: () => Promise<T>): Promise<T> {
    const id = ++this.actionSeq
    const shown = Object.fromEntries(Object.entries(args ?? {}).map(([k, v]) => [k, SECRET_NAME.test(k) ? '••••' : typeof v === 'string' ? v : JSON.stringify(v)]))
    const start = this.emit({ kind: 'action', id, path, action, args: shown, phase: 'running' })
    this.running.set(id, start as Stamped & { kind: 'action' })
    try {
      const out = await run()
      this.emit({ kind: 'action', id, path, action, args: shown, phase: 'done' })
      return out
    } catch (e) {
      this.emit({ kind: 'action', id, path, action, args: shown, phase: 'failed', error: (e as Error).message })
      throw e
    } finally {
      this.running.delete(id)
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

  private nameOf (peer: string): string {
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
