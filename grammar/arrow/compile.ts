// Compilation pass: syntax tree → machine code (closures), resolving operators and reporting problems.
//
// Rules applied here (spec §3.2–3.3):
// - `x op(a, b)` ≡ `x a b op`: call arguments are evaluated (each to one value, in its own frame) and
//   pushed, then the operator runs.
// - A bare unknown word as a whole call argument (`secret(my-key)`) is the string "my-key" (a warning).
// - `if-error`: the terms before it in the same body, back to the previous if-error (minus its fallback:
//   the call arguments, or in the postfix form the term just before it), are protected; if they fail,
//   the stack is put back and the fallback is the value. If nothing fails the fallback is not evaluated.

import type { ArrayLit, Body, ObjectLit, OpCall, Script, Span, TemplateLit, Term, VarRef } from './ast.js'
import { MAX_VALUE_LENGTH } from './defaults.js'
import { ArrowError, type ArrowErrorCode } from './errors.js'
import { opInstr } from './invoke.js'
import { type Code, type Instr, type Machine, run, runFramed } from './machine.js'
import { operatorByName, operatorNames } from './operators/index.js'
import { then } from './operators/types.js'
import {
  type ArrowObject, type ArrowValue, ArrowFunc, isObject, newObject, ownMember, setMember, toS, typeName,
} from './values.js'

/** A problem found while compiling: errors make `compile` fail; warnings are reported by `checkScript`. */
export interface CompileProblem {
  code: ArrowErrorCode | 'bare-word' | 'extra-arguments'
  message: string
  span: Span
  severity: 'error' | 'warning'
}

export interface CompileOutput {
  code: Code
  problems: CompileProblem[]
}

