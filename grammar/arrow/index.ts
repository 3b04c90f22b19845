// Public entry of the Arrow language: compile (cached by source), evaluate, check, Go-template rendering.

import { COMPILE_CACHE_SIZE } from './defaults.js'
import { ArrowError } from './errors.js'
import type { EvalContext } from './machine.js'
import type { ScriptKind } from './parse.js'
import { CompiledScript } from './script.js'
import type { ArrowValue } from './values.js'

export type { Script, Term, Body, Span } from './ast.js'
export { ArrowError, arrowErrorCodes, type ArrowErrorCode, type ArrowLocation } from './errors.js'
export type { ArrowHost, Awaitable, Capability, HttpOptions } from './host.js'
export type { EvalContext, VarLookup } from './machine.js'
export type { ScriptKind } from './parse.js'
export { parseScript } from './parse.js'
export { printScript } from './print.js'
export { CompiledScript } from './script.js'
export { checkTemplate, renderTemplate, templateReads, type TemplateLookup } from './gotemplate.js'
export { variableReads, type VariableRead } from './refs.js'
export { allOperators, operatorByName, operatorNames } from './operators/index.js'
export {
  type ArrowObject, type ArrowValue, ArrowFunc, Mark, equal, fromPlain, toJSONText, toPlain, toS, truthy, typeName,
} from './values.js'

/** One problem of a script found without running it (what `monk lint` reports). */
export interface ScriptDiagnostic {
  /** `syntax`, `unknown-operator`, `bad-number`, `limit` (errors); `bare-word`, `extra-arguments` (warnings). */
  code: string
  message: string
  /** Index into the checked source string (the whole YAML scalar, leading `<-` and blanks included). */
  offset: number
  severity: 'error' | 'warning'
}

const caches: Record<ScriptKind, Map<string, CompiledScript | ArrowError>> = { value: new Map(), code: new Map() }

function remember (kind: ScriptKind, source: string, entry: CompiledScript | ArrowError): void {
  const cache = caches[kind]
  if (cache.size >= COMPILE_CACHE_SIZE) {
    const oldest = cache.keys().next()
    if (oldest.done !== true) cache.delete(oldest.value)
  }
  cache.set(source, entry)
}

/** Compile the code a two-stage code field produced; errors say they are in generated code. */
function compileGenerated (source: string): CompiledScript {
  try {
    return compile(source, 'code')
  } catch (e) {
    if (!(e instanceof ArrowError)) throw e
    const wrapped = new ArrowError(e.code, `in the code produced by a '<-' code field: ${e.message}`, { cause: e })
    wrapped.location = e.location
    wrapped.source = e.source
    wrapped.operator = e.operator
    throw wrapped
  }
}

/**
 * Compile `source` (cached by source and kind: compiling the same text again returns the same object,
 * and a failing text fails again with the same error without re-parsing).
 * - `value`: an arrow value; a leading `<-` is optional.
 * - `code`: a code field (`actions.*.code`, `checks.*.code`, `scale.value`); if it starts with `<-`, its
 *   string result is compiled and run as the code (spec §2.7.6).
 * Throws ArrowError (`syntax`, `unknown-operator`, ...) with the location in `source`.
 */
export function compile (source: string, kind: ScriptKind): CompiledScript {
  const hit = caches[kind].get(source)
  if (hit !== undefined) {
    if (hit instanceof ArrowError) throw hit
    return hit
  }
  try {
    const compiled = CompiledScript.compile(source, kind, compileGenerated)
    remember(kind, source, compiled)
    return compiled
  } catch (e) {
    if (e instanceof ArrowError) remember(kind, source, e)
    throw e
  }
}

/** Evaluate a script; always a promise. */
export async function evaluate (source: string, kind: ScriptKind, ctx: EvalContext = {}): Promise<ArrowValue> {
  return await compile(source, kind).run(ctx)
}

/**
 * Evaluate a script, returning the value directly when no operator had to wait (the fast path; no
 * promise is created), else a promise.
 */
export function run (source: string, kind: ScriptKind, ctx: EvalContext = {}): ArrowValue | Promise<ArrowValue> {
  return compile(source, kind).run(ctx)
}

/** Evaluate synchronously; an operator that has to wait for the host fails with `async-in-sync`. */
export function evaluateSync (source: string, kind: ScriptKind, ctx: EvalContext = {}): ArrowValue {
  return compile(source, kind).runSync(ctx)
}

/**
 * Check a script without running it: syntax errors, unknown operators and out-of-range literals
 * (errors), bare words taken as strings and extra call arguments (warnings). For a code field that
 * starts with `<-` only the first stage can be checked (the code it builds is known at run time).
 */
export function checkScript (source: string, kind: ScriptKind): ScriptDiagnostic[] {
  let problems
  try {
    problems = CompiledScript.problems(source, kind)
  } catch (e) {
    if (!(e instanceof ArrowError)) throw e
    return [{ code: e.code, message: e.message, offset: e.location?.offset ?? 0, severity: 'error' }]
  }
  return problems.map(p => ({ code: p.code, message: p.message, offset: p.span.start, severity: p.severity }))
}

/** Drop every cached compiled script (tests, benchmarks of cold compiles). */
export function clearCompileCache (): void {
  caches.value.clear()
  caches.code.clear()
}
