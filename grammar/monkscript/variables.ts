// Variable scope of a runnable (spec §2.6): which value `$name` has, in this order:
//   1. runtime overrides (`--set`, already scoped to this runnable by the caller);
//   2. the runnable's own variables (inheritance already applied by the loader);
//   3. variables of the enclosing groups / process-groups, innermost first (fallback);
//   4. built-ins (`monk-volume-path` and its older spellings, `args` in actions);
//   5. otherwise nil.
// A declaration is a shorthand scalar (`port: 8080`, `host: <- connection-hostname("db")`) or a full
// spec `{type, value, env, description, required}`. A level that declares a variable without a value
// keeps looking further out for the value but contributes its type, env and required flag (the nearest
// declaration that states a field wins). Values are coerced to the declared type; arrow values are
// evaluated lazily, on first read, in the same scope.
//
// Pure: no I/O. The daemon and `monk eval --in` share it.

import {
  ArrowError, type ArrowValue, type EvalContext, type VarLookup, compile, fromPlain, toS,
} from '../arrow/index.js'
import type { MapValue, Value } from './types.js'

export type VarType = 'string' | 'int' | 'float' | 'bool' | 'bigint'
const varTypes: ReadonlySet<string> = new Set(['string', 'int', 'float', 'bool', 'bigint'])

/** Where a variable's value came from. */
export type VarOrigin = 'override' | 'own' | 'group' | 'builtin'

/** One variable as the runnable sees it. */
export interface ScopeEntry {
  name: string
  origin: VarOrigin
  /** For origin `group`: index into the `groups` given to buildScope (0 = innermost). */
  group: number | null
  type: VarType | null
  /**
   * The value as written (a string starting with `<-` is an arrow script), a built-in's value, or
   * undefined when no level gives one (then `$name` is nil).
   */
  value: Value | ArrowValue | undefined
  /** Environment variable name the value is exported under (may itself be an arrow script), or null. */
  env: string | null
  required: boolean
  description: string | null
}

/** A problem with a declaration (reported, never fatal: the variable still resolves). */
export interface ScopeProblem {
  variable: string
  code: 'variable-unknown-type' | 'variable-bad-spec'
  message: string
}

/** The resolved scope: one entry per visible variable name. */
export class Scope {
  constructor (readonly entries: ReadonlyMap<string, ScopeEntry>, readonly problems: readonly ScopeProblem[]) {}
  get (name: string): ScopeEntry | undefined { return this.entries.get(name) }
  has (name: string): boolean { return this.entries.has(name) }
  names (): string[] { return [...this.entries.keys()] }
}

/** One declaration, normalised (fields absent at this level are undefined). */
interface Decl {
  type: VarType | null | undefined
  value: Value | undefined
  env: string | null | undefined
  required: boolean | undefined
  description: string | null | undefined
}

const specKeys = ['type', 'value', 'env', 'description', 'required']

