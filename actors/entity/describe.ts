// What `monk describe` shows of an entity instance, read from the replica: its definition, its
// persisted state with secret-looking fields masked, the last action with its output or error.
import type { MapValue } from '../../grammar/monkscript/types.js'
import type { EntityDescribe } from '../messages/workload.js'
import { normalisePath } from '../paths.js'
import { decodeTpl, keys } from '../state.js'
import type { ReplicaReader } from './arrow-host.js'
import { entityPrefix, newestEntity } from './record.js'
import { customActions, definitionOf, entityType } from './type.js'

/** Field names whose values describe never prints. */
const SECRET_NAME = /pass(word)?|secret|token|private|credential|api[-_]?key|access[-_]?key/i

/** A copy with the values of secret-looking fields replaced by `***`, at any depth. */
export function maskSecrets (v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecrets)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_NAME.test(k) && (typeof x === 'string' || typeof x === 'number') ? '***' : maskSecrets(x)]))
  return v
}

export function describeEntity (r: ReplicaReader, instance: string, value: MapValue): EntityDescribe {
  const typePath = typeof value.defines === 'string' ? normalisePath(value.defines) : ''
  const tt = decodeTpl(r.get(keys.tpl(typePath)))
  const type = entityType(typePath, tt?.value ?? {})
  const rec = newestEntity(r.scan(entityPrefix(instance)))
  return {
    type: typePath,
    definition: maskSecrets(definitionOf(type, value)) as Record<string, unknown>,
    state: maskSecrets(rec?.state ?? {}) as Record<string, unknown>,
    created: rec?.created ?? false,
    lastAction: rec?.lastAction ?? '',
    output: rec?.lastOutput ?? [],
    error: rec?.lastError ?? null,
    actions: customActions(type),
  }
}
