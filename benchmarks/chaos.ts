// `npm run bench -- chaos --peers 5 --rounds 200 --seed S [--seed S2 ...] [--runtime docker]`: chaos
// runs (chaos/run.ts) against local clusters, one per seed, written to benchmarks/results/chaos.json
// as {seed, peers, rounds, runtime, faults, acked_writes, lost_writes, resurrected_keys, double_runs,
// missing_runs, crashes, converge_ms_p50, converge_ms_p99} (an array when several seeds ran).
// `--append` keeps the rows already in the file (a row of the same seed and runtime is replaced), so
// process and Docker runs can share one file. Exits 1 when an invariant broke in any run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chaosOptions } from '../chaos/main.js'
import { root } from '../chaos/cluster.js'
import { row, runChaos, type ChaosRow } from '../chaos/run.js'

const argv = process.argv.slice(2)
const seeds: string[] = []
const rest: string[] = []
let append = false
for (let i = 0; i < argv.length; i++) {
  const a = argv[i] as string
  if (a === '--append') append = true
  else if (a === '--seed') seeds.push(...String(argv[++i] ?? '').split(',').filter(Boolean))
  else if (a.startsWith('--seed=')) seeds.push(...a.slice('--seed='.length).split(',').filter(Boolean))
  else rest.push(a)
}
if (seeds.length === 0) seeds.push(String(Math.floor(Math.random() * 0xffffffff)))

const rows: ChaosRow[] = []
let failed = false
for (const seed of seeds) {
  let o
  try { o = chaosOptions([...rest, '--seed', seed], line => process.stderr.write(line + '\n')) } catch (err) {
    process.stderr.write(`bench chaos: ${(err as Error).message}\n`)
    process.exit(2)
  }
  const r = await runChaos(o)
  rows.push(row(r))
  process.stderr.write(`seed ${r.seed}: ${r.failed ? 'FAILED' : 'passed'} in ${Math.round(r.duration_ms / 1000)} s (lost ${r.lost_writes}, resurrected ${r.resurrected_keys}, double ${r.double_runs}, missing ${r.missing_runs}, crashes ${r.crashes}, phantom ${r.phantom_writes}, diverged ${r.diverged}${r.aborted ? `, aborted: ${r.aborted}` : ""}); history ${r.history}\n`)
  if (r.failed) failed = true
}
const file = join(root, 'benchmarks/results/chaos.json')
if (append && existsSync(file)) {
  const old = JSON.parse(readFileSync(file, 'utf8')) as ChaosRow | ChaosRow[]
  const kept = (Array.isArray(old) ? old : [old]).filter(o => !rows.some(r => r.seed === o.seed && r.runtime === o.runtime))
  rows.unshift(...kept)
}
mkdirSync(join(root, 'benchmarks/results'), { recursive: true })
const out = JSON.stringify(rows.length === 1 ? rows[0] : rows, null, 2) + '\n'
writeFileSync(file, out)
process.stdout.write(out)
process.exit(failed ? 1 : 0)
