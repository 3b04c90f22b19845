// A small typed decoder library for request bodies: each decoder checks an unknown JSON value and
// returns it typed, or throws SchemaError naming the field (`tags[1]`, `set.PORT`). Objects are
// strict: an unknown field is an error, so a typo in a CLI flag mapping cannot pass silently.
import { SchemaError } from './errors.js'

export interface Decoder<T> {
  /** Checks `value` found at `field` ('' for the body itself) and returns it typed. */
  readonly decode: (value: unknown, field: string) => T
  /** What the decoder accepts, for error messages ("a string", "one of run, stop"). */
  readonly expected: string
}

/** A decoder for an object field that may be absent. */
export interface OptionalDecoder<T> extends Decoder<T> {
  readonly optional: true
}

export type Infer<D> = D extends Decoder<infer T> ? T : never

type Shape = Readonly<Record<string, Decoder<unknown>>>
type Simplify<T> = { [K in keyof T]: T[K] } & {}
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalDecoder<unknown> ? never : K }[keyof S]
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalDecoder<unknown> ? K : never }[keyof S]
export type ObjectOf<S extends Shape> = Simplify<{ [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }>

function fail (field: string, expected: string, value: unknown): never {
  const where = field === '' ? 'the request body' : `field '${field}'`
  throw new SchemaError(field, `${where} must be ${expected}, got ${describe(value)}`)
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : `"${value}"`
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`
  return typeof value === 'object' ? 'an object' : typeof value
}

const sub = (parent: string, key: string): string => (parent === '' ? key : `${parent}.${key}`)

export interface StringOptions {
  readonly min?: number
  readonly max?: number
  readonly pattern?: RegExp
  /** Said in the error when the pattern does not match, e.g. "a name like ns/app". */
  readonly patternText?: string
}

export function string (opts: StringOptions = {}): Decoder<string> {
  const { min = 0, max = 1 << 20, pattern } = opts
  const expected = opts.patternText ?? (min > 0 ? 'a non-empty string' : 'a string')
  return {
    expected,
    decode: (v, field) => {
      if (typeof v !== 'string') return fail(field, expected, v)
      if (v.length < min) return fail(field, min === 1 ? 'a non-empty string' : `at least ${min} characters long`, v)
      if (v.length > max) return fail(field, `at most ${max} characters long`, v)
      if (pattern && !pattern.test(v)) return fail(field, expected, v)
      return v
    },
  }
}

export function oneOf<const T extends readonly (string | number | boolean)[]> (...values: T): Decoder<T[number]> {
  const expected = `one of ${values.map(v => JSON.stringify(v)).join(', ')}`
  return {
    expected,
    decode: (v, field) => (values.includes(v as T[number]) ? v as T[number] : fail(field, expected, v)),
  }
}

export function number (opts: { min?: number, max?: number, integer?: boolean } = {}): Decoder<number> {
  const kind = opts.integer === true ? 'an integer' : 'a number'
  const range = opts.min !== undefined && opts.max !== undefined
    ? ` from ${opts.min} to ${opts.max}`
    : opts.min !== undefined ? ` >= ${opts.min}` : opts.max !== undefined ? ` <= ${opts.max}` : ''
  const expected = kind + range
  return {
    expected,
    decode: (v, field) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return fail(field, expected, v)
      if (opts.integer === true && !Number.isInteger(v)) return fail(field, expected, v)
      if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) return fail(field, expected, v)
      return v
    },
  }
}

export const integer = (opts: { min?: number, max?: number } = {}): Decoder<number> => number({ ...opts, integer: true })

export function boolean (): Decoder<boolean> {
  return { expected: 'true or false', decode: (v, field) => (typeof v === 'boolean' ? v : fail(field, 'true or false', v)) }
}

export function array<T> (item: Decoder<T>, opts: { max?: number, min?: number } = {}): Decoder<T[]> {
  const expected = `a list of ${item.expected.replace(/^an? /, '')} values`
  return {
    expected,
    decode: (v, field) => {
      if (!Array.isArray(v)) return fail(field, expected, v)
      if (opts.min !== undefined && v.length < opts.min) return fail(field, `a list of at least ${opts.min}`, v)
      if (opts.max !== undefined && v.length > opts.max) return fail(field, `a list of at most ${opts.max}`, v)
      return v.map((x, i) => item.decode(x, `${field}[${i}]`))
    },
  }
}

/** A JSON object used as a map (`set: {VAR: value}`); keys may be constrained by a pattern. */
export function record<T> (value: Decoder<T>, opts: { keyPattern?: RegExp, keyText?: string, max?: number } = {}): Decoder<Record<string, T>> {
  const expected = 'an object'
  return {
    expected,
    decode: (v, field) => {
      if (!isPlainObject(v)) return fail(field, expected, v)
      const keys = Object.keys(v)
      if (opts.max !== undefined && keys.length > opts.max) return fail(field, `an object with at most ${opts.max} entries`, v)
      const out: Record<string, T> = Object.create(null) as Record<string, T>
      for (const k of keys) {
        if (opts.keyPattern && !opts.keyPattern.test(k)) {
          throw new SchemaError(sub(field, k), `key '${k}' of ${field === '' ? 'the body' : `'${field}'`} must be ${opts.keyText ?? `like ${opts.keyPattern}`}`)
        }
        out[k] = value.decode(v[k], sub(field, k))
      }
      return out
    },
  }
}

export function optional<T> (d: Decoder<T>): OptionalDecoder<T> {
  return { ...d, optional: true }
}

/** Any JSON value, unchecked (for free-form payloads such as action arguments). */
export function json (): Decoder<unknown> {
  return { expected: 'any JSON value', decode: v => v }
}

/** A strict object: every field of `shape`, required unless optional(); no other fields. */
export function object<S extends Shape> (shape: S): Decoder<ObjectOf<S>> {
  const expected = 'an object'
  const known = Object.keys(shape)
  return {
    expected,
    decode: (v, field) => {
      if (!isPlainObject(v)) return fail(field, expected, v)
      for (const k of Object.keys(v)) {
        if (!Object.hasOwn(shape, k)) {
          throw new SchemaError(sub(field, k), `field '${sub(field, k)}' is not allowed here (allowed: ${known.join(', ') || 'none'})`)
        }
      }
      const out: Record<string, unknown> = {}
      for (const k of known) {
        const d = shape[k]!
        const present = Object.hasOwn(v, k) && v[k] !== undefined
        if (!present) {
          if ((d as Partial<OptionalDecoder<unknown>>).optional === true) continue
          throw new SchemaError(sub(field, k), `field '${sub(field, k)}' is required (${d.expected})`)
        }
        out[k] = d.decode(v[k], sub(field, k))
      }
      return out as ObjectOf<S>
    },
  }
}

/** A message body `{type: <type>, ...shape}`. */
export function message<const T extends string, S extends Shape> (type: T, shape: S): Decoder<Simplify<{ type: T } & ObjectOf<S>>> {
  return object({ type: oneOf(type), ...shape }) as unknown as Decoder<Simplify<{ type: T } & ObjectOf<S>>>
}

export function isPlainObject (v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}
