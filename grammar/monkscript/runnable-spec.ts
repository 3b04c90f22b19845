// The typed runnable spec (spec §2.7): what the runnable actor needs from a resolved template,
// read once here so the actors never walk raw YAML maps. Values that may be Arrow (`<- ...`) stay
// as written (`Value`) and are evaluated by the daemon at start; everything else is typed.
// Pure: no I/O. A field of the wrong shape is reported as a problem naming its path, never dropped
// silently (the spec keeps a default for it).
import type { MapValue, Value } from './types.js'
import type { VarType } from './variables.js'

export const HOOK_EVENTS = ['container-starting', 'container-started', 'container-stopping', 'container-stopped'] as const
export type HookEvent = typeof HOOK_EVENTS[number]

export interface ContainerDecl {
  name: string
  /** The container's fields as written (Arrow values not yet evaluated), without `hooks`. */
  fields: MapValue
  /** Hook event → action name (spec §2.7.10). */
  hooks: Partial<Record<HookEvent, string>>
  /** `restart` as written (`no`, `always`, `on-failure`, `unless-stopped`), or null (default: always). */
  restart: string | null
}

export interface ReadinessDecl {
  /** Arrow code (or a `<-` script that builds the code). */
  code: string
  periodMs: number
  initialDelayMs: number
  attempts: number
}

export interface ArgumentDecl { type: VarType, default: Value | undefined, description: string | null }

export interface ActionDecl { name: string, code: string, description: string, arguments: Record<string, ArgumentDecl> }

export interface FileDecl { id: string, container: string, path: string, contents: Value, mode: number, raw: boolean }

/** `services.<name>` (spec §2.7.3): port, host-port, protocol and publish may be Arrow, evaluated at start. */
export interface ServiceDecl { name: string, container: string | null, port: Value, hostPort: Value | null, protocol: Value, publish: Value, address?: Value }

/**
 * `volumes.<name>` (spec §2.7.9): fields may be Arrow, evaluated at start. `kind` local (or absent)
 * is a directory on the peer; other kinds (cloud disks) and `backup` are reported, not provisioned.
 */
export interface VolumeDecl { name: string, kind: Value, size: Value, path: Value, cloudName: Value, backup: boolean }

/** `checks.liveness` (spec §2.7.6): Arrow code; `attempts` failures in a row restart the containers. */
export interface LivenessDecl { code: string, periodMs: number, initialDelayMs: number, attempts: number }

export interface ConnectionDecl { name: string, target: string, service: string }

/** `affinity` (spec §2.7.11): a peer tag or name to run on, exclusive use, and whether busy peers are fine. */
export interface AffinityDecl { tag?: string, name?: string, resident: boolean, ignorePressure: boolean }

export interface RunnableSpec {
  path: string
  affinity: AffinityDecl | null
  containers: ContainerDecl[]
  depends: { runnables: string[], timeoutMs: number }
  readiness: ReadinessDecl | null
  liveness: LivenessDecl | null
  volumes: VolumeDecl[]
  actions: Record<string, ActionDecl>
  files: FileDecl[]
  services: ServiceDecl[]
  connections: Record<string, ConnectionDecl>
  /** Secret names the runnable's scripts may read. */
  permittedSecrets: string[]
  /** Resource requests of all containers together (`containers.*.resources.requests`): cpu in cores, memory in bytes, others as counts. */
  requests: Record<string, number>
  /** `scale.value` as a whole number of replicas when it is a literal (or a plain number script), else null. */
  scale: number | null
}

export interface SpecProblem { field: string, message: string }

export const DEFAULT_WAIT_TIMEOUT_S = 120
export const DEFAULT_CHECK_ATTEMPTS = 10
export const DEFAULT_CHECK_PERIOD_S = 5
export const DEFAULT_LIVENESS_ATTEMPTS = 3
const VAR_TYPES: ReadonlySet<string> = new Set(['string', 'int', 'float', 'bool', 'bigint'])

const asMap = (v: Value | undefined): MapValue | undefined => typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined
const strip = (p: string): string => p.replace(/^\/+/, '')

