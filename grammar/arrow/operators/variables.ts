// Operators of the spec §3.4 "Variables" table (`$name` itself is syntax, compiled in compile.ts).

import type { Machine } from '../machine.js'
import type { ArrowValue } from '../values.js'
import { type OpDef, capability, name, then, viaHost } from './types.js'

function setTemp (m: Machine, key: string, v: ArrowValue): void {
  if (m.temps === null) m.temps = new Map()
  m.temps.set(key, v)
}

function secret (op: string) {
  return (a: ArrowValue, m: Machine) => {
    const n = name(op, a, 'a secret name (string)')
    const get = capability(m, op, 'secret')
    return viaHost(op, () => get(n))
  }
}

export const variableOperators: OpDef[] = [
  {
    name: 'var', table: 'variables', effect: 'var(name) → (value)', inputs: 1,
    run: (a, m) => m.lookup(name('var', a, 'a variable name (string)')),
  },
  {
    name: 'set', table: 'variables', effect: '(v) set(name) → (v)', inputs: 2,
    // Stores the variable persistently through the host, and makes it visible to the rest of the script.
    run: (v, a, m) => {
      const key = name('set', a, 'a variable name (string)')
      const store = capability(m, 'set', 'setVariable')
      return then(viaHost('set', () => store(key, v)), () => { setTemp(m, key, v); return v })
    },
  },
  {
    name: 'set-tmp', table: 'variables', effect: '(v) set-tmp(name) → (v)', inputs: 2,
    run: (v, a, m) => { setTemp(m, name('set-tmp', a, 'a variable name (string)'), v); return v },
  },
  {
    name: 'unset', table: 'variables', effect: 'unset(name) → ()', inputs: 'custom', maxArgs: 1,
    run: m => {
      const key = name('unset', m.pop('unset'), 'a variable name (string)')
      m.temps?.delete(key)
    },
  },
  {
    name: 'default', table: 'variables', effect: '(v) default(d) → (v, or d when v is nil or "")', inputs: 2,
    // Our decision (spec §3.4 [I]): an empty string also takes the default.
    run: (v, d) => (v === null || v === '' ? d : v),
  },
  { name: 'secret', table: 'variables', effect: '(name) secret → (Str)', inputs: 1, run: secret('secret') },
  { name: 'secret-get', aliasOf: 'secret', table: 'variables', effect: '(name) secret-get → (Str)', inputs: 1, run: secret('secret-get') },
]
