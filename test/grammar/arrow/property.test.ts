// Property tests with a seeded PRNG: printing a parsed script and parsing it again gives the same tree;
// 10,000 random scripts never make the parser, checker or evaluator throw anything but an ArrowError
// (and never an `internal` one).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

import {
  ArrowError, type ArrowValue, type EvalContext, checkScript, compile, parseScript, printScript,
} from '../../../grammar/arrow/index.js'
import { fakeHost } from '../../helpers/arrow-host.js'
import { mutate, script } from '../../helpers/arrow-gen.js'
import { Random } from '../../helpers/arrow-random.js'

const SEED = Number(process.env.ARROW_SEED ?? 20240611)

function shape (x: unknown): unknown {
  if (Array.isArray(x)) return x.map(shape)
  if (x !== null && typeof x === 'object') {
    const o: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(x)) if (k !== 'loc' && k !== 'nameEnd') o[k] = shape(v)
    return o
  }
  return x
}

function tryParse (src: string, kind: 'value' | 'code'): ReturnType<typeof parseScript> | null {
  try { return parseScript(src, kind) } catch (e) {
    if (e instanceof ArrowError) return null
    throw new Error(`parser threw a non-ArrowError for ${JSON.stringify(src)}: ${String(e)}`)
  }
}

const Props = suite('arrow properties')

Props('print → parse gives the same tree (2,000 generated and 2,000 mutated scripts)', () => {
  const r = new Random(SEED)
  let checked = 0
  for (let i = 0; i < 4000; i++) {
    const kind = r.chance(0.5) ? 'value' : 'code'
    const src = i < 2000 ? script(r) : mutate(r, script(r))
    const ast = tryParse(src, kind)
    if (ast === null) continue
    const printed = printScript(ast)
    const again = tryParse(printed, kind)
    assert.ok(again !== null, `printed form does not parse (seed ${SEED}, #${i}):\n  source:  ${JSON.stringify(src)}\n  printed: ${JSON.stringify(printed)}`)
    assert.equal(shape(again), shape(ast), `tree changed (seed ${SEED}, #${i}): ${JSON.stringify(src)} → ${JSON.stringify(printed)}`)
    assert.is(printScript(again), printed, `printing is not stable for ${JSON.stringify(printed)}`)
    checked++
  }
  // Most generated scripts are well formed: the property is not vacuous.
  assert.ok(checked > 2200, `only ${checked} scripts parsed`)
})

function fuzzContext (sync: boolean): EvalContext {
  const { host } = fakeHost({ sync })
  // Actions always succeed here, so wait-for never loops over many attempts.
  host.act = (path: string, a: ArrowValue) => ({ path, a } as unknown as ArrowValue)
  const vars = new Map<string, ArrowValue>([['host', 'h'], ['port', 80], ['x', 'xv'], ['n', 3], ['list', ['a', 'b']], ['args', { a: 1, user: 'u' } as unknown as ArrowValue]])
  return { host, vars, uuid: () => 'u-1' }
}

function expectArrowError (e: unknown, what: string, src: string): void {
  if (!(e instanceof ArrowError)) throw new Error(`${what} threw a non-ArrowError for ${JSON.stringify(src)}: ${(e as Error)?.stack ?? String(e)}`)
  if (e.code === 'internal') throw new Error(`${what} hit an internal error for ${JSON.stringify(src)}: ${e.message}\n${(e.cause as Error)?.stack ?? ''}`)
}

Props('10,000 random scripts: parser, checker and evaluator only ever fail with ArrowError', async () => {
  const r = new Random(SEED + 1)
  const outcomes = { syntax: 0, compiled: 0, ok: 0, failed: 0 }
  for (let i = 0; i < 10_000; i++) {
    const kind = r.chance(0.7) ? 'value' : 'code'
    const src = r.chance(0.5) ? script(r) : mutate(r, script(r))
    let diags
    try { diags = checkScript(src, kind) } catch (e) { throw new Error(`checkScript threw for ${JSON.stringify(src)}: ${String(e)}`) }
    for (const d of diags) assert.ok(d.offset >= 0 && d.offset <= src.length, `offset out of range for ${JSON.stringify(src)}`)
    let compiled
    try { compiled = compile(src, kind) } catch (e) {
      expectArrowError(e, 'compile', src)
      assert.ok(diags.some(d => d.severity === 'error'), `compile failed but checkScript found no error: ${JSON.stringify(src)}`)
      outcomes.syntax++
      continue
    }
    outcomes.compiled++
    try {
      await compiled.run(fuzzContext(false))
      outcomes.ok++
    } catch (e) {
      expectArrowError(e, 'evaluate', src)
      outcomes.failed++
    }
    try { compiled.runSync(fuzzContext(true)) } catch (e) { expectArrowError(e, 'runSync', src) }
  }
  // The mix exercised every path: parse failures, successful and failing evaluations.
  assert.ok(outcomes.syntax > 1000 && outcomes.ok > 1000 && outcomes.failed > 1000, JSON.stringify(outcomes))
})

Props.run()
