// Arrow values of an entity instance (`field: <- entity-state("ns/x") get-member("id")`) resolved
// before the lifecycle sees the definition, with the host the caller gives (the daemon's replica,
// or stubs in the corpus check). An error names the field.
import { evaluate, toPlain, type ArrowHost, type VarLookup } from '../../grammar/arrow/index.js'
import { buildScope, ScopeVars } from '../../grammar/monkscript/variables.js'
import type { MapValue, Value } from '../../grammar/monkscript/types.js'
import { EntityError } from './errors.js'
import { definitionOf, type EntityType } from './type.js'

const isArrow = (v: string): boolean => v.trimStart().startsWith('<-')

/** A copy of `value` with every `<-` string evaluated; `skip` names top-level keys left as they are. */
export async function resolveArrows (path: string, value: MapValue, host: ArrowHost, skip: ReadonlySet<string> = new Set(), vars?: VarLookup): Promise<MapValue> {
  const walk = async (v: Value, at: string): Promise<Value> => {
    if (typeof v === 'string' && isArrow(v)) {
      try {
        return toPlain(await evaluate(v, 'value', { host, ...(vars ? { vars } : {}) })) as Value
      } catch (err) {
        throw new EntityError('entity-bad-definition', `${path}: ${at}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
      }
    }
    if (Array.isArray(v)) return await Promise.all(v.map((x, i) => walk(x, `${at}/${i}`)))
    if (v !== null && typeof v === 'object') {
      const out: MapValue = {}
      for (const [k, x] of Object.entries(v)) out[k] = await walk(x, at === '' ? k : `${at}/${k}`)
      return out
    }
    return v
  }
  const out: MapValue = {}
  for (const [k, v] of Object.entries(value)) out[k] = skip.has(k) ? v : await walk(v, k)
  return out
}

/**
 * The definition an instance hands its lifecycle: its fields over its type's defaults (Arrow
 * defaults included), `variables` named like schema properties filling absent fields, every `<-`
 * value evaluated with the instance's variables in scope (`<- $region`).
 */
export async function resolveDefinition (t: EntityType, path: string, value: MapValue, host: ArrowHost, set: Readonly<Record<string, string>> = {}): Promise<MapValue> {
  const vars = new ScopeVars(buildScope(value, [], set), { host })
  const raw = definitionOf(t, value)
  for (const k of Object.keys(t.properties)) {
    if (raw[k] !== undefined || vars.scope.get(k) === undefined) continue
    try {
      const v = await vars.get(k)
      if (v !== undefined && v !== null) raw[k] = toPlain(v) as Value
    } catch (err) {
      throw new EntityError('entity-bad-definition', `${path}: variables/${k}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
  }
  // an Arrow default that cannot apply here (it reads a connection this instance does not have)
  // is no default: the field stays absent, and the required check names it if the type needs it
  const own = new Set(Object.keys(value))
  for (const [k, p] of Object.entries(t.properties)) {
    if (own.has(k) || typeof p.default !== 'string' || !p.default.trimStart().startsWith('<-') || raw[k] !== p.default) continue
    try { raw[k] = toPlain(await evaluate(p.default, 'value', { host, vars })) as Value } catch { delete raw[k] }
  }
  return await resolveArrows(path, raw, host, new Set(), vars)
}
