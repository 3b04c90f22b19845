// The replicated records the control plane reads and writes (DESIGN §3): keys, typed decoders and
// typed writers. Every value read from the replica came from some peer: it is decoded defensively,
// never trusted; every value written goes through an encoder here (no casts at the call sites).
import type { MapValue } from '../grammar/monkscript/index.js'
import { runnableSpec, type RunnableSpec } from '../grammar/monkscript/runnable-spec.js'
import type { Value } from '../mesh/value.js'
import { isObj } from './values.js'
import { parseInstanceKey, replicaKeys } from './placement.js'

export const keys = {
  tpl: (path: string) => `tpl/${path}`,
  want: (instance: string) => `want/${instance}`,
  claim: (instance: string, peer: string) => `claim/${instance}/${peer}`,
  claimPrefix: (instance: string) => `claim/${instance}/`,
  status: (instance: string, peer: string) => `status/${instance}/${peer}`,
  statusPrefix: (instance: string) => `status/${instance}/`,
  secret: (scope: string, name: string) => `secret/${scope}/${name}`,
  peer: (id: string) => `peer/${id}`,
} as const

/** A loaded template: its class, value with inheritance applied, and group structure. */
export interface TplRecord {
  path: string
  kind: string
  value: MapValue
  /** Member paths (groups and process-groups), in order. */
  members: string[]
  /** Enclosing groups, innermost first. */
  groups: string[]
  /** Paths this template inherits from, nearest first. */
  chain: string[]
  /** Set when a later load broke this template (its parent or a member went away): it keeps this record until loaded again. */
  problem?: string
  file: string
  loadedAt: number
  /** A hub template a workload runs: its source and the commit it was taken at (absent: loaded locally). */
  repo?: string
  commit?: string
}

/** What should run: written by `monk run/stop/purge` on any peer (LWW). */
export interface WantRecord {
  /** Template path this instance runs. */
  template: string
  state: 'run' | 'stop'
  /** The path the user ran (the group, for members). */
  root: string
  set: Record<string, string>
  tags: string[]
  peer: string | null
  /** --force-move marker (see placement.DesiredInstance.forceMove); 0 = none. */
  forceMove: number
  /** Bumped by `monk restart` / `monk update` so the owner starts the instance again. */
  generation: number
  /** Bumped by `monk restart` only: every container is replaced; `update` replaces only those whose spec changed. */
  restarts?: number
  updatedAt: number
  /** Replicas set by `monk scale` (wins over the template's `scale.value`); absent: the template's. */
  scale?: number
}

export interface ClaimRecord { epoch: number, startedAt: number }

export type InstanceState = 'starting' | 'running' | 'stopped' | 'failed'

export interface StatusRecord {
  state: InstanceState
  containers: Array<{ name: string, image: string, status: string, id: string }>
  /** Resolved service endpoints (for connections): name → host, port. */
  services: Record<string, { host: string, port: number, protocol?: 'tcp' | 'udp', published?: boolean }>
  /** Volumes on the owner (declared ones and `paths` binds): directory, where mounted, declared size. */
  volumes?: Array<{ name: string, host: string, mounts: string[], size: number | null, kind: string }>
  /** Recent events on the owner (liveness restarts), oldest first. */
  events?: Array<{ at: number, message: string }>
  ready: boolean
  error: string | null
  /** What a starting instance waits for (`depends ns/db`, `image busybox:1`, `readiness`), if known. */
  waiting?: string | null
  generation: number
  updatedAt: number
}

const str = (v: unknown, d = ''): string => typeof v === 'string' ? v : d
const num = (v: unknown, d = 0): number => typeof v === 'number' && Number.isFinite(v) ? v : d
const strs = (v: unknown): string[] => Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []

export function decodeTpl (v: unknown): TplRecord | undefined {
  if (!isObj(v) || typeof v.path !== 'string' || !isObj(v.value)) return undefined
  const t: TplRecord = { path: v.path, kind: str(v.kind, 'abstract'), value: v.value as MapValue, members: strs(v.members), groups: strs(v.groups), chain: strs(v.chain), file: str(v.file), loadedAt: num(v.loadedAt) }
  if (typeof v.problem === 'string') t.problem = v.problem
  if (typeof v.repo === 'string') t.repo = v.repo
  if (typeof v.commit === 'string') t.commit = v.commit
  return t
}

const specs = new WeakMap<MapValue, RunnableSpec>()

