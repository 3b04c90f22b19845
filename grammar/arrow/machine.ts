// The stack machine: runs compiled code (a list of instructions) over one value stack. Runs
// synchronously until an instruction has to wait (a host operator, a lazily computed variable), then
// continues asynchronously from that instruction; scripts that never wait never allocate a promise.

import type { Span } from './ast.js'
import { MAX_CALL_DEPTH, MAX_CALLS } from './defaults.js'
import { ArrowError } from './errors.js'
import type { ArrowHost } from './host.js'
import type { ArrowValue, FuncCode } from './values.js'

/** Where a script reads `$name`. `get` returns undefined for an unknown name (then `$name` is nil). */
export interface VarLookup {
  get(name: string): ArrowValue | undefined | Promise<ArrowValue>
}

/** What an evaluation may use from its caller. */
export interface EvalContext {
  /** Variables in scope (a Map works). Absent: every variable is nil. */
  vars?: VarLookup
  /** The outside world (host operators). Absent: every host operator fails with `missing-capability`. */
  host?: ArrowHost
  /** Source of `random-uuid` values (inject for deterministic tests). Default: crypto.randomUUID. */
  uuid?: () => string
}

/** One step. Returns a native Promise only when it has to wait; the machine then awaits it. */
export type Instr = (m: Machine) => void | Promise<void>

/** Compiled code of one body: instructions plus, per instruction, its span and operator name (errors). */
export interface Code extends FuncCode {
  readonly source: string
  readonly ins: Instr[]
  readonly spans: Span[]
  readonly names: Array<string | null>
}

/** The state of one evaluation. */
export class Machine {
  readonly stack: ArrowValue[] = []
  /** Values below `floor` belong to an enclosing frame (array item, call argument...) and cannot be popped. */
  floor = 0
  readonly frames: number[] = []
  /** Script-local variables (`set-tmp`, `set`); created on first use. */
  temps: Map<string, ArrowValue> | null = null
  depth = 0
  calls = 0
  readonly vars: VarLookup | undefined
  readonly host: ArrowHost | undefined

  constructor (readonly ctx: EvalContext, readonly sync: boolean) {
    this.vars = ctx.vars
    this.host = ctx.host
  }

  /** `$name`: temporaries first, then the context's variables, else nil. */
  lookup (name: string): ArrowValue | Promise<ArrowValue> {
    const t = this.temps
    if (t !== null) {
      const v = t.get(name)
      if (v !== undefined) return v
    }
    const vars = this.vars
    if (vars === undefined) return null
    const v = vars.get(name)
    return v === undefined ? null : v
  }

  /** Number of values the current frame holds. */
  get depthInFrame (): number { return this.stack.length - this.floor }

  /** Pop one value of the current frame, or fail naming the operator that wanted it. */
  pop (op: string): ArrowValue {
    if (this.stack.length <= this.floor) throw underflow(op, 1, 0)
    return this.stack.pop() as ArrowValue
  }

  /** Ensure the current frame holds at least `n` values. */
  need (op: string, n: number): void {
    const have = this.stack.length - this.floor
    if (have < n) throw underflow(op, n, have)
  }

  enterFrame (): void {
    this.frames.push(this.floor)
    this.floor = this.stack.length
  }

  /** Leave the current frame, dropping it and returning its top value (nil when it pushed nothing). */
  leaveFrame (): ArrowValue {
    const st = this.stack
    const v = st.length > this.floor ? st[st.length - 1] as ArrowValue : null
    st.length = this.floor
    this.floor = this.frames.pop() ?? 0
    return v
  }

  /** Count a function-block invocation against the limits; call `exitCall` when it ends. */
  enterCall (op: string): void {
    if (++this.calls > MAX_CALLS) throw new ArrowError('limit', `${op}: more than ${MAX_CALLS} function-block calls in one evaluation`, { operator: op })
    if (++this.depth > MAX_CALL_DEPTH) throw new ArrowError('limit', `${op}: function blocks nested more than ${MAX_CALL_DEPTH} deep`, { operator: op })
  }

  exitCall (): void { this.depth-- }
}

export function underflow (op: string, need: number, have: number): ArrowError {
  return new ArrowError('stack-underflow', `${op} needs ${need} input${need === 1 ? '' : 's'} but the stack holds ${have}`, { operator: op })
}

/** Run `code` on `m`'s stack. Returns a promise only when some instruction had to wait. */
export function run (code: Code, m: Machine): void | Promise<void> {
  const ins = code.ins
  const n = ins.length
  let pc = 0
  try {
    for (; pc < n; pc++) {
      const r = (ins[pc] as Instr)(m)
      if (r !== undefined) {
        if (m.sync) {
          r.catch(() => {})
          throw new ArrowError('async-in-sync', `${code.names[pc] ?? 'this script'} has to wait (for the host or a variable), which a synchronous evaluation cannot do`)
        }
        return resume(code, m, pc, r)
      }
    }
  } catch (e) {
    throw located(e, code, pc)
  }
}

async function resume (code: Code, m: Machine, pc: number, pending: Promise<void>): Promise<void> {
  try { await pending } catch (e) { throw located(e, code, pc) }
  const ins = code.ins
  for (pc++; pc < ins.length; pc++) {
    try {
      const r = (ins[pc] as Instr)(m)
      if (r !== undefined) await r
    } catch (e) {
      throw located(e, code, pc)
    }
  }
}

/** Give an error the location of instruction `pc` (if it has none yet); wrap anything else as `internal`. */
export function located (e: unknown, code: Code, pc: number): ArrowError {
  const span = code.spans[pc]
  const name = code.names[pc] ?? null
  let err: ArrowError
  if (e instanceof ArrowError) err = e
  else if (e instanceof RangeError && /call stack/i.test(e.message)) err = new ArrowError('limit', 'the script nests too deeply', { cause: e })
  else err = new ArrowError('internal', `internal error${name === null ? '' : ` in ${name}`}: ${(e as Error)?.message ?? String(e)}`, { cause: e })
  if (err.operator === null && name !== null) err.operator = name
  if (span !== undefined) err.at(code.source, span)
  return err
}

/** Run `code` in a fresh frame and return its top value (nil if it pushed nothing). */
export function runFramed (code: Code, m: Machine): ArrowValue | Promise<ArrowValue> {
  m.enterFrame()
  const r = run(code, m)
  if (r === undefined) return m.leaveFrame()
  return r.then(() => m.leaveFrame())
}
