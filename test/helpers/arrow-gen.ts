// Random Arrow scripts for property tests: well-formed ones (every syntax form, real and unknown
// operators, call and postfix forms) and mutated ones (random edits that usually break the syntax).

import { operatorNames } from '../../grammar/arrow/index.js'
import type { Random } from './arrow-random.js'

const ops = operatorNames()
const varNames = ['host', 'port', 'x', 'n', 'obj', 'list', 'missing', 'args', 'a-b', 'ok?']
const words = ['foo', 'my-key', 'bar_baz', 'nil-ish', 'x1']
const textChars = ['a', 'b', 'z', ' ', '-', '.', ':', '/', '$', '{', '}', '"', "'", '`', '\\', '\n', 'é', '0', '9', '\t']
const escapes = ['\\n', '\\t', '\\\\', '\\"', "\\'", '\\`', '\\$', '\\x41', '\\u0042', '\\u{1F600}', '\\q', '\\0']

function ws (r: Random): string {
  return r.pick([' ', ' ', ' ', '  ', '\n', '\t', ' \n  '])
}

function int (r: Random): string {
  const n = r.chance(0.9) ? r.int(100) : r.int(2 ** 30) * (r.chance(0.5) ? 2 ** 22 : 1)
  const sign = r.chance(0.2) ? '-' : ''
  switch (r.int(5)) {
    case 0: return `${sign}0x${n.toString(16)}`
    case 1: return `${sign}0b${n.toString(2)}`
    case 2: return n === 0 ? '0' : `${sign}0${n.toString(8)}`
    default: return `${sign}${n}`
  }
}

function float (r: Random): string {
  const base = `${r.int(1000)}.${r.int(1000)}`
  return (r.chance(0.2) ? '-' : '') + (r.chance(0.3) ? `${base}e${r.pick(['', '-', '+'])}${r.int(30)}` : base)
}

function chars (r: Random, quote: string): string {
  let s = ''
  const n = r.int(8)
  for (let i = 0; i < n; i++) {
    if (r.chance(0.2)) { s += r.pick(escapes); continue }
    const c = r.pick(textChars)
    s += c === quote || c === '\\' ? '\\' + c : c
  }
  return s
}

function template (r: Random, depth: number): string {
  let s = '`'
  const n = r.int(5)
  for (let i = 0; i < n; i++) {
    switch (r.int(4)) {
      case 0: s += chars(r, '`').replace(/\$\{/g, '\\${').replace(/\$$/, '\\$'); break
      case 1: s += `\${${r.pick(varNames)}}`; break
      case 2: s += `\${${r.pick(varNames)}[${r.chance(0.5) ? '"a"' : r.int(3)}]}`; break
      default: s += `\${${depth > 0 ? body(r, depth - 1, 3) : r.pick(varNames)}}`
    }
  }
  return s + '`'
}

function args (r: Random, depth: number): string {
  const n = r.int(4)
  const parts: string[] = []
  for (let i = 0; i < n; i++) parts.push(r.chance(0.1) ? r.pick(words) : body(r, depth - 1, 2, true))
  return (r.chance(0.1) ? ' ' : '') + '(' + parts.join(', ') + ')'
}

function term (r: Random, depth: number): string {
  const k = depth <= 0 ? r.int(8) : r.int(14)
  switch (k) {
    case 0: return r.pick(['nil', 'true', 'false'])
    case 1: return int(r)
    case 2: return `${int(r).replace(/^-?0[0-7]+$/, '7')}n`
    case 3: return float(r)
    case 4: return `"${chars(r, '"')}"`
    case 5: return `'${chars(r, "'")}'`
    case 6: return `$${r.pick(varNames)}${r.chance(0.2) ? `["${r.pick(['a', 'b', 'user'])}"]` : ''}`
    case 7: return r.pick(ops)
    case 8: return template(r, depth - 1)
    case 9: { const n = r.int(4); const items = []; for (let i = 0; i < n; i++) items.push(body(r, depth - 1, 2, true)); return `[${items.join(', ')}]` }
    case 10: {
      const n = r.int(3)
      const items = []
      for (let i = 0; i < n; i++) items.push(`${r.pick(['"k"', 'name', '$x', `'q${i}'`])}: ${body(r, depth - 1, 2, true)}`)
      return `{${items.join(', ')}}`
    }
    case 11: return `<-{ ${body(r, depth - 1, 3)} }`
    case 12: return r.pick(ops) + args(r, depth)
    default: return r.chance(0.9) ? r.pick(ops) : r.pick(words)
  }
}

/** A body of 0..max terms (at least one when `nonEmpty`). */
export function body (r: Random, depth: number, max: number, nonEmpty = false): string {
  const n = (nonEmpty ? 1 : 0) + r.int(max)
  const terms: string[] = []
  for (let i = 0; i < n; i++) terms.push(term(r, depth))
  return terms.join(ws(r))
}

/** A well-formed script (possibly with unknown operators). */
export function script (r: Random): string {
  const prefix = r.pick(['', '<- ', '  <- ', '<-'])
  const b = body(r, 3, 6)
  return prefix === '<-' && b.startsWith('{') ? `<- ${b}` : prefix + b
}

const noise = ['"', "'", '`', '$', '${', '{', '}', '[', ']', '(', ')', ',', ':', '<-', '<-{', '\\', ' ', '\n', 'n', '0x', '-', '.', '?', 'e']

/** A script with a few random edits. */
export function mutate (r: Random, s: string): string {
  let out = s
  const edits = 1 + r.int(3)
  for (let i = 0; i < edits; i++) {
    const at = r.int(out.length + 1)
    switch (r.int(3)) {
      case 0: out = out.slice(0, at) + out.slice(at + 1 + r.int(3)); break
      case 1: out = out.slice(0, at) + r.pick(noise) + out.slice(at); break
      default: out = out.slice(0, at) + r.pick(noise) + out.slice(at + 1)
    }
  }
  return out
}
