// Operators of the spec §3.4 "Strings" table.

import { MAX_VALUE_LENGTH } from '../defaults.js'
import { ArrowError } from '../errors.js'
import { toS } from '../values.js'
import { type OpDef, arr, popVariadic, str } from './types.js'

/** Fail instead of building a string larger than MAX_VALUE_LENGTH. */
export function bounded (op: string, s: string): string {
  if (s.length > MAX_VALUE_LENGTH) throw new ArrowError('limit', `${op} would build a string of ${s.length} characters (limit ${MAX_VALUE_LENGTH})`, { operator: op })
  return s
}

export const stringOperators: OpDef[] = [
  {
    name: 'concat', table: 'strings', effect: '(a)(b) → (a+b)', inputs: 2,
    // Non-strings are converted with to-s (ports are Ints: `connection-port("x") concat(...)`).
    run: (a, b) => bounded('concat', toS(a) + toS(b)),
  },
  {
    name: 'concat-all', table: 'strings', effect: '<mark>? (s…) → (Str)', inputs: 'custom',
    run: (m, argc) => {
      const parts = popVariadic(m, 'concat-all', argc)
      let s = ''
      for (const p of parts) s += toS(p)
      m.stack.push(bounded('concat-all', s))
    },
  },
  {
    name: 'trim', table: 'strings', effect: '(Str) → (Str)', inputs: 1,
    run: a => str('trim', a).trim(),
  },
  {
    name: 'split', table: 'strings', effect: '(Str) split(sep) → (Array)', inputs: 2,
    run: (a, b) => str('split', a).split(str('split', b, 'a separator string')),
  },
  {
    name: 'join', table: 'strings', effect: '(Array) join(sep) → (Str)', inputs: 2,
    run: (a, b) => {
      const items = arr('join', a)
      const sep = str('join', b, 'a separator string')
      return bounded('join', items.map(toS).join(sep))
    },
  },
  {
    name: 'replace', table: 'strings', effect: '(Str) replace(old, new) → (Str)', inputs: 3,
    // Every occurrence is replaced (spec §3.4 assumes all; the corpus replaces a unique prefix).
    run: (s, from, to) => {
      const text = str('replace', s)
      const old = str('replace', from, 'the text to replace (a string)')
      if (old === '') throw new ArrowError('bad-argument', 'replace: the text to replace is empty', { operator: 'replace' })
      return bounded('replace', text.split(old).join(toS(to)))
    },
  },
]
