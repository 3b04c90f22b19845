// Arrow run-time values (spec §3.3 types), and the conversions every operator shares: to-s, truthiness,
// equality, JSON.
//
// Representation: nil = null, Boolean = boolean, Int and Float = number (an integral number is an Int),
// BigInt = bigint, String = string, Array = array, Object = null-prototype object, Func = ArrowFunc.
// Values are never mutated after they are built: operators that "change" a collection copy it.

import type { Span } from './ast.js'
import { ArrowError } from './errors.js'

export type ArrowValue = null | boolean | number | bigint | string | ArrowValue[] | ArrowObject | ArrowFunc | Mark
export interface ArrowObject { [key: string]: ArrowValue }

/** The compiled body a function value runs. Opaque here; see machine.ts. */
export interface FuncCode { readonly source: string }

/** A `<-{ ... }` code block as a value. */
export class ArrowFunc {
  constructor (readonly code: FuncCode, readonly span: Span) {}
  toString (): string { return '<func>' }
}

/** The stack marker pushed by `mark` (consumed by `concat-all` and other variadic operators). */
export class Mark {
  private constructor () {}
  static readonly instance = new Mark()
  toString (): string { return '<mark>' }
}

export type TypeName = 'nil' | 'bool' | 'int' | 'float' | 'bigint' | 'string' | 'array' | 'object' | 'func' | 'mark'

export function typeName (v: ArrowValue): TypeName {
  switch (typeof v) {
    case 'boolean': return 'bool'
    case 'number': return Number.isInteger(v) ? 'int' : 'float'
    case 'bigint': return 'bigint'
    case 'string': return 'string'
    default:
      if (v === null) return 'nil'
      if (Array.isArray(v)) return 'array'
      if (v instanceof ArrowFunc) return 'func'
      if (v instanceof Mark) return 'mark'
      return 'object'
  }
}

export function isObject (v: ArrowValue): v is ArrowObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof ArrowFunc) && !(v instanceof Mark)
}

/** A fresh object without a prototype, so keys like `__proto__` are ordinary keys. */
export function newObject (): ArrowObject {
  return Object.create(null) as ArrowObject
}

const hasOwn = Object.prototype.hasOwnProperty
/** Own member of an object or undefined (never an inherited property). */
export function ownMember (o: ArrowObject, key: string): ArrowValue | undefined {
  return hasOwn.call(o, key) ? o[key] : undefined
}

/** Set a key on an object built by us (defineProperty, so `__proto__` is stored as data). */
export function setMember (o: ArrowObject, key: string, v: ArrowValue): void {
  Object.defineProperty(o, key, { value: v, writable: true, enumerable: true, configurable: true })
}

/** Truthiness (spec §3.3, our decision): only nil and false are false. `""`, `0` and `[]` are true. */
export function truthy (v: ArrowValue): boolean {
  return v !== null && v !== false
}

/** `to-s`: the text of a value, as used by interpolation and `concat-all`. */
export function toS (v: ArrowValue): string {
  switch (typeof v) {
    case 'string': return v
    case 'number': return numberText(v)
    case 'bigint': return v.toString()
    case 'boolean': return v ? 'true' : 'false'
    default:
      if (v === null || v instanceof Mark) return ''
      if (v instanceof ArrowFunc) return '<func>'
      return toJSONText(v, false)
  }
}

function numberText (n: number): string {
  if (Object.is(n, -0)) return '0'
  return String(n)
}

/**
 * JSON text of a value: bigints as plain digits, non-finite numbers as null. With `strict`, a func or
 * mark fails (`to-json`); without, they are written as null (`to-s` of a collection).
 */
