// An entity type read from its loaded template (`defines: entity`): lifecycle entries, checks,
// requires, schema. Pure: no I/O. Also what an instance hands its lifecycle as `definition`.
import { createHash } from 'node:crypto'
import type { MapValue, Value } from '../../grammar/monkscript/types.js'
import { EntityError } from './errors.js'

/** One lifecycle entry: JavaScript, "route to sync" (''), or a webhook. */
export type LifecycleEntry =
  | { kind: 'script', source: string }
  | { kind: 'sync' }
  | { kind: 'webhook', url: string }

export interface CheckSpec {
  /** Seconds between attempts. */
  periodS: number
  /** Seconds before the first attempt. */
  initialDelayS: number
  /** Readiness: attempts before the instance is failed (0 = no limit). */
  attempts: number
  /** Own code of the check; null = call `sync` with ctx.action check-readiness / check-liveness. */
  code: string | null
}

export interface EntityType {
  path: string
  metadata: MapValue
  lifecycle: Readonly<Record<string, LifecycleEntry>>
  readiness: CheckSpec | null
  liveness: CheckSpec | null
  requires: string[]
  /** Property name → its schema ({type, default, ...}). */
  properties: Readonly<Record<string, MapValue>>
  required: string[]
}

/** Actions monk itself calls; a type without an entry (and no sync) treats them as no-ops. */
export const STANDARD_ACTIONS = ['create', 'start', 'stop', 'update', 'purge', 'check-readiness', 'check-liveness'] as const

/** Keys of an instance that are monk's, not the schema's: they never reach the definition. */
const INSTANCE_META = new Set(['defines', 'inherits', 'permitted-secrets', 'connections', 'depends', 'services', 'files', 'metadata', 'checks', 'variables', 'description', 'affinity', 'entity', 'tags'])
/** Words that are schema keywords, not property names, when written directly under `schema`. */
const SCHEMA_WORDS = new Set(['type', 'enum', 'items', 'properties', '$ref', 'required', 'additionalProperties', 'description'])

const isMap = (v: Value | undefined): v is MapValue => v !== null && typeof v === 'object' && !Array.isArray(v)
const num = (v: Value | undefined, d: number): number => typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : d

function check (v: Value | undefined, which: 'readiness' | 'liveness'): CheckSpec | null {
  if (!isMap(v)) return null
  const code = typeof v.code === 'string' && v.code.trim() !== '' ? v.code : null
  return { periodS: num(v.period, which === 'readiness' ? 10 : 60), initialDelayS: num(v.initialDelay, 0), attempts: num(v.attempts, which === 'readiness' ? 30 : 0), code }
}

/** Reads an entity type; a lifecycle entry of an unknown shape is an error naming it. */
export function entityType (path: string, value: MapValue, instanceChecks?: Value): EntityType {
  const lifecycle: Record<string, LifecycleEntry> = {}
  const lc = value.lifecycle
  if (lc !== undefined && !isMap(lc)) throw new EntityError('entity-bad-definition', `${path}: lifecycle must be a map of action → JavaScript, '' or {url}`)
  for (const [k, v] of Object.entries(isMap(lc) ? lc : {})) {
    if (typeof v === 'string') lifecycle[k] = v.trim() === '' ? { kind: 'sync' } : { kind: 'script', source: v }
    else if (isMap(v) && typeof v.url === 'string') lifecycle[k] = { kind: 'webhook', url: v.url }
    else if (v === null) lifecycle[k] = { kind: 'sync' }
    else throw new EntityError('entity-bad-definition', `${path}: lifecycle.${k} must be JavaScript, '' (route to sync) or {url: ...}`)
  }
  // an instance may set its own check timing (`checks.readiness.period` in examples) over the type's
  const part = (which: 'readiness' | 'liveness'): Value | undefined => {
    const a = isMap(value.checks) ? value.checks[which] : undefined
    const b = isMap(instanceChecks) ? instanceChecks[which] : undefined
    return isMap(a) && isMap(b) ? { ...a, ...b } : b ?? a
  }
  const schema = isMap(value.schema) ? value.schema : {}
  const properties: Record<string, MapValue> = {}
  for (const [k, v] of Object.entries(schema)) if (!SCHEMA_WORDS.has(k) && isMap(v)) properties[k] = v
  // `properties:` written the JSON-schema way
  if (isMap(schema.properties)) for (const [k, v] of Object.entries(schema.properties)) if (isMap(v)) properties[k] = v
  const required = Array.isArray(schema.required) ? schema.required.filter((x): x is string => typeof x === 'string') : []
  return {
    path,
    metadata: isMap(value.metadata) ? value.metadata : {},
    lifecycle,
    readiness: check(part('readiness'), 'readiness'),
    liveness: check(part('liveness'), 'liveness'),
    requires: Array.isArray(value.requires) ? value.requires.filter((x): x is string => typeof x === 'string') : [],
    properties,
    required,
  }
}

/** How an action runs: its entry, `sync` for '' or a missing entry, or null (nothing to run). */
export function entryFor (t: EntityType, action: string): LifecycleEntry | null {
  if (action === 'check-readiness' && t.readiness?.code != null) return { kind: 'script', source: t.readiness.code }
  if (action === 'check-liveness' && t.liveness?.code != null) return { kind: 'script', source: t.liveness.code }
  const e = t.lifecycle[action]
  if (e && e.kind !== 'sync') return e
  const sync = t.lifecycle.sync
  if (sync && sync.kind !== 'sync') return sync
  if (e) throw new EntityError('entity-no-action', `${t.path}: lifecycle.${action} routes to sync, but the type has no sync`)
  return null
}

/** Custom actions of a type (what `monk actions` lists). */
export function customActions (t: EntityType): string[] {
  return Object.keys(t.lifecycle).filter(a => a !== 'sync' && !(STANDARD_ACTIONS as readonly string[]).includes(a)).sort()
}

/**
 * The definition the lifecycle sees before Arrow: the instance's own fields (monk's keys removed)
 * over the schema's defaults. Arrow values (`<-`) are still source; resolve.ts evaluates them.
 */
export function definitionOf (t: EntityType, instance: MapValue): MapValue {
  const out: MapValue = {}
  for (const [k, p] of Object.entries(t.properties)) if (p.default !== undefined) out[k] = p.default
  for (const [k, v] of Object.entries(instance)) if (!INSTANCE_META.has(k)) out[k] = v
  return out
}

/** The schema's required fields the definition lacks. */
export function missingRequired (t: EntityType, def: MapValue): string[] {
  return t.required.filter(k => def[k] === undefined || def[k] === null)
}

/** Canonical JSON: keys sorted at every depth. */
export function canonical (v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).sort().map(k => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
  return JSON.stringify(v ?? null)
}

/** sha256 of the definition plus the type's version, to skip an update that changes nothing. */
export function definitionHash (t: EntityType, def: MapValue): string {
  return createHash('sha256').update(canonical({ definition: def, version: t.metadata.version ?? null, 'version-hash': t.metadata['version-hash'] ?? null })).digest('hex')
}
