// The operator registry: every operator of spec §3.4, by name (aliases are entries of their own).

import { actionOperators } from './actions.js'
import { collectionOperators } from './collections.js'
import { containerOperators } from './containers.js'
import { controlOperators } from './control.js'
import { entityOperators } from './entities.js'
import { httpOperators } from './http.js'
import { installRegistry } from './lookup.js'
import { mathOperators } from './math.js'
import { networkOperators } from './network.js'
import { stringOperators } from './strings.js'
import type { OpDef } from './types.js'
import { variableOperators } from './variables.js'

export type { OpDef, OpTable } from './types.js'

/** Every operator definition, in spec table order. */
export const allOperators: readonly OpDef[] = [
  ...stringOperators, ...variableOperators, ...controlOperators, ...mathOperators, ...collectionOperators,
  ...httpOperators, ...actionOperators, ...containerOperators, ...networkOperators, ...entityOperators,
]

const byName = new Map<string, OpDef>()
for (const def of allOperators) {
  if (byName.has(def.name)) throw new Error(`operator ${def.name} is defined twice`)
  byName.set(def.name, def)
}

installRegistry(name => byName.get(name))

/** The operator called `name` (an alias included), or undefined. */
export function operatorByName (name: string): OpDef | undefined {
  return byName.get(name)
}

/** All operator names, aliases included. */
export function operatorNames (): string[] {
  return [...byName.keys()]
}