export function toJSONText (v: ArrowValue, strict: boolean, depth = 0): string {
  if (depth > 1000) throw new ArrowError('limit', 'value nests more than 1000 levels deep')
  switch (typeof v) {
    case 'string': return JSON.stringify(v)
    case 'number': return Number.isFinite(v) ? numberText(v) : 'null'
    case 'bigint': return v.toString()
    case 'boolean': return v ? 'true' : 'false'
  }
  if (v === null) return 'null'
  if (Array.isArray(v)) return '[' + v.map(x => toJSONText(x, strict, depth + 1)).join(',') + ']'
  if (v instanceof ArrowFunc || v instanceof Mark) {
    if (strict) throw new ArrowError('bad-json', `a ${typeName(v)} cannot be written as JSON`)
    return 'null'
  }
  const parts: string[] = []
  for (const k of Object.keys(v)) parts.push(JSON.stringify(k) + ':' + toJSONText(v[k] as ArrowValue, strict, depth + 1))
  return '{' + parts.join(',') + '}'
}

/** Decode JSON into Arrow values (objects get no prototype). */
export function fromJSONText (text: string): ArrowValue {
  let raw: unknown
  try { raw = JSON.parse(text) } catch (e) {
    throw new ArrowError('bad-json', `parse-json: input is not valid JSON: ${(e as Error).message}`, { cause: e })
  }
  return fromPlain(raw)
}

/** Convert a plain JS value (JSON-like, e.g. from a host or YAML) into an Arrow value. */
export function fromPlain (raw: unknown, depth = 0): ArrowValue {
  if (depth > 1000) throw new ArrowError('limit', 'value nests more than 1000 levels deep')
  switch (typeof raw) {
    case 'string': case 'number': case 'boolean': case 'bigint': return raw
    case 'undefined': return null
  }
  if (raw === null) return null
  if (Array.isArray(raw)) return raw.map(x => fromPlain(x, depth + 1))
  if (raw instanceof ArrowFunc || raw instanceof Mark) return raw
  if (typeof raw === 'object') {
    const o = newObject()
    for (const [k, x] of Object.entries(raw)) setMember(o, k, fromPlain(x, depth + 1))
    return o
  }
  return null
}

/**
 * A JSON-compatible form for output (`monk eval --output json`): bigint as its decimal string,
 * funcs as "<func>", marks as null.
 */
export function toPlain (v: ArrowValue): unknown {
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number' && !Number.isFinite(v)) return null
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map(toPlain)
  if (v instanceof ArrowFunc) return '<func>'
  if (v instanceof Mark) return null
  const o: Record<string, unknown> = {}
  for (const k of Object.keys(v)) Object.defineProperty(o, k, { value: toPlain(v[k] as ArrowValue), enumerable: true, writable: true, configurable: true })
  return o
}

/** Deep equality. Numbers compare by value across Int/Float/BigInt; other types never equal each other. */
export function equal (a: ArrowValue, b: ArrowValue): boolean {
  if (a === b) return true
  const ta = typeof a
  const tb = typeof b
  if ((ta === 'number' || ta === 'bigint') && (tb === 'number' || tb === 'bigint')) return numEqual(a as number | bigint, b as number | bigint)
  if (ta !== 'object' || tb !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!equal(a[i] as ArrowValue, b[i] as ArrowValue)) return false
    return true
  }
  if (!isObject(a) || !isObject(b)) return false
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) {
    const bv = ownMember(b, k)
    if (bv === undefined || !equal(a[k] as ArrowValue, bv)) return false
  }
  return true
}

function numEqual (a: number | bigint, b: number | bigint): boolean {
  if (typeof a === typeof b) return a === b
  // Mixed number/bigint: loose equality compares mathematically (1 == 1n, 1.5 != 1n).
  // eslint-disable-next-line eqeqeq
  return a == b
}

/** Short description of a value for error messages: `the string "ab"`, `an int (42)`, `an array of 3`. */
export function describe (v: ArrowValue): string {
  const t = typeName(v)
  switch (t) {
    case 'nil': return 'nil'
    case 'bool': return `the boolean ${String(v)}`
    case 'int': case 'float': return `${t === 'int' ? 'an int' : 'a float'} (${toS(v)})`
    case 'bigint': return `a bigint (${toS(v)}n)`
    case 'string': {
      const s = v as string
      return `the string ${JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)}`
    }
    case 'array': return `an array of ${(v as ArrowValue[]).length}`
    case 'object': return 'an object'
    case 'func': return 'a function block'
    case 'mark': return 'a mark'
  }
}