/** Compile a parsed script's body. Never throws: problems are returned (errors compile to a throwing step). */
export function compileScript (script: Script, source: string): CompileOutput {
  const c = new Compiler(source)
  const code = c.body(script.body)
  return { code, problems: c.problems }
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const SAFE_MIN = -9007199254740991n
const SAFE_MAX = 9007199254740991n

class Builder {
  readonly ins: Instr[] = []
  readonly spans: Span[] = []
  readonly names: Array<string | null> = []
  constructor (readonly source: string) {}
  add (i: Instr, span: Span, name: string | null = null): void {
    this.ins.push(i)
    this.spans.push(span)
    this.names.push(name)
  }

  done (): Code {
    return { source: this.source, ins: this.ins, spans: this.spans, names: this.names }
  }
}

/** A literal's value when the term is a constant (folded at compile time), else undefined. */
type Const = { value: ArrowValue } | undefined

class Compiler {
  readonly problems: CompileProblem[] = []
  constructor (readonly source: string) {}

  problem (code: CompileProblem['code'], message: string, span: Span, severity: 'error' | 'warning' = 'error'): void {
    this.problems.push({ code, message, span, severity })
  }

  body (terms: Body): Code {
    const b = new Builder(this.source)
    this.emitBody(b, terms)
    return b.done()
  }

  private emitBody (b: Builder, terms: Body): void {
    // Each if-error protects the terms since the previous if-error of this body (its segment).
    let segment = 0
    for (let j = 0; j < terms.length; j++) {
      const op = terms[j] as Term
      if (op.type !== 'op' || op.name !== 'if-error') continue
      const callForm = op.args !== null && op.args.length > 0
      if (!callForm && j === segment) continue // postfix if-error without a fallback term: plain operator
      const regionEnd = callForm ? j : j - 1
      const region = this.body(terms.slice(segment, regionEnd))
      const fallback = callForm ? this.argsCode(op.args as Body[]) : this.body([terms[j - 1] as Term])
      if (callForm && (op.args as Body[]).length > 1) this.problem('extra-arguments', `if-error takes one fallback value; ${(op.args as Body[]).length} given (the last one is used)`, op.loc, 'warning')
      b.add(protect(region, fallback), nameSpan(op), 'if-error')
      segment = j + 1
    }
    for (const t of terms.slice(segment)) this.term(b, t)
  }

  /** Code pushing each call argument (used as an if-error fallback). */
  private argsCode (args: Body[]): Code {
    const b = new Builder(this.source)
    for (const a of args) this.arg(b, a, null)
    return b.done()
  }

  private term (b: Builder, t: Term): void {
    const k = this.constant(t)
    if (k !== undefined) {
      const v = k.value
      b.add(m => { m.stack.push(v) }, t.loc)
      return
    }
    switch (t.type) {
      case 'var': b.add(varInstr(t), t.loc); return
      case 'template': b.add(this.template(t), t.loc); return
      case 'array': b.add(this.array(t), t.loc); return
      case 'object': b.add(this.object(t), t.loc); return
      case 'op': this.op(b, t); return
      default: throw new Error(`unexpected term ${t.type}`)
    }
  }

  private readonly constants = new WeakMap<Term, Const | null>()

  /** Fold literals (and arrays/objects/blocks made only of literals) into one shared frozen value. */
  private constant (t: Term): Const {
    const known = this.constants.get(t)
    if (known !== undefined) return known ?? undefined
    const k = this.fold(t)
    this.constants.set(t, k ?? null)
    return k
  }

  private fold (t: Term): Const {
    switch (t.type) {
      case 'nil': return { value: null }
      case 'bool': return { value: t.value }
      case 'float': return { value: t.value }
      case 'string': return { value: t.value }
      case 'bigint': return { value: t.value }
      case 'int': return { value: this.int(t.value, t.loc) }
      case 'template':
        if (t.parts.every(p => typeof p === 'string')) return { value: (t.parts as string[]).join('') }
        return undefined
      case 'func': return { value: new ArrowFunc(this.body(t.body), t.loc) }
      case 'array': {
        const vals: ArrowValue[] = []
        for (const item of t.items) {
          const k = item.length === 1 ? this.constant(item[0] as Term) : undefined
          if (k === undefined) return undefined
          vals.push(k.value)
        }
        return { value: Object.freeze(vals) as ArrowValue[] }
      }
      case 'object': {
        const o = newObject()
        for (const e of t.entries) {
          if (e.key.type === 'var') return undefined
          const k = e.value.length === 1 ? this.constant(e.value[0] as Term) : undefined
          if (k === undefined) return undefined
          setMember(o, e.key.type === 'name' ? e.key.name : e.key.value, k.value)
        }
        return { value: Object.freeze(o) }
      }
      default: return undefined
    }
  }

  private int (v: bigint, span: Span): number | bigint {
    if (v < INT64_MIN || v > INT64_MAX) {
      this.problem('bad-number', `integer literal ${v} does not fit in a 64-bit Int (write ${v}n for a BigInt)`, span)
      return 0
    }
    return v >= SAFE_MIN && v <= SAFE_MAX ? Number(v) : v
  }

  private keyValue (k: VarRef['key']): ArrowValue {
    if (k === null) return null
    return k.type === 'string' ? k.value : this.int(k.value, k.loc)
  }

  private template (t: TemplateLit): Instr {
    const getters: Array<(m: Machine) => ArrowValue | Promise<ArrowValue>> = []
    let simple = true
    for (const p of t.parts) {
      if (typeof p === 'string') { getters.push(() => p); continue }
      if (p.type === 'var') {
        if (p.key !== null) simple = false
        getters.push(varGetter(p.name, this.keyValue(p.key)))
      } else {
        simple = false
        const sub = this.body(p.body)
        getters.push(m => runFramed(sub, m))
      }
    }
    if (simple) return simpleTemplate(t.parts as Array<string | VarRef>)
    return m => then(concatParts(m, getters, 0, ''), s => { m.stack.push(s) })
  }

  private array (t: ArrayLit): Instr {
    const items = t.items.map(item => this.itemGetter(item))
    return m => then(collect(m, items, 0, []), vals => { m.stack.push(vals) })
  }

  private object (t: ObjectLit): Instr {
    const keys = t.entries.map(e => {
      const k = e.key
      if (k.type === 'var') return varGetter(k.name, this.keyValue(k.key))
      const s = k.type === 'name' ? k.name : k.value
      return () => s
    })
    const vals = t.entries.map(e => this.itemGetter(e.value))
    return m => then(collect(m, keys, 0, []), ks => then(collect(m, vals, 0, []), vs => {
      const o = newObject()
      for (let i = 0; i < ks.length; i++) setMember(o, toS(ks[i] as ArrowValue), vs[i] as ArrowValue)
      m.stack.push(o)
    }))
  }

  /** A getter for one body whose value is its top: inline for a single simple term, else a frame. */
  private itemGetter (body: Body): (m: Machine) => ArrowValue | Promise<ArrowValue> {
    if (body.length === 1) {
      const t = body[0] as Term
      const k = this.constant(t)
      if (k !== undefined) { const v = k.value; return () => v }
      if (t.type === 'var') return varGetter(t.name, this.keyValue(t.key))
    }
    const sub = this.body(body)
    return m => runFramed(sub, m)
  }

  private op (b: Builder, t: OpCall): void {
    const span = nameSpan(t)
    const def = operatorByName(t.name)
    if (def === undefined) {
      const hint = suggest(t.name)
      const msg = `unknown operator '${t.name}'${hint === null ? '' : ` (did you mean '${hint}'?)`}`
      this.problem('unknown-operator', msg, span)
      b.add(() => { throw new ArrowError('unknown-operator', msg, { operator: t.name }) }, span, t.name)
      return
    }
    const argc = t.args === null ? null : t.args.length
    if (t.args !== null) {
      for (const a of t.args) this.arg(b, a, t)
      const max = def.inputs === 'custom' ? def.maxArgs : def.inputs
      if (max !== undefined && t.args.length > max) {
        this.problem('extra-arguments', `${t.name} takes at most ${max} input${max === 1 ? '' : 's'}; ${t.args.length} arguments given`, span, 'warning')
      }
    }
    b.add(opInstr(def, t.name, argc), span, t.name)
  }

  /** Emit one call argument: exactly one value pushed. */
  private arg (b: Builder, a: Body, op: OpCall | null): void {
    if (a.length === 1) {
      const t = a[0] as Term
      if (t.type === 'op' && t.args === null && operatorByName(t.name) === undefined) {
        // A bare unknown word inside call parentheses is taken as a string (spec §3.2 note).
        const word = t.name
        this.problem('bare-word', `bare word '${word}'${op === null ? '' : ` in ${op.name}(...)`} is taken as the string "${word}"; quote it`, t.loc, 'warning')
        b.add(m => { m.stack.push(word) }, t.loc)
        return
      }
      if (t.type !== 'op') { this.term(b, t); return }
    }
    const sub = this.body(a)
    const span = { start: (a[0] as Term).loc.start, end: (a[a.length - 1] as Term).loc.end }
    b.add(m => then(runFramed(sub, m), v => { m.stack.push(v) }), span)
  }
}

function nameSpan (t: OpCall): Span {
  return { start: t.loc.start, end: t.nameEnd }
}

// ---- instruction helpers -----------------------------------------------------------------------

/** `$name["key"]` member access, with get-member's rules (nil stays nil). */
function memberOf (v: ArrowValue, key: ArrowValue, name: string): ArrowValue {
  if (v === null) return null
  if (Array.isArray(v)) {
    if (typeof key !== 'number') throw new ArrowError('type', `$${name}[${JSON.stringify(key)}]: an array is indexed by an integer`)
    return v[key] ?? null
  }
  if (isObject(v)) return ownMember(v as ArrowObject, toS(key)) ?? null
  throw new ArrowError('type', `$${name}[${typeof key === 'string' ? JSON.stringify(key) : toS(key)}]: $${name} is ${typeName(v) === 'nil' ? 'nil' : `a ${typeName(v)}`}, not an object or an array`)
}

function varGetter (name: string, key: ArrowValue): (m: Machine) => ArrowValue | Promise<ArrowValue> {
  if (key === null) return m => m.lookup(name)
  return m => then(m.lookup(name), v => memberOf(v, key, name))
}

function varInstr (t: VarRef): Instr {
  const name = t.name
  if (t.key === null) {
    return m => {
      const v = m.lookup(name)
      if (v instanceof Promise) return v.then(x => { m.stack.push(x) })
      m.stack.push(v)
    }
  }
  const get = varGetter(name, t.key.type === 'string' ? t.key.value : t.key.value >= SAFE_MIN && t.key.value <= SAFE_MAX ? Number(t.key.value) : t.key.value)
  return m => then(get(m), v => { m.stack.push(v) })
}

/** A backtick string of text and plain `${name}` parts: one loop, no promise unless a variable waits. */
function simpleTemplate (parts: Array<string | VarRef>): Instr {
  const getters = parts.map(p => (typeof p === 'string' ? (() => p) : varGetter(p.name, null)))
  const texts: Array<string | null> = parts.map(p => (typeof p === 'string' ? p : null))
  const names: Array<string | null> = parts.map(p => (typeof p === 'string' ? null : p.name))
  const n = parts.length
  return m => {
    let s = ''
    for (let i = 0; i < n; i++) {
      const text = texts[i]
      if (text !== null) { s += text; continue }
      const v = m.lookup(names[i] as string)
      if (v instanceof Promise) return v.then(x => concatParts(m, getters, i + 1, s + toS(x))).then(r => { m.stack.push(bound(r)) })
      s += toS(v)
    }
    m.stack.push(bound(s))
  }
}

function bound (s: string): string {
  if (s.length > MAX_VALUE_LENGTH) throw new ArrowError('limit', `a backtick string would be ${s.length} characters long (limit ${MAX_VALUE_LENGTH})`)
  return s
}

function concatParts (m: Machine, getters: Array<(m: Machine) => ArrowValue | Promise<ArrowValue>>, from: number, acc: string): string | Promise<string> {
  let s = acc
  for (let i = from; i < getters.length; i++) {
    const v = (getters[i] as (m: Machine) => ArrowValue | Promise<ArrowValue>)(m)
    if (v instanceof Promise) return v.then(x => concatParts(m, getters, i + 1, s + toS(x)))
    s += toS(v)
  }
  return bound(s)
}

function collect (m: Machine, getters: Array<(m: Machine) => ArrowValue | Promise<ArrowValue>>, from: number, acc: ArrowValue[]): ArrowValue[] | Promise<ArrowValue[]> {
  for (let i = from; i < getters.length; i++) {
    const v = (getters[i] as (m: Machine) => ArrowValue | Promise<ArrowValue>)(m)
    if (v instanceof Promise) return v.then(x => { acc.push(x); return collect(m, getters, i + 1, acc) })
    acc.push(v)
  }
  return acc
}

/** Errors `if-error` may replace by its fallback (not safety limits nor interpreter defects). */
function recoverable (e: unknown): boolean {
  return e instanceof ArrowError && e.code !== 'limit' && e.code !== 'internal' && e.code !== 'async-in-sync'
}

function protect (region: Code, fallback: Code): Instr {
  return m => {
    const base = m.stack.length
    const floor = m.floor
    const frames = m.frames.length
    const depth = m.depth
    const recover = (e: unknown): void | Promise<void> => {
      if (!recoverable(e)) throw e
      m.stack.length = base
      m.floor = floor
      m.frames.length = frames
      m.depth = depth
      return then(runFramed(fallback, m), v => { m.stack.push(v) })
    }
    let r: void | Promise<void>
    try { r = run(region, m) } catch (e) { return recover(e) }
    if (r !== undefined) return r.then(undefined, recover)
  }
}

// ---- suggestions for unknown operators ---------------------------------------------------------

let names: string[] | null = null

/** The closest operator name (edit distance ≤ 2), for "did you mean". */
export function suggest (word: string): string | null {
  names ??= operatorNames()
  let best: string | null = null
  let bestD = 3
  for (const n of names) {
    if (Math.abs(n.length - word.length) >= bestD) continue
    const d = distance(word, n, bestD)
    if (d < bestD) { bestD = d; best = n }
  }
  return best
}

function distance (a: string, b: string, cap: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1))
      cur.push(v)
      if (v < rowMin) rowMin = v
    }
    if (rowMin >= cap) return cap
    prev = cur
  }
  return prev[b.length] as number
}