function isMap (v: Value | undefined): v is MapValue {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Normalise one declaration. A map with none of the spec keys is a literal object value. */
function declaration (name: string, spec: Value, problems: ScopeProblem[]): Decl {
  if (!isMap(spec) || !specKeys.some(k => k in spec)) {
    return { type: undefined, value: spec, env: undefined, required: undefined, description: undefined }
  }
  let type: VarType | null | undefined
  if ('type' in spec) {
    const t = spec.type
    if (typeof t === 'string' && varTypes.has(t)) type = t as VarType
    else {
      type = null
      problems.push({ variable: name, code: 'variable-unknown-type', message: `variable ${name}: unknown type ${JSON.stringify(t)} (expected string, int, float, bool or bigint); its value is not converted` })
    }
  }
  let env: string | null | undefined
  if ('env' in spec) {
    const e = spec.env
    if (typeof e === 'string' && e !== '') env = e
    else if (e === null || e === '') env = null
    else problems.push({ variable: name, code: 'variable-bad-spec', message: `variable ${name}: env must be a name (string), got ${JSON.stringify(e)}` })
  }
  let required: boolean | undefined
  if ('required' in spec) {
    const r = spec.required
    if (typeof r === 'boolean') required = r
    else if (r === 'true' || r === 'false') required = r === 'true'
    else problems.push({ variable: name, code: 'variable-bad-spec', message: `variable ${name}: required must be true or false, got ${JSON.stringify(r)}` })
  }
  const description = 'description' in spec ? (spec.description === null ? null : String(spec.description)) : undefined
  // `value: null` (or an empty `value:`) states no value: the variable keeps looking further out.
  const value = 'value' in spec && spec.value !== null ? spec.value : undefined
  return { type, value, env, required, description }
}

function declarations (node: MapValue, problems: ScopeProblem[]): Map<string, Decl> {
  const out = new Map<string, Decl>()
  const vars = node.variables
  if (vars === undefined || vars === null) return out
  if (!isMap(vars)) {
    problems.push({ variable: '', code: 'variable-bad-spec', message: `variables must be a mapping of name → value or spec, got ${Array.isArray(vars) ? 'a list' : typeof vars}` })
    return out
  }
  for (const [name, spec] of Object.entries(vars)) out.set(name, declaration(name, spec, problems))
  return out
}

/**
 * Build the scope of a runnable (or any node with `variables`).
 * @param node the node's value with inheritance applied (`LoadResult.resolve(path).value`)
 * @param groups the resolved values of its enclosing groups, innermost first (`LoadResult.groupsOf`)
 * @param overrides `--set` values addressed to this node (strings, converted to the declared type)
 * @param builtins values of built-in variables (see `builtinVariables`)
 */
export function buildScope (node: MapValue, groups: readonly MapValue[] = [], overrides: Readonly<Record<string, string>> = {},
  builtins: Readonly<Record<string, ArrowValue>> = {}): Scope {
  const problems: ScopeProblem[] = []
  const levels = [declarations(node, problems), ...groups.map(g => declarations(g, problems))]
  const names = new Set<string>()
  for (const level of levels) for (const n of level.keys()) names.add(n)
  for (const n of Object.keys(overrides)) names.add(n)
  for (const n of Object.keys(builtins)) names.add(n)

  const entries = new Map<string, ScopeEntry>()
  for (const name of names) {
    const e: ScopeEntry = { name, origin: 'own', group: null, type: null, value: undefined, env: null, required: false, description: null }
    let typeSet = false
    let envSet = false
    let requiredSet = false
    let descriptionSet = false
    let valueSet = false
    levels.forEach((level, i) => {
      const d = level.get(name)
      if (d === undefined) return
      if (!typeSet && d.type !== undefined) { e.type = d.type; typeSet = true }
      if (!envSet && d.env !== undefined) { e.env = d.env; envSet = true }
      if (!requiredSet && d.required !== undefined) { e.required = d.required; requiredSet = true }
      if (!descriptionSet && d.description !== undefined) { e.description = d.description; descriptionSet = true }
      if (!valueSet && d.value !== undefined) {
        e.value = d.value
        e.origin = i === 0 ? 'own' : 'group'
        e.group = i === 0 ? null : i - 1
        valueSet = true
      }
    })
    if (Object.prototype.hasOwnProperty.call(overrides, name)) {
      e.value = overrides[name] as string
      e.origin = 'override'
      e.group = null
    } else if (!valueSet && Object.prototype.hasOwnProperty.call(builtins, name)) {
      e.value = builtins[name] as ArrowValue
      e.origin = 'builtin'
    } else if (!valueSet) {
      // Declared somewhere but valued nowhere: report where it is declared.
      e.origin = levels[0]?.has(name) === true ? 'own' : 'group'
      if (e.origin === 'group') e.group = levels.findIndex(l => l.has(name)) - 1
    }
    entries.set(name, e)
  }
  return new Scope(entries, problems)
}

/**
 * Built-in variables (spec §2.5): the volume base directory under its current and older names, and
 * the arguments of an action when one runs.
 */
export function builtinVariables (opts: { volumePath?: string, args?: Record<string, ArrowValue> } = {}): Record<string, ArrowValue> {
  const out: Record<string, ArrowValue> = {}
  if (opts.volumePath !== undefined) {
    out['monk-volume-path'] = opts.volumePath
    out['moncc-volume-path'] = opts.volumePath
    out['volume-path'] = opts.volumePath
  }
  if (opts.args !== undefined) out.args = fromPlain(opts.args)
  return out
}

/** Names of `required` variables that have no value at any level (run must fail, spec §2.6). */
export function missingRequired (scope: Scope): string[] {
  const out: string[] = []
  for (const e of scope.entries.values()) if (e.required && (e.value === undefined || e.value === null)) out.push(e.name)
  return out
}

/** A variable exported into the containers: `env` is a name, or an arrow script computing the name. */
export interface EnvBinding {
  variable: string
  env: string
  envIsScript: boolean
}

/** Variables bound to environment variables (`env:`), in scope order. */
export function envBindings (scope: Scope): EnvBinding[] {
  const out: EnvBinding[] = []
  for (const e of scope.entries.values()) {
    if (e.env === null) continue
    out.push({ variable: e.name, env: e.env, envIsScript: isScript(e.env) })
  }
  return out
}

function isScript (v: unknown): v is string {
  return typeof v === 'string' && v.trimStart().startsWith('<-')
}

/**
 * Convert a value to a declared type (spec §2.6: values are coerced). nil stays nil. Variables and
 * action arguments (spec §2.7.7) share it, so `yes` is a bool for both.
 */
export function coerce (name: string, type: VarType | null, v: ArrowValue, what: 'variable' | 'argument' = 'variable'): ArrowValue {
  if (type === null || v === null) return v
  const bad = (): never => {
    throw new ArrowError(what === 'variable' ? 'variable-type' : 'bad-argument', `${what} ${name} is declared ${type} but its value ${JSON.stringify(toS(v))} is not ${type === 'int' ? 'an int' : `a ${type}`}`)
  }
  switch (type) {
    case 'string':
      return typeof v === 'string' ? v : toS(v)
    case 'int': {
      if (typeof v === 'number') return Number.isInteger(v) ? v : bad()
      if (typeof v === 'bigint') return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v
      if (typeof v === 'string' && /^\s*[+-]?(?:0x[0-9a-f]+|0b[01]+|0o[0-7]+|\d+)\s*$/i.test(v)) {
        const t = v.trim()
        const b = t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t.replace(/^\+/, ''))
        return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b
      }
      return bad()
    }
    case 'float': {
      if (typeof v === 'number') return v
      if (typeof v === 'bigint') return Number(v)
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
      return bad()
    }
    case 'bool': {
      if (typeof v === 'boolean') return v
      if (v === 0 || v === 1) return v === 1
      if (typeof v === 'string') {
        const t = v.trim().toLowerCase()
        if (['true', 'yes', 'on', '1'].includes(t)) return true
        if (['false', 'no', 'off', '0', ''].includes(t)) return false
      }
      return bad()
    }
    case 'bigint': {
      if (typeof v === 'bigint') return v
      if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
      if (typeof v === 'string' && /^\s*[+-]?\d+n?\s*$/.test(v)) return BigInt(v.trim().replace(/n$/, ''))
      return bad()
    }
  }
}