/**
 * A template's typed runnable spec (grammar/ reads the YAML once; actors never walk it). Its
 * problems are the runnable actor's to report; readers here only need the typed parts. Cached per
 * replica value: a record's value object is replaced, never changed, when the template changes.
 */
export function specOf (tpl: TplRecord): RunnableSpec {
  const hit = specs.get(tpl.value)
  if (hit !== undefined && hit.path === tpl.path) return hit
  const { spec } = runnableSpec(tpl.path, tpl.value)
  specs.set(tpl.value, spec)
  return spec
}

export function decodeWant (v: unknown): WantRecord | undefined {
  if (!isObj(v) || typeof v.template !== 'string') return undefined
  const set: Record<string, string> = {}
  if (isObj(v.set)) for (const [k, x] of Object.entries(v.set)) if (typeof x === 'string') set[k] = x
  return {
    template: v.template, state: v.state === 'stop' ? 'stop' : 'run', root: str(v.root, v.template), set, tags: strs(v.tags),
    peer: typeof v.peer === 'string' ? v.peer : null, forceMove: num(v.forceMove), generation: num(v.generation), restarts: num(v.restarts), updatedAt: num(v.updatedAt),
    ...(typeof v.scale === 'number' && Number.isInteger(v.scale) && v.scale >= 0 ? { scale: v.scale } : {}),
  }
}

/** The want of an instance key: its own, or for a replica `ns/app#k` the want of `ns/app`. */
export function wantAt (get: (key: string) => unknown, instance: string): WantRecord | undefined {
  const own = decodeWant(get(keys.want(instance)))
  if (own !== undefined) return own
  const { base, replica } = parseInstanceKey(instance)
  return replica === null ? undefined : decodeWant(get(keys.want(base)))
}

/** Replicas of a want: its `monk scale` count, else its template's `scale.value`, else null (not scaled). */
export function scaleOf (w: WantRecord, tpl: TplRecord | undefined): number | null {
  return w.scale ?? (tpl ? specOf(tpl).scale : null)
}

/** The instance keys a want stands for: itself, or `inst#0` … `inst#(n-1)` when scaled. */
export function instanceKeys (inst: string, w: WantRecord, tpl: TplRecord | undefined): string[] {
  const n = scaleOf(w, tpl)
  return n === null ? [inst] : replicaKeys(inst, n)
}

