// Late-bound access to the operator registry, for operators that call operators by name (`call`).
// index.ts installs the registry; this indirection keeps the module graph free of cycles.

import type { OpDef } from './types.js'

let resolve: (name: string) => OpDef | undefined = () => undefined

export function installRegistry (lookup: (name: string) => OpDef | undefined): void {
  resolve = lookup
}

export function findOperator (name: string): OpDef | undefined {
  return resolve(name)
}
