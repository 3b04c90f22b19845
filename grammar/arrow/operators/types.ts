// The shape of an operator definition, and the checks operators share (argument types, host calls).

import { ArrowError } from '../errors.js'
import type { ArrowHost, Capability } from '../host.js'
import type { Machine } from '../machine.js'
import { type ArrowObject, type ArrowValue, describe, isObject, typeName } from '../values.js'

/** An operator's result: a value now, or (host operators, function blocks that wait) later. */
export type Result = ArrowValue | Promise<ArrowValue>

/** The §3.4 table an operator is listed in. */
export type OpTable =
  | 'strings' | 'variables' | 'control' | 'math' | 'collections' | 'http' | 'actions' | 'containers'
  | 'network' | 'entities'

interface OpBase {
  name: string
  /** Set on an alias: the name of the operator it is another name for (aliases are separate entries so
   * that messages name the operator as written). */
  aliasOf?: string
  table: OpTable
  /** One line: the stack effect, as in the spec table. */
  effect: string
}

/** Operators with a fixed number of inputs: the machine pops them (checking the frame) and pushes the result. */
export interface Op0 extends OpBase { inputs: 0; run: (m: Machine) => Result }
export interface Op1 extends OpBase { inputs: 1; run: (a: ArrowValue, m: Machine) => Result }
export interface Op2 extends OpBase { inputs: 2; run: (a: ArrowValue, b: ArrowValue, m: Machine) => Result }
export interface Op3 extends OpBase { inputs: 3; run: (a: ArrowValue, b: ArrowValue, c: ArrowValue, m: Machine) => Result }
/**
 * Operators that decide themselves how much to pop: variadic ones (call form: `argc` values; postfix
 * form, `argc` null: down to the nearest mark or the whole frame), optional trailing inputs (decided by
 * type, so both forms agree), and stack-shape operators (`dup`, `unset`, `callf`).
 */
export interface OpCustom extends OpBase {
  inputs: 'custom'
  /** Most call arguments that make sense (checked at compile time); absent = any number. */
  maxArgs?: number
  run: (m: Machine, argc: number | null) => void | Promise<void>
}

export type OpDef = Op0 | Op1 | Op2 | Op3 | OpCustom

// ---- argument checks --------------------------------------------------------------------------

export function typeError (op: string, what: string, v: ArrowValue): ArrowError {
  return new ArrowError('type', `${op} expects ${what}, got ${describe(v)}`, { operator: op })
}

export function str (op: string, v: ArrowValue, what = 'a string'): string {
  if (typeof v !== 'string') throw typeError(op, what, v)
  return v
}

export function arr (op: string, v: ArrowValue): ArrowValue[] {
  if (!Array.isArray(v)) throw typeError(op, 'an array', v)
  return v
}

export function obj (op: string, v: ArrowValue): ArrowObject {
  if (!isObject(v)) throw typeError(op, 'an object', v)
  return v
}

export function isNum (v: ArrowValue): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint'
}

export function num (op: string, v: ArrowValue): number | bigint {
  if (!isNum(v)) throw typeError(op, 'a number', v)
  return v
}

/** A name-like argument (variable, secret, connection...): a string, or a number/bool written bare. */
export function name (op: string, v: ArrowValue, what = 'a name (string)'): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'bigint') return String(v)
  throw typeError(op, what, v)
}

// ---- host calls -------------------------------------------------------------------------------

/** The bound host member for `cap`, or a `missing-capability` error naming the operator. */
export function capability<K extends Capability> (m: Machine, op: string, cap: K): NonNullable<ArrowHost[K]> {
  const host = m.host
  const f = host?.[cap]
  if (typeof f !== 'function') {
    throw new ArrowError('missing-capability',
      `${op} needs the host capability '${cap}', which this evaluation does not provide` +
      (host === undefined ? ' (no host: evaluating offline, without a cluster)' : ''), { operator: op })
  }
  return (f as (...a: unknown[]) => unknown).bind(host) as NonNullable<ArrowHost[K]>
}

/** Call a host member and normalise its answer (undefined → nil; failures → `host-error`). */
export function viaHost (op: string, call: () => unknown): Result {
  let r: unknown
  try { r = call() } catch (e) { throw hostError(op, e) }
  if (r instanceof Promise) return r.then(v => (v === undefined ? null : v as ArrowValue), e => { throw hostError(op, e) })
  return r === undefined ? null : r as ArrowValue
}

export function hostError (op: string, e: unknown): ArrowError {
  if (e instanceof ArrowError) { if (e.operator === null) e.operator = op; return e }
  const msg = e instanceof Error ? e.message : String(e)
  return new ArrowError('host-error', `${op} failed: ${msg}`, { cause: e, operator: op })
}

/** `then` for values that may be promises, keeping the synchronous path free of promises. */
export function then<T, U> (v: T | Promise<T>, f: (x: T) => U | Promise<U>): U | Promise<U> {
  return v instanceof Promise ? v.then(f) : f(v)
}

/** Pop the inputs of a variadic operator: `argc` of them (call form), else down to a mark or the frame. */
export function popVariadic (m: Machine, op: string, argc: number | null): ArrowValue[] {
  const st = m.stack
  if (argc !== null) {
    m.need(op, argc)
    return st.splice(st.length - argc, argc)
  }
  let i = st.length - 1
  while (i >= m.floor && !isMark(st[i] as ArrowValue)) i--
  if (i >= m.floor) {
    const vals = st.splice(i + 1)
    st.length = i // drop the mark
    return vals
  }
  return st.splice(m.floor)
}

function isMark (v: ArrowValue): boolean {
  return typeName(v) === 'mark'
}

// ---- host operator builders --------------------------------------------------------------------

type AnyFn = (...a: unknown[]) => unknown

/** Call host capability `cap` with already-checked arguments. */
export function callHost (m: Machine, op: string, cap: Capability, ...args: unknown[]): Result {
  const f = capability(m, op, cap) as AnyFn
  return viaHost(op, () => f(...args))
}

/** A host operator without inputs (`ip-address-public`, `domain-name`...). */
export function hostOp0 (opName: string, table: OpTable, effect: string, cap: Capability, aliasOf?: string): Op0 {
  return { name: opName, table, effect, inputs: 0, ...(aliasOf === undefined ? {} : { aliasOf }), run: m => callHost(m, opName, cap) }
}

/** A host operator taking one name (`connection-hostname(conn)`, `provider(name)`...). */
export function hostOp1 (opName: string, table: OpTable, effect: string, cap: Capability, what: string, aliasOf?: string): Op1 {
  return {
    name: opName, table, effect, inputs: 1, ...(aliasOf === undefined ? {} : { aliasOf }),
    run: (a, m) => callHost(m, opName, cap, name(opName, a, what)),
  }
}

/** A host operator taking two names (`get-hostname(runnable, container)`...). */
export function hostOp2 (opName: string, table: OpTable, effect: string, cap: Capability, what: [string, string], aliasOf?: string): Op2 {
  return {
    name: opName, table, effect, inputs: 2, ...(aliasOf === undefined ? {} : { aliasOf }),
    run: (a, b, m) => callHost(m, opName, cap, name(opName, a, what[0]), name(opName, b, what[1])),
  }
}