interface Pending { promise: Promise<ArrowValue>; waitingOn: string | null }

/**
 * A `VarLookup` over a scope: literal values are converted (and coerced) on first read, arrow values
 * evaluated on first read with `ctx` (host, uuid) in this same scope, then cached. A variable whose
 * value depends on itself fails with `variable-cycle`, also when the dependency goes through the host.
 */
export class ScopeVars implements VarLookup {
  private readonly done = new Map<string, ArrowValue>()
  private readonly pending = new Map<string, Pending>()

  constructor (readonly scope: Scope, readonly ctx: Omit<EvalContext, 'vars'> = {}) {}

  get (name: string): ArrowValue | undefined | Promise<ArrowValue> {
    return this.read(name, [])
  }

  /** Evaluate every variable (sequentially, in scope order). */
  async all (): Promise<Map<string, ArrowValue>> {
    const out = new Map<string, ArrowValue>()
    for (const name of this.scope.entries.keys()) out.set(name, (await this.read(name, [])) ?? null)
    return out
  }

  private read (name: string, chain: readonly string[]): ArrowValue | undefined | Promise<ArrowValue> {
    const hit = this.done.get(name)
    if (hit !== undefined) return hit
    const e = this.scope.get(name)
    if (e === undefined) return undefined
    if (chain.includes(name)) throw cycle([...chain, name])
    const p = this.pending.get(name)
    if (p !== undefined) {
      // Waiting on a variable being computed elsewhere: fail if it (transitively) waits on us.
      const seen = new Set<string>()
      let at: string | null = name
      while (at !== null && !seen.has(at)) {
        if (chain.includes(at)) throw cycle([...chain, name])
        seen.add(at)
        at = this.pending.get(at)?.waitingOn ?? null
      }
      const head = chain[chain.length - 1]
      const mine = head === undefined ? undefined : this.pending.get(head)
      if (mine !== undefined) mine.waitingOn = name
      return p.promise.finally(() => { if (mine !== undefined && mine.waitingOn === name) mine.waitingOn = null })
    }
    if (e.origin !== 'override' && e.origin !== 'builtin' && isScript(e.value)) return this.evaluate(e, e.value, [...chain, name])
    const v = coerce(name, e.type, e.value === undefined ? null : e.origin === 'builtin' ? e.value as ArrowValue : fromPlain(e.value))
    this.done.set(name, v)
    return v
  }

