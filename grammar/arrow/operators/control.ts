// Operators of the spec §3.4 "Control / logic / comparison" table. Truthiness: only nil and false are
// false (values.ts). `if-error` is listed here; its error recovery is compiled in compile.ts.

import type { ArrowValue } from '../values.js'
import { equal, isObject, ownMember, toS, truthy } from '../values.js'
import { type OpDef, isNum, typeError } from './types.js'

function contains (op: string) {
  return (hay: ArrowValue, needle: ArrowValue): boolean => {
    if (hay === null) return false
    if (typeof hay === 'string') return hay.includes(toS(needle))
    if (Array.isArray(hay)) return hay.some(x => equal(x, needle))
    if (isObject(hay)) return ownMember(hay, toS(needle)) !== undefined
    throw typeError(op, 'a string, an array or an object to search in', hay)
  }
}

const eq = (a: ArrowValue, b: ArrowValue): boolean => equal(a, b)
const notEq = (a: ArrowValue, b: ArrowValue): boolean => !equal(a, b)

export const controlOperators: OpDef[] = [
  {
    name: 'and', table: 'control', effect: '(a)(b) → (Bool)', inputs: 2,
    run: (a, b) => truthy(a) && truthy(b),
  },
  {
    name: 'or', table: 'control', effect: '(a)(b) → (a if truthy, else b)', inputs: 2,
    // Templates use `or` as a fallback (`then("X") or("_")`), so it returns a value, not a Bool.
    run: (a, b) => (truthy(a) ? a : b),
  },
  {
    name: 'xor', table: 'control', effect: '(a)(b) → (Bool)', inputs: 2,
    run: (a, b) => truthy(a) !== truthy(b),
  },
  {
    name: 'not', table: 'control', effect: '(a) → (Bool)', inputs: 1,
    run: a => !truthy(a),
  },
  {
    name: 'then', table: 'control', effect: '(cond) then(v) → (v if cond is truthy, else nil)', inputs: 2,
    run: (c, v) => (truthy(c) ? v : null),
  },
  { name: 'eq?', table: 'control', effect: '(a)(b) → (Bool)', inputs: 2, run: eq },
  { name: 'equal?', aliasOf: 'eq?', table: 'control', effect: '(a)(b) → (Bool)', inputs: 2, run: eq },
  { name: 'not-eq?', table: 'control', effect: '(a)(b) → (Bool)', inputs: 2, run: notEq },
  { name: 'not-equal?', aliasOf: 'not-eq?', table: 'control', effect: '(a)(b) → (Bool)', inputs: 2, run: notEq },
  { name: 'contains?', table: 'control', effect: '(haystack)(needle) → (Bool)', inputs: 2, run: contains('contains?') },
  { name: 'has?', aliasOf: 'contains?', table: 'control', effect: '(haystack)(needle) → (Bool)', inputs: 2, run: contains('has?') },
  {
    name: 'nil?', table: 'control', effect: '(v) → (Bool)', inputs: 1,
    run: a => a === null,
  },
  {
    name: 'if-error', table: 'control', effect: '(…) if-error(d) → (result, or d if it failed)', inputs: 2,
    // Reached only when nothing failed (compile.ts routes failures to the fallback): keep the value.
    run: a => a,
  },
  {
    name: 'cmp', table: 'control', effect: '(a Num)(b Num) → (Bool)', inputs: 2,
    // The docs define cmp as numeric equality (`7 2 cmp` → false).
    run: (a, b) => {
      if (!isNum(a)) throw typeError('cmp', 'a number', a)
      if (!isNum(b)) throw typeError('cmp', 'a number', b)
      return equal(a, b)
    },
  },
]
