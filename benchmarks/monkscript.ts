// How fast does the MonkScript loader compile the whole corpus, next to plain `yaml` parsing of the
// same files (the floor)? Target: ratio <= 2.0.  Usage: npm run bench -- monkscript [--rounds N]
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { checkScript } from '../grammar/arrow/index.js'
import { loadPaths, memorySource } from '../grammar/monkscript/index.js'

const root = resolve(import.meta.dirname, '..')
const corpus = resolve(root, '../shared/corpus')
const roundsArg = process.argv.indexOf('--rounds')
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 15

const paths = execFileSync('find', [corpus, '-type', 'f']).toString().trim().split('\n').sort()
const files: Record<string, string> = {}
for (const p of paths) files[p] = readFileSync(p, 'utf8')
const source = memorySource(files)

// Setup check: the load must be the real thing before anything is timed.
const first = loadPaths([corpus], { source, everything: true })
if (first.files.length < 500) throw new Error(`setup failed: only ${first.files.length} files loaded`)
const yamlTexts = first.files.map(f => files[f] ?? '')
const checker = checkScript

function time (fn: () => void): number[] {
  for (let i = 0; i < 3; i++) fn() // warm-up
  const out: number[] = []
  for (let i = 0; i < rounds; i++) {
    (globalThis as { gc?: () => void }).gc?.()
    const t = process.hrtime.bigint()
    fn()
    out.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  return out.sort((a, b) => a - b)
}
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN

const floor = time(() => { for (const t of yamlTexts) for (const d of parseAllDocuments(t)) d.toJS() })
const ours = time(() => { const r = loadPaths([corpus], { source, everything: true }); for (const n of r.nodes.values()) r.resolve(n.path) })
const withArrow = checker ? time(() => { loadPaths([corpus], { source, everything: true, checkScript: checker }) }) : undefined

const n = first.files.length
const rows = [
  { case: 'yaml parseAllDocuments+toJS (floor)', ms_p50: pct(floor, 0.5), ms_p90: pct(floor, 0.9), files_per_s: n / pct(floor, 0.5) * 1000 },
  { case: 'monk load (+inherit, classify)', ms_p50: pct(ours, 0.5), ms_p90: pct(ours, 0.9), files_per_s: n / pct(ours, 0.5) * 1000 },
  ...(withArrow ? [{ case: 'monk load + arrow check', ms_p50: pct(withArrow, 0.5), ms_p90: pct(withArrow, 0.9), files_per_s: n / pct(withArrow, 0.5) * 1000 }] : []),
]
const ratio = pct(ours, 0.5) / pct(floor, 0.5)
console.log(`corpus: ${n} YAML files, ${first.nodes.size} nodes, ${rounds} rounds`)
console.table(rows.map(r => ({ ...r, ms_p50: r.ms_p50.toFixed(1), ms_p90: r.ms_p90.toFixed(1), files_per_s: Math.round(r.files_per_s) })))
console.log(`ratio monk/yaml (p50): ${ratio.toFixed(2)} (target <= 2.0) ${ratio <= 2 ? 'OK' : 'MISSED'}`)
if (withArrow) console.log(`ratio monk+arrow/yaml (p50): ${(pct(withArrow, 0.5) / pct(floor, 0.5)).toFixed(2)}`)
mkdirSync(resolve(root, 'benchmarks/results'), { recursive: true })
writeFileSync(resolve(root, 'benchmarks/results/monkscript.json'), JSON.stringify({ files: n, nodes: first.nodes.size, rounds, rows, ratio }, null, 2) + '\n')