/** Status records of a target and of its replicas (`status/t/…` and `status/t#k/…`). */
export function statusesOf (scan: (prefix: string) => ReadonlyArray<{ key: string, value: unknown }>, target: string): Array<{ key: string, value: unknown }> {
  return [...scan(keys.statusPrefix(target)), ...scan(`status/${target}#`).filter(e => /^#\d+\//.test(e.key.slice(`status/${target}`.length)))]
}

export function decodeClaim (v: unknown): ClaimRecord | undefined {
  if (!isObj(v) || typeof v.epoch !== 'number') return undefined
  return { epoch: v.epoch, startedAt: num(v.startedAt) }
}

export function decodeStatus (v: unknown): StatusRecord | undefined {
  if (!isObj(v)) return undefined
  const state = v.state === 'running' || v.state === 'stopped' || v.state === 'failed' ? v.state : 'starting'
  const containers = Array.isArray(v.containers)
    ? v.containers.filter(isObj).map(c => ({ name: str(c.name), image: str(c.image), status: str(c.status), id: str(c.id) }))
    : []
  const services: StatusRecord['services'] = {}
  if (isObj(v.services)) {
    for (const [k, s] of Object.entries(v.services)) {
      if (isObj(s)) services[k] = { host: str(s.host), port: num(s.port), ...(s.protocol === 'tcp' || s.protocol === 'udp' ? { protocol: s.protocol } : {}), ...(s.published === true ? { published: true } : {}) }
    }
  }
  const volumes = Array.isArray(v.volumes)
    ? v.volumes.filter(isObj).map(x => ({ name: str(x.name), host: str(x.host), mounts: strs(x.mounts), size: typeof x.size === 'number' ? x.size : null, kind: str(x.kind, 'local') }))
    : []
  const events = Array.isArray(v.events) ? v.events.filter(isObj).map(x => ({ at: num(x.at), message: str(x.message) })) : []
  return { state, containers, services, volumes, events, ready: v.ready === true, error: typeof v.error === 'string' ? v.error : null, waiting: typeof v.waiting === 'string' ? v.waiting : null, generation: num(v.generation), updatedAt: num(v.updatedAt) }
}

/** The peer fields monkd publishes in `peer/<id>` beside the mesh's own (addrs, name, tags). */
export interface PeerRecord { name: string, tags: string[], addrs: string[], runtime: string, startedAt: number, leftAt: number | null, capacity?: Record<string, number> }

export function decodePeer (v: unknown): PeerRecord {
  if (!isObj(v)) return { name: '', tags: [], addrs: [], runtime: '', startedAt: 0, leftAt: null }
  const capacity: Record<string, number> = {}
  if (isObj(v.capacity)) for (const [k, x] of Object.entries(v.capacity)) if (typeof x === 'number' && Number.isFinite(x) && x >= 0) capacity[k] = x
  return { name: str(v.name), tags: strs(v.tags), addrs: strs(v.addrs), runtime: str(v.runtime), startedAt: num(v.startedAt), leftAt: typeof v.leftAt === 'number' ? v.leftAt : null, ...(isObj(v.capacity) ? { capacity } : {}) }
}

// ---- readers over many entries ----

type Entries = ReadonlyArray<{ key: string, value: Value }>

/** `want/<inst>` entries → instance → want (undecodable entries are skipped). */
export function readWants (entries: Entries): Map<string, WantRecord> {
  const out = new Map<string, WantRecord>()
  for (const { key, value } of entries) {
    const w = decodeWant(value)
    if (w) out.set(key.slice('want/'.length), w)
  }
  return out
}

/** `claim/<inst>/<peer>` entries → instance → claims. */
export function readClaims (entries: Entries): Map<string, Array<ClaimRecord & { peerId: string }>> {
  const out = new Map<string, Array<ClaimRecord & { peerId: string }>>()
  for (const { key, value } of entries) {
    const rest = key.slice('claim/'.length)
    const i = rest.lastIndexOf('/')
    const c = decodeClaim(value)
    if (i < 0 || !c) continue
    const inst = rest.slice(0, i)
    const list = out.get(inst) ?? []
    list.push({ peerId: rest.slice(i + 1), epoch: c.epoch, startedAt: c.startedAt })
    out.set(inst, list)
  }
  return out
}

// ---- writers: each record as the replica stores it ----

export function encodeTpl (t: TplRecord): MapValue {
  const out: MapValue = { path: t.path, kind: t.kind, value: t.value, members: [...t.members], groups: [...t.groups], chain: [...t.chain], file: t.file, loadedAt: t.loadedAt }
  if (t.problem !== undefined) out.problem = t.problem
  if (t.repo !== undefined) out.repo = t.repo
  if (t.commit !== undefined) out.commit = t.commit
  return out
}

export function encodeWant (w: WantRecord): MapValue {
  return { template: w.template, state: w.state, root: w.root, set: { ...w.set }, tags: [...w.tags], peer: w.peer, forceMove: w.forceMove, generation: w.generation, restarts: w.restarts ?? 0, updatedAt: w.updatedAt, ...(w.scale !== undefined ? { scale: w.scale } : {}) }
}

export function encodeClaim (c: ClaimRecord): MapValue {
  return { epoch: c.epoch, startedAt: c.startedAt }
}

export function encodeStatus (s: StatusRecord): MapValue {
  const services: MapValue = {}
  for (const [k, e] of Object.entries(s.services)) services[k] = { host: e.host, port: e.port, ...(e.protocol ? { protocol: e.protocol } : {}), ...(e.published ? { published: true } : {}) }
  return {
    state: s.state, containers: s.containers.map(c => ({ name: c.name, image: c.image, status: c.status, id: c.id })), services,
    ...(s.volumes && s.volumes.length ? { volumes: s.volumes.map(v => ({ name: v.name, host: v.host, mounts: [...v.mounts], size: v.size, kind: v.kind })) } : {}),
    ...(s.events && s.events.length ? { events: s.events.map(e => ({ at: e.at, message: e.message })) } : {}),
    ready: s.ready, error: s.error, waiting: s.waiting ?? null, generation: s.generation, updatedAt: s.updatedAt,
  }
}

/**
 * Any record as a replica value, checked on the way (no cast): plain objects, arrays, strings,
 * finite numbers, booleans, null and bytes; undefined fields are left out; anything else throws.
 */
export function toValue (v: unknown): Value {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || v instanceof Uint8Array) return v
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (Array.isArray(v)) return v.map(toValue)
  if (isObj(v)) {
    const out: { [key: string]: Value } = {}
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toValue(x)
    return out
  }
  throw new TypeError(`not a replica value: ${typeof v}`)
}
