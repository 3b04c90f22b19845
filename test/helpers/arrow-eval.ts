// Evaluation helpers for Arrow tests: run a script with a fake host and variables, compare results as
// plain data, capture ArrowErrors.

import { ArrowError, ArrowFunc, type ArrowValue, type EvalContext, Mark, evaluate } from '../../grammar/arrow/index.js'
import { fakeHost } from './arrow-host.js'

/** Arrow value → plain data for deep comparison (objects get a normal prototype; funcs become "<func>"). */
export function plain (v: ArrowValue): unknown {
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map(plain)
  if (v instanceof ArrowFunc) return '<func>'
  if (v instanceof Mark) return '<mark>'
  const o: Record<string, unknown> = {}
  for (const k of Object.keys(v)) o[k] = plain(v[k] as ArrowValue)
  return o
}

/** Variables of the standard test context. */
export const testVars = new Map<string, ArrowValue>([
  ['host', 'db.local'], ['port', 5432], ['x', 'xv'], ['n', 7], ['flag', true], ['empty-str', ''],
  ['obj', { a: 1, b: { c: 'deep' } } as unknown as ArrowValue], ['list', ['p', 'q']],
])

/** A fresh context with the fake host, the test variables and a deterministic uuid. */
export function testContext (over: Partial<EvalContext> = {}): EvalContext & { calls: ReturnType<typeof fakeHost>['calls'] } {
  const { host, calls } = fakeHost()
  let n = 0
  return { vars: testVars, host, uuid: () => `uuid-${++n}`, ...over, calls }
}

/** Evaluate as a value script and return plain data. */
export async function ev (src: string, ctx: EvalContext = testContext()): Promise<unknown> {
  return plain(await evaluate(src, 'value', ctx))
}

/** Evaluate, expecting an ArrowError; returns it (fails the test if the script succeeds). */
export async function evError (src: string, ctx: EvalContext = testContext(), kind: 'value' | 'code' = 'value'): Promise<ArrowError> {
  try {
    const v = await evaluate(src, kind, ctx)
    throw new Error(`expected ${JSON.stringify(src)} to fail, it gave ${JSON.stringify(plain(v), (_, x) => typeof x === 'bigint' ? `${x}n` : x)}`)
  } catch (e) {
    if (e instanceof ArrowError) return e
    throw e
  }
}
