// Arrow values of an entity instance (`field: <- entity-state("ns/x") get-member("id")`) resolved
// before the lifecycle sees the definition, with the host the caller gives (the daemon's replica,
// or stubs in the corpus check). An error names the field.
import { evaluate, toPlain, type ArrowHost } from '../../grammar/arrow/index.js'
import type { MapValue, Value } from '../../grammar/monkscript/types.js'
import { EntityError } from './errors.js'

const isArrow = (v: string): boolean => v.trimStart().startsWith('<-')

/** A copy of `value` with every `<-` string evaluated; `skip` names top-level keys left as they are. */
export async function resolveArrows (path: string, value: MapValue, host: ArrowHost, skip: ReadonlySet<string> = new Set()): Promise<MapValue> {
  const walk = async (v: Value, at: string): Promise<Value> => {
    if (typeof v === 'string' && isArrow(v)) {
      try {
        return toPlain(await evaluate(v, 'value', { host })) as Value
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
