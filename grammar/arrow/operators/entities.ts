// Operators of the spec §3.4 "Entities" table (reach the host).

import type { Capability } from '../host.js'
import type { Machine } from '../machine.js'
import type { ArrowValue } from '../values.js'
import { type OpCustom, callHost, then } from './types.js'

/**
 * `entity(ref)` / `ref entity`; with nothing on the stack (of the current frame) it means the current
 * entity instance (`services.x.address: <- entity-state get-member("address")`), passed to the host as nil.
 */
function entityOp (opName: string, cap: Capability, effect: string, aliasOf?: string): OpCustom {
  return {
    name: opName, table: 'entities', effect, inputs: 'custom', maxArgs: 1, ...(aliasOf === undefined ? {} : { aliasOf }),
    run: (m: Machine) => {
      const ref: ArrowValue = m.depthInFrame > 0 ? m.pop(opName) : null
      return then(callHost(m, opName, cap, ref), v => { m.stack.push(v) })
    },
  }
}

export const entityOperators: OpCustom[] = [
  entityOp('entity', 'entity', 'entity(ref) → (Obj); bare with an empty stack: the current entity'),
  entityOp('get-entity', 'entity', 'get-entity(ref) → (Obj)', 'entity'),
  entityOp('entity-state', 'entityState', 'entity-state(ref) → (Obj); bare with an empty stack: the current entity'),
]