/** Reads the parts of a node a runnable, group or service needs (actions, depends, ...). */
export function runnableSpec (path: string, value: MapValue): { spec: RunnableSpec, problems: SpecProblem[] } {
  const problems: SpecProblem[] = []
  const bad = (field: string, message: string): void => { problems.push({ field, message }) }
  const num = (v: Value | undefined, field: string, d: number): number => {
    if (v === undefined || v === null) return d
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) && Number(v) >= 0) return Number(v)
    bad(field, `${field} must be a number of seconds ≥ 0, got ${JSON.stringify(v)}`)
    return d
  }

  const containers: ContainerDecl[] = []
  for (const [name, raw] of Object.entries(asMap(value.containers) ?? {})) {
    const fields: MapValue = { ...(asMap(raw) ?? {}) }
    const hooks: Partial<Record<HookEvent, string>> = {}
    for (const [event, action] of Object.entries(asMap(fields.hooks) ?? {})) {
      if ((HOOK_EVENTS as readonly string[]).includes(event) && typeof action === 'string') hooks[event as HookEvent] = action
      else bad(`containers.${name}.hooks.${event}`, `hook ${event} is not one of ${HOOK_EVENTS.join(', ')} with an action name`)
    }
    delete fields.hooks
    containers.push({ name, fields, hooks, restart: typeof fields.restart === 'string' ? fields.restart : null })
  }

  const wf = asMap(asMap(value.depends)?.['wait-for'])
  const runnables = Array.isArray(wf?.runnables) ? wf.runnables.filter((x): x is string => typeof x === 'string').map(strip) : []
  const depends = { runnables, timeoutMs: num(wf?.timeout, 'depends.wait-for.timeout', DEFAULT_WAIT_TIMEOUT_S) * 1000 }

  const checks = asMap(value.checks)
  const r = asMap(checks?.readiness ?? checks?.readyness)
  const readiness: ReadinessDecl | null = r && typeof r.code === 'string'
    ? {
        code: r.code,
        periodMs: num(r.period, 'checks.readiness.period', DEFAULT_CHECK_PERIOD_S) * 1000,
        initialDelayMs: num(r.initialDelay, 'checks.readiness.initialDelay', 0) * 1000,
        attempts: Math.max(1, Math.floor(num(r.attempts, 'checks.readiness.attempts', DEFAULT_CHECK_ATTEMPTS))),
      }
    : null

  const l = asMap(checks?.liveness)
  if (checks?.liveness !== undefined && l === undefined) bad('checks.liveness', 'checks.liveness must be a mapping of code, period, initialDelay, attempts')
  const liveness: LivenessDecl | null = l && typeof l.code === 'string'
    ? {
        code: l.code,
        periodMs: num(l.period, 'checks.liveness.period', DEFAULT_CHECK_PERIOD_S) * 1000,
        initialDelayMs: num(l.initialDelay, 'checks.liveness.initialDelay', 0) * 1000,
        attempts: Math.max(1, Math.floor(num(l.attempts, 'checks.liveness.attempts', DEFAULT_LIVENESS_ATTEMPTS))),
      }
    : null
  if (l && liveness === null && containers.length > 0) bad('checks.liveness.code', 'checks.liveness has no code: a runnable\'s liveness check needs Arrow code (a code-less liveness is only for entities)')

  const volumes: VolumeDecl[] = []
  for (const [name, raw] of Object.entries(asMap(value.volumes) ?? {})) {
    if (name === 'defines') continue
    const v = asMap(raw)
    if (!v) { bad(`volumes.${name}`, `volumes.${name} must be a mapping of kind, size, name, path, backup`); continue }
    volumes.push({ name, kind: v.kind ?? null, size: v.size ?? null, path: v.path ?? null, cloudName: v.name ?? null, backup: v.backup !== undefined && v.backup !== null })
  }
  if (value.volumes !== undefined && value.volumes !== null && asMap(value.volumes) === undefined) bad('volumes', 'volumes must be a mapping volume-name → {kind, size, name, path, backup}')

  const actions: Record<string, ActionDecl> = {}
  for (const [name, raw] of Object.entries(asMap(value.actions) ?? {})) {
    const a = asMap(raw)
    if (!a || typeof a.code !== 'string') { bad(`actions.${name}.code`, `action ${name} has no code`); continue }
    const args: Record<string, ArgumentDecl> = {}
    for (const [arg, specRaw] of Object.entries(asMap(a.arguments) ?? {})) {
      const s = asMap(specRaw) ?? {}
      let type: VarType = 'string'
      if (typeof s.type === 'string' && VAR_TYPES.has(s.type)) type = s.type as VarType
      else if (s.type !== undefined) bad(`actions.${name}.arguments.${arg}.type`, `unknown argument type ${JSON.stringify(s.type)} (expected string, int, float, bool or bigint)`)
      args[arg] = { type, default: s.default ?? undefined, description: typeof s.description === 'string' ? s.description : null }
    }
    actions[name] = { name, code: a.code, description: typeof a.description === 'string' ? a.description : '', arguments: args }
  }

  const first = containers[0]?.name ?? ''
  const files: FileDecl[] = []
  for (const [id, raw] of Object.entries(asMap(value.files) ?? {})) {
    const f = asMap(raw)
    if (!f) { bad(`files.${id}`, `files.${id} must be a mapping`); continue }
    if (typeof f.path !== 'string' || !f.path.startsWith('/')) { bad(`files.${id}.path`, `files.${id}.path must be an absolute path`); continue }
    const modeRaw = f.mode ?? f.chmod
    const mode = modeRaw === undefined || modeRaw === null ? 0o600 : parseInt(String(modeRaw), 8)
    if (!Number.isFinite(mode)) bad(`files.${id}.mode`, `files.${id}.mode must be octal permissions, got ${JSON.stringify(modeRaw)}`)
    files.push({ id, container: typeof f.container === 'string' ? f.container : first, path: f.path, contents: f.contents ?? '', mode: Number.isFinite(mode) ? mode : 0o600, raw: f.raw === true })
  }

  const services: ServiceDecl[] = []
  for (const [name, raw] of Object.entries(asMap(value.services) ?? {})) {
    const s = asMap(raw)
    if (!s) continue
    services.push({ name, container: typeof s.container === 'string' ? s.container : null, port: s.port ?? null, hostPort: s['host-port'] ?? null, protocol: s.protocol ?? null, publish: s.publish ?? null, ...(s.address !== undefined && s.address !== null ? { address: s.address } : {}) })
  }

  const connections: Record<string, ConnectionDecl> = {}
  for (const [name, raw] of Object.entries(asMap(value.connections) ?? {})) {
    const c = asMap(raw)
    const target = c && (typeof c.runnable === 'string' ? c.runnable : typeof c.target === 'string' ? c.target : undefined)
    if (!c || target === undefined) continue
    connections[name] = { name, target: strip(target), service: typeof c.service === 'string' ? c.service : '' }
  }

  const aff = asMap(value.affinity)
  if (value.affinity !== undefined && value.affinity !== null && aff === undefined) bad('affinity', 'affinity must be a mapping of tag, name, resident, ignore-pressure')
  const affinity: AffinityDecl | null = aff
    ? { ...(typeof aff.tag === 'string' ? { tag: aff.tag } : {}), ...(typeof aff.name === 'string' ? { name: aff.name } : {}), resident: aff.resident === true, ignorePressure: aff['ignore-pressure'] === true }
    : null

  const requests: Record<string, number> = {}
  for (const c of containers) {
    const res = c.fields.resources
    if (res === undefined || res === null) continue
    const rm = asMap(res)
    if (!rm) { bad(`containers.${c.name}.resources`, `containers.${c.name}.resources must be a mapping with requests`); continue }
    for (const [k, raw] of Object.entries(asMap(rm.requests) ?? {})) {
      const field = `containers.${c.name}.resources.requests.${k}`
      const n = quantity(k, raw)
      if (n === null) { bad(field, `${field} must be an amount (cpu: 2 or 500m, memory: 512Mi, 2G or bytes, others: a count), got ${JSON.stringify(raw)}`); continue }
      requests[k] = (requests[k] ?? 0) + n
    }
  }

  let scale: number | null = null
  if (value.scale !== undefined && value.scale !== null) {
    const sm = asMap(value.scale)
    const raw = sm ? sm.value : value.scale
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+(\.0+)?\s*$/.test(raw) ? Number(raw) : NaN
    if (Number.isInteger(n) && n >= 0) scale = n
    else bad('scale.value', `scale.value must be a whole number of replicas; ${JSON.stringify(raw)} is not one (metric-driven scaling is not supported: set the count with monk scale PATH N)`)
    for (const k of Object.keys(sm ?? {})) if (k !== 'value' && k !== 'defines') bad(`scale.${k}`, `scale.${k} is not acted on: replicas are set by scale.value or monk scale PATH N`)
  }

  const permitted = asMap(value['permitted-secrets'])
  const permittedSecrets = permitted ? Object.entries(permitted).filter(([, v]) => v !== false).map(([k]) => k) : []

  return { spec: { path, affinity, containers, depends, readiness, liveness, volumes, actions, files, services, connections, permittedSecrets, requests, scale }, problems }
}

const MEMORY_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3, ti: 1024 ** 4 }

/** A resource amount: `cpu` in cores (`2`, `0.5`, `500m`), `memory` in bytes (`512Mi`, `2G`, `1073741824`), others as counts. */
export function quantity (name: string, raw: Value | undefined): number | null {
  if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? raw : null
  if (typeof raw !== 'string') return null
  const t = raw.trim()
  if (name === 'cpu') {
    const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(t)
    return m ? Number(m[1]) / (m[2] === 'm' ? 1000 : 1) : null
  }
  if (name === 'memory') {
    const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(t)
    const unit = m ? MEMORY_UNITS[(m[2] ?? '').toLowerCase()] : undefined
    return m && unit !== undefined ? Math.round(Number(m[1]) * unit) : null
  }
  return /^\d+(\.\d+)?$/.test(t) ? Number(t) : null
}
