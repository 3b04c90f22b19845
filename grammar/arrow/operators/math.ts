// Operators of the spec §3.4 "Math / numbers / types" table.
//
// Ints and Floats are JS numbers (an integral number is an Int). Int arithmetic whose result leaves the
// exactly representable range (±2^53) is redone in BigInt, so no precision is silently lost; a BigInt
// operand makes the result a BigInt, unless the other operand is a non-integral Float (then Float).

import { ArrowError } from '../errors.js'
import type { ArrowValue } from '../values.js'
import { toS } from '../values.js'
import { type OpDef, num, typeError } from './types.js'

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

type NumFn = (x: number, y: number) => number
type BigFn = (x: bigint, y: bigint) => bigint

function arith (op: string, fn: NumFn, big: BigFn) {
  return (a: ArrowValue, b: ArrowValue): number | bigint => {
    const x = num(op, a)
    const y = num(op, b)
    if (typeof x === 'number' && typeof y === 'number') {
      const r = fn(x, y)
      if (Number.isInteger(x) && Number.isInteger(y) && !Number.isSafeInteger(r) && Number.isFinite(r)) return big(BigInt(x), BigInt(y))
      return r
    }
    if ((typeof x === 'number' && !Number.isInteger(x)) || (typeof y === 'number' && !Number.isInteger(y))) return fn(Number(x), Number(y))
    return big(BigInt(x), BigInt(y))
  }
}

function div (a: ArrowValue, b: ArrowValue): number | bigint {
  const x = num('div', a)
  const y = num('div', b)
  // eslint-disable-next-line eqeqeq
  if (y == 0) throw new ArrowError('division-by-zero', 'div: division by zero', { operator: 'div' })
  if (typeof x === 'bigint' || typeof y === 'bigint') {
    if ((typeof x === 'number' && !Number.isInteger(x)) || (typeof y === 'number' && !Number.isInteger(y))) return Number(x) / Number(y)
    const bx = BigInt(x)
    const by = BigInt(y)
    return bx % by === 0n ? bx / by : Number(bx) / Number(by)
  }
  // Int / Int stays an Int when exact, else promotes to Float (`1 2 div` → 0.5).
  return x / y
}

/** An exact integer as an Int: a number when exactly representable, else a bigint; beyond 64 bits fails. */
function int64 (op: string, v: bigint): number | bigint {
  if (v < INT64_MIN || v > INT64_MAX) throw new ArrowError('bad-number', `${op}: ${v} does not fit in a 64-bit Int`, { operator: op })
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v
}

const INT_TEXT = /^[+-]?(?:0x[0-9a-f]+|0b[01]+|0o[0-7]+|\d+)$/i
const FLOAT_TEXT = /^[+-]?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)$/i

function parseIntText (op: string, s: string): bigint {
  const t = s.trim()
  if (INT_TEXT.test(t)) {
    const neg = t.startsWith('-')
    const body = t.replace(/^[+-]/, '')
    const v = BigInt(body)
    return neg ? -v : v
  }
  if (FLOAT_TEXT.test(t) && Number.isFinite(Number(t))) return BigInt(Math.trunc(Number(t)))
  throw new ArrowError('bad-number', `${op}: ${JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)} is not a number`, { operator: op })
}

function toInt (op: string) {
  return (v: ArrowValue): number | bigint => {
    switch (typeof v) {
      case 'number':
        if (!Number.isFinite(v)) throw new ArrowError('bad-number', `${op}: ${v} has no integer value`, { operator: op })
        return int64(op, BigInt(Math.trunc(v)))
      case 'bigint': return int64(op, v)
      case 'boolean': return v ? 1 : 0
      case 'string': return int64(op, parseIntText(op, v))
      default: throw typeError(op, 'a number, a string or a boolean', v)
    }
  }
}

function toFloat (op: string) {
  return (v: ArrowValue): number => {
    switch (typeof v) {
      case 'number': return v
      case 'bigint': return Number(v)
      case 'boolean': return v ? 1 : 0
      case 'string': {
        const t = v.trim()
        if (FLOAT_TEXT.test(t)) return Number(t)
        if (INT_TEXT.test(t)) return Number(parseIntText(op, t))
        throw new ArrowError('bad-number', `${op}: ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)} is not a number`, { operator: op })
      }
      default: throw typeError(op, 'a number, a string or a boolean', v)
    }
  }
}

function toBigint (op: string) {
  return (v: ArrowValue): bigint => {
    switch (typeof v) {
      case 'number':
        if (!Number.isFinite(v)) throw new ArrowError('bad-number', `${op}: ${v} has no integer value`, { operator: op })
        return BigInt(Math.trunc(v))
      case 'bigint': return v
      case 'boolean': return v ? 1n : 0n
      case 'string': return parseIntText(op, v.trim().replace(/n$/, ''))
      default: throw typeError(op, 'a number, a string or a boolean', v)
    }
  }
}

const toString = (v: ArrowValue): string => toS(v)

export const mathOperators: OpDef[] = [
  { name: 'add', table: 'math', effect: '(a)(b) → (a+b)', inputs: 2, run: arith('add', (x, y) => x + y, (x, y) => x + y) },
  { name: 'sub', table: 'math', effect: '(a)(b) → (a-b)', inputs: 2, run: arith('sub', (x, y) => x - y, (x, y) => x - y) },
  { name: 'mult', table: 'math', effect: '(a)(b) → (a×b)', inputs: 2, run: arith('mult', (x, y) => x * y, (x, y) => x * y) },
  { name: 'div', table: 'math', effect: '(a)(b) → (a÷b)', inputs: 2, run: div },
  {
    name: 'to-hex', table: 'math', effect: '(Num) to-hex(prefix? Bool) → (Str)', inputs: 'custom', maxArgs: 2,
    // The optional prefix flag is recognised by type, so `n to-hex(true)` and `n true to-hex` agree.
    run: m => {
      let prefix = false
      const top = m.pop('to-hex')
      let v: ArrowValue = top
      if (typeof top === 'boolean') { prefix = top; v = m.pop('to-hex') }
      const n = num('to-hex', v)
      if (typeof n === 'number' && !Number.isInteger(n)) throw typeError('to-hex', 'an integer', n)
      const b = BigInt(n)
      const neg = b < 0n
      m.stack.push((neg ? '-' : '') + (prefix ? '0x' : '') + (neg ? -b : b).toString(16))
    },
  },
  { name: 'to-int', table: 'math', effect: '(any) → (Int)', inputs: 1, run: toInt('to-int') },
  { name: 'to-i', aliasOf: 'to-int', table: 'math', effect: '(any) → (Int)', inputs: 1, run: toInt('to-i') },
  { name: 'to-float', table: 'math', effect: '(any) → (Float)', inputs: 1, run: toFloat('to-float') },
  { name: 'to-f', aliasOf: 'to-float', table: 'math', effect: '(any) → (Float)', inputs: 1, run: toFloat('to-f') },
  { name: 'to-bigint', table: 'math', effect: '(any) → (BigInt)', inputs: 1, run: toBigint('to-bigint') },
  { name: 'to-bi', aliasOf: 'to-bigint', table: 'math', effect: '(any) → (BigInt)', inputs: 1, run: toBigint('to-bi') },
  { name: 'to-string', table: 'math', effect: '(any) → (Str)', inputs: 1, run: toString },
  { name: 'to-s', aliasOf: 'to-string', table: 'math', effect: '(any) → (Str)', inputs: 1, run: toString },
]
