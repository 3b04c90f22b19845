// What Arrow's entity operators read from the replica: an entity's definition (`entity`,
// `get-entity`), its persisted state (`entity-state`), and the target of a connection
// (`connection-target`). Shared by the entity actor's host and the runnable host.
import { ArrowError, fromPlain, toS, type ArrowHost, type ArrowValue } from '../../grammar/arrow/index.js'
import type { MapValue, Value } from '../../grammar/monkscript/types.js'
import { normalisePath } from '../paths.js'
import { decodeTpl, keys } from '../state.js'
import { entityPrefix, newestEntity } from './record.js'
import { definitionOf, entityType } from './type.js'

export interface ReplicaReader {
  get: (key: string) => unknown
  scan: (prefix: string) => Array<{ key: string, value: unknown }>
}

const isMap = (v: Value | undefined): v is MapValue => v !== null && typeof v === 'object' && !Array.isArray(v)

/** A reference on the stack: a path string, or what connection-target returned. */
function refPath (ref: ArrowValue, op: string): string {
  if (typeof ref === 'string' && ref.trim() !== '') return normalisePath(ref.trim())
  if (ref !== null && typeof ref === 'object' && !Array.isArray(ref) && typeof (ref as Record<string, ArrowValue>).path === 'string') return normalisePath(String((ref as Record<string, ArrowValue>).path))
  throw new ArrowError('host-error', `${op}: expected an entity path like "ns/name", got ${toS(ref)}`)
}

/** The definition of the entity instance at `path` (its fields over its type's defaults). */
export function entityDefinition (r: ReplicaReader, path: string, op = 'entity'): MapValue {
  const tpl = decodeTpl(r.get(keys.tpl(path)))
  if (!tpl) throw new ArrowError('host-error', `${op}: no template "${path}" is loaded`)
  if (tpl.kind !== 'entity-instance') throw new ArrowError('host-error', `${op}: ${path} is a ${tpl.kind}, not an entity instance`)
  const typePath = typeof tpl.value.defines === 'string' ? normalisePath(tpl.value.defines) : ''
  const t = decodeTpl(r.get(keys.tpl(typePath)))
  return t ? definitionOf(entityType(typePath, t.value), tpl.value) : definitionOf(entityType(typePath, {}), tpl.value)
}

/** The persisted state of the entity instance at `path`; an error when it was never created. */
export function entityStateOf (r: ReplicaReader, path: string, op = 'entity-state'): MapValue {
  const rec = newestEntity(r.scan(entityPrefix(path)))
  if (!rec || !rec.created) throw new ArrowError('host-error', `${op}: entity ${path} has no state yet (it is not created: monk run ${path})`)
  return rec.state as MapValue
}

/** The path a connection of `node` points at (`connections.<name>.target`). */
export function connectionTargetOf (node: string, value: MapValue, name: string): string {
  const c = isMap(value.connections) ? value.connections[name] : undefined
  const target = isMap(c) ? c.target ?? c.runnable : undefined
  if (typeof target !== 'string' || target.trim() === '') throw new ArrowError('host-error', `connection-target: ${node} has no connection "${name}" with a target`)
  return normalisePath(target.trim())
}

/**
 * The entity operators of a host for `self` (the node whose Arrow runs): `ref` null means `self`
 * itself (the bare `entity-state` inside an entity's own services).
 */
export function entityOperators (r: ReplicaReader, self: string, value: MapValue, own?: { state: () => MapValue | undefined }): Pick<ArrowHost, 'entity' | 'entityState' | 'connectionTarget'> {
  return {
    entity: (ref: ArrowValue) => fromPlain(entityDefinition(r, ref === null ? self : refPath(ref, 'entity'))),
    entityState: (ref: ArrowValue) => {
      if (ref === null && own) {
        const s = own.state()
        if (s === undefined) throw new ArrowError('host-error', `entity-state: ${self} has no state yet`)
        return fromPlain(s)
      }
      return fromPlain(entityStateOf(r, ref === null ? self : refPath(ref, 'entity-state')))
    },
    connectionTarget: (name: string) => connectionTargetOf(self, value, name),
  }
}
