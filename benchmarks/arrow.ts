// How fast are Arrow scripts parsed, and evaluated once compiled (cached), next to a hand-written JS
// closure computing the same value from the same variables (the floor)?
// Targets: cached eval of `$a default("x")` >= 1,000,000/s; eval/closure ratio <= 20 in every case;
// parse >= 100,000/s.  Usage: npm run bench -- arrow [--rounds N] [--ms M]
import { mkdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  type ArrowValue, CompiledScript, type EvalContext, clearCompileCache, compile, evaluate, evaluateSync, parseScript,
} from '../grammar/arrow/index.js'

const root = resolve(import.meta.dirname, '..')
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name)
  return i > 0 ? Number(process.argv[i + 1]) : dflt
}
const rounds = arg('--rounds', 9)
const roundMs = arg('--ms', 100)

type Vars = Map<string, ArrowValue>
interface Case { name: string; source: string; closure: (ctx: { vars: Vars }) => ArrowValue }

const vars: Vars = new Map<string, ArrowValue>([
  ['host', 'db.local'], ['port', 5432], ['db', 'orders'], ['user', 'app'], ['hostname', 'pg.shop-db.dns.podman'],
])
const ctx: EvalContext & { vars: Vars } = { vars }

const cases: Case[] = [
  {
    name: '$a default("x")',
    source: '$a default("x")',
    closure: c => { const v = c.vars.get('a'); return v === undefined || v === null || v === '' ? 'x' : v },
  },
  {
    name: 'backtick, 3 variables',
    source: '`${host}:${port}/${db}`',
    closure: c => `${String(c.vars.get('host') ?? '')}:${String(c.vars.get('port') ?? '')}/${String(c.vars.get('db') ?? '')}`,
  },
  {
    name: 'concat-all of 5 parts',
    source: '"postgres://" $user "@" $host concat-all',
    closure: c => 'postgres://' + String(c.vars.get('user') ?? '') + '@' + String(c.vars.get('host') ?? ''),
  },
  {
    name: 'split/join pipeline',
    source: '$hostname split(".dns.podman") join("")',
    closure: c => String(c.vars.get('hostname')).split('.dns.podman').join(''),
  },
]

/**
 * Time every function in `fns` for `roundMs` per round, interleaved round by round (so a load spike on
 * the shared machine hits all of them alike); returns ops/s per round for each, sorted.
 */
function measureAll (fns: Array<() => unknown>): number[][] {
  let sink = 0
  for (const fn of fns) {
    const warm = Date.now() + 300
    while (Date.now() < warm) for (let i = 0; i < 1000; i++) sink ^= (fn() as string | null)?.length ?? 1
  }
  const out: number[][] = fns.map(() => [])
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, k) => {
      // No forced gc() between rounds: a forced full GC shrinks the young generation, and the
      // allocation-heavy parser then runs 5-20x slower until it grows back (measured).
      let n = 0
      const t0 = process.hrtime.bigint()
      const until = t0 + BigInt(roundMs) * 1_000_000n
      let t = t0
      while (t < until) {
        for (let i = 0; i < 2000; i++) sink ^= (fn() as string | null)?.length ?? 1
        n += 2000
        t = process.hrtime.bigint()
      }
      out[k]?.push(n / (Number(t - t0) / 1e9))
    })
  }
  if (sink === 0.5) console.log('')
  return out.map(xs => xs.sort((a, b) => a - b))
}
const p50 = (xs: number[]): number => xs[Math.floor(xs.length / 2)] ?? NaN
const p10 = (xs: number[]): number => xs[Math.floor(xs.length / 10)] ?? NaN

// Setup check: every script computes exactly what its closure computes.
for (const c of cases) {
  const got = evaluateSync(c.source, 'value', ctx)
  const want = c.closure(ctx)
  if (got !== want) throw new Error(`setup failed: ${c.name} gave ${String(got)}, closure ${String(want)}`)
}

interface Row {
  case: string
  parse_per_s: number
  compile_per_s: number
  eval_per_s: number
  eval_p10_per_s: number
  eval_async_per_s: number
  closure_per_s: number
  ratio: number
}
// Warm-up: the generated parser is one large function that V8 takes a while to optimise (longer on a
// busy machine); without this the first case's parse rate is measured before it is compiled.
{
  const until = Date.now() + 2000
  while (Date.now() < until) for (const c of cases) for (let i = 0; i < 200; i++) CompiledScript.compile(c.source, 'value', s => compile(s, 'code'))
}

const rows: Row[] = []
for (const c of cases) {
  clearCompileCache()
  compile(c.source, 'value')
  const [parse, cold, ev, closure] = measureAll([
    () => parseScript(c.source, 'value'),
    () => CompiledScript.compile(c.source, 'value', s => compile(s, 'code')),
    () => evaluateSync(c.source, 'value', ctx),
    () => c.closure(ctx),
  ]) as [number[], number[], number[], number[]]
  rows.push({
    case: c.name,
    parse_per_s: p50(parse),
    compile_per_s: p50(cold),
    eval_per_s: p50(ev),
    eval_p10_per_s: p10(ev),
    eval_async_per_s: NaN,
    closure_per_s: p50(closure),
    ratio: p50(closure) / p50(ev),
  })
}

// The promise-returning API for comparison (one await per evaluation).
for (const row of rows) {
  const c = cases.find(x => x.name === row.case) as Case
  const n = 200_000
  for (let i = 0; i < 20_000; i++) await evaluate(c.source, 'value', ctx)
  const t = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await evaluate(c.source, 'value', ctx)
  row.eval_async_per_s = n / (Number(process.hrtime.bigint() - t) / 1e9)
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US')
console.log(`arrow: ${rounds} rounds of ${roundMs} ms per measurement; eval = evaluateSync(source) with the compile cache warm`)
console.table(rows.map(r => ({
  case: r.case,
  'parse/s': fmt(r.parse_per_s),
  'parse+compile/s': fmt(r.compile_per_s),
  'eval/s p50': fmt(r.eval_per_s),
  'eval/s p10': fmt(r.eval_p10_per_s),
  'eval (async)/s': fmt(r.eval_async_per_s),
  'closure/s': fmt(r.closure_per_s),
  ratio: r.ratio.toFixed(1),
})))
const first = rows[0] as Row
const checks = [
  [`cached eval of $a default("x") >= 1,000,000/s: ${fmt(first.eval_per_s)}`, first.eval_per_s >= 1_000_000],
  [`ratio <= 20 in every case: max ${Math.max(...rows.map(r => r.ratio)).toFixed(1)}`, rows.every(r => r.ratio <= 20)],
  [`parse >= 100,000/s in every case: min ${fmt(Math.min(...rows.map(r => r.parse_per_s)))}`, rows.every(r => r.parse_per_s >= 100_000)],
] as const
for (const [what, ok] of checks) console.log(`${ok ? 'OK    ' : 'MISSED'} ${what}`)
mkdirSync(resolve(root, 'benchmarks/results'), { recursive: true })
writeFileSync(resolve(root, 'benchmarks/results/arrow.json'), JSON.stringify({ rounds, roundMs, node: process.version, rows, targets: checks.map(([what, ok]) => ({ what, ok })) }, null, 2) + '\n')