  private evaluate (e: ScopeEntry, source: string, chain: string[]): ArrowValue | Promise<ArrowValue> {
    const vars: VarLookup = { get: n => this.read(n, chain) }
    const finish = (v: ArrowValue): ArrowValue => {
      const c = coerce(e.name, e.type, v)
      this.done.set(e.name, c)
      return c
    }
    let r: ArrowValue | Promise<ArrowValue>
    try { r = compile(source, 'value').run({ ...this.ctx, vars }) } catch (err) { throw inVariable(e.name, err) }
    if (!(r instanceof Promise)) return finish(r)
    const entry: Pending = { promise: r.then(finish, err => { throw inVariable(e.name, err) }), waitingOn: null }
    this.pending.set(e.name, entry)
    entry.promise.then(() => this.pending.delete(e.name), () => this.pending.delete(e.name))
    return entry.promise
  }
}

/** Say which variable's script failed (the location stays inside that script). */
function inVariable (name: string, err: unknown): unknown {
  if (!(err instanceof ArrowError) || err.code === 'variable-cycle' || err.message.startsWith('variable ')) return err
  const wrapped = new ArrowError(err.code, `variable ${name}: ${err.message}`, { cause: err })
  wrapped.location = err.location
  wrapped.source = err.source
  wrapped.operator = err.operator
  return wrapped
}

function cycle (chain: string[]): ArrowError {
  return new ArrowError('variable-cycle', `variable ${chain[0]} depends on itself: ${chain.map(n => `$${n}`).join(' → ')}`)
}

/** Evaluate the `env` bindings: environment name → value text (a binding whose name is nil or "" is skipped). */
export async function resolveEnv (vars: ScopeVars): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const b of envBindings(vars.scope)) {
    const envName = b.envIsScript ? await compile(b.env, 'value').run({ ...vars.ctx, vars }) : b.env
    if (envName === null || envName === '') continue
    out[toS(envName)] = toS((await vars.get(b.variable)) ?? null)
  }
  return out
}
