// CompiledScript: a parsed and compiled Arrow script, ready to run any number of times.

import type { Script } from './ast.js'
import { type CompileProblem, compileScript } from './compile.js'
import { ArrowError } from './errors.js'
import { type Code, type EvalContext, Machine, run } from './machine.js'
import { type ScriptKind, parseScript } from './parse.js'
import { type ArrowValue, Mark, describe } from './values.js'

/** Compiles the code a two-stage code field produced (supplied by index.ts, which owns the cache). */
export type CodeCompiler = (source: string) => CompiledScript

/** Deepest chain of code fields producing code (`<-` code that yields `<-` code...). */
const MAX_STAGES = 4

/** Compiling recurses over the tree: a tree too deep for the JS stack is a `limit` error. */
function guardDepth<T> (source: string, f: () => T): T {
  try { return f() } catch (e) {
    if (e instanceof RangeError) throw new ArrowError('limit', 'the script nests too deeply to compile', { cause: e }).at(source, { start: 0, end: 1 })
    throw e
  }
}

export class CompiledScript {
  /** Warnings found while compiling (bare words, extra arguments). Errors make compiling fail instead. */
  readonly warnings: CompileProblem[]
  /** True for a code field written `<- ...`: its string result is the code to run (spec §2.7.6). */
  readonly twoStage: boolean
  private readonly code: Code

  private constructor (readonly source: string, readonly kind: ScriptKind, readonly ast: Script, code: Code,
    warnings: CompileProblem[], private readonly compileCode: CodeCompiler) {
    this.code = code
    this.warnings = warnings
    this.twoStage = kind === 'code' && ast.prefix
  }

  /**
   * Parse and compile. Throws the first error as an ArrowError (syntax, unknown operator...).
   * `compileCode` compiles generated code of two-stage code fields.
   */
  static compile (source: string, kind: ScriptKind, compileCode: CodeCompiler): CompiledScript {
    const ast = parseScript(source, kind)
    const { code, problems } = guardDepth(source, () => compileScript(ast, source))
    const first = problems.find(p => p.severity === 'error')
    if (first !== undefined) throw new ArrowError(first.code as ArrowError['code'], first.message).at(source, first.span)
    return new CompiledScript(source, kind, ast, code, problems, compileCode)
  }

  /** Parse and compile, returning every problem instead of throwing (for load-time checks). */
  static problems (source: string, kind: ScriptKind): CompileProblem[] {
    const ast = parseScript(source, kind)
    return guardDepth(source, () => compileScript(ast, source)).problems
  }

  /**
   * Run. Returns the value directly when no step had to wait, else a promise. Failures are ArrowErrors
   * (thrown, or rejected when the evaluation had already gone asynchronous).
   */
  run (ctx: EvalContext): ArrowValue | Promise<ArrowValue> {
    return this.exec(ctx, false, 0)
  }

  /** Run synchronously; an operator that has to wait fails with `async-in-sync`. */
  runSync (ctx: EvalContext): ArrowValue {
    return this.exec(ctx, true, 0) as ArrowValue
  }

  /** Run, always answering with a promise. */
  async evaluate (ctx: EvalContext): Promise<ArrowValue> {
    return await this.exec(ctx, false, 0)
  }

  private exec (ctx: EvalContext, sync: boolean, stage: number): ArrowValue | Promise<ArrowValue> {
    const m = new Machine(ctx, sync)
    const r = run(this.code, m)
    if (r === undefined) return this.finish(m, ctx, sync, stage)
    return r.then(() => this.finish(m, ctx, sync, stage))
  }

  private finish (m: Machine, ctx: EvalContext, sync: boolean, stage: number): ArrowValue | Promise<ArrowValue> {
    const st = m.stack
    let top = st.length > 0 ? st[st.length - 1] as ArrowValue : null
    if (top instanceof Mark) top = null
    if (!this.twoStage) return top
    if (typeof top !== 'string') {
      throw new ArrowError('code-not-string', `this code field starts with '<-', so its value must be a string of code; it produced ${describe(top)}`)
        .at(this.source, { start: this.ast.loc.start, end: this.ast.loc.end })
    }
    if (stage + 1 >= MAX_STAGES) {
      throw new ArrowError('limit', `code fields produced code ${MAX_STAGES} times in a row`).at(this.source, this.ast.loc)
    }
    const next = this.compileCode(top)
    return next.exec(ctx, sync, stage + 1)
  }
}
