#!/usr/bin/env node
// Regenerates committed generated sources (the Arrow parser from grammar/arrow/arrow.peggy).
// `--check` fails when a committed file is stale instead of rewriting it.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { tmpdir } from 'node:os'

const root = resolve(import.meta.dirname, '..')
const check = process.argv.includes('--check')
const jobs = []
const grammar = join(root, 'grammar/arrow/arrow.peggy')
if (existsSync(grammar)) {
  jobs.push({ src: grammar, out: join(root, 'grammar/arrow/parser.generated.js'), dts: join(root, 'grammar/arrow/parser.generated.d.ts'),
    args: ['--format', 'es', '--dts', '--return-types', '{"Script":"import(\\"./ast.js\\").Script"}'] })
}
let stale = 0
for (const job of jobs) {
  const dir = mkdtempSync(join(tmpdir(), 'monk-gen-'))
  const out = join(dir, 'parser.generated.js')
  execFileSync(process.execPath, [join(root, 'node_modules/peggy/bin/peggy.js'), ...job.args, '-o', out, job.src], { stdio: 'inherit' })
  const js = readFileSync(out, 'utf8')
  const dts = readFileSync(out.replace(/\.js$/, '.d.ts'), 'utf8')
  if (check) {
    const same = existsSync(job.out) && readFileSync(job.out, 'utf8') === js && existsSync(job.dts) && readFileSync(job.dts, 'utf8') === dts
    if (!same) { console.error(`generate: ${job.out} is stale; run npm run generate and commit it`); stale++ }
  } else {
    writeFileSync(job.out, js); writeFileSync(job.dts, dts)
    console.log(`generate: wrote ${job.out}`)
  }
}
if (check && !stale) console.log(`generate: ${jobs.length} generated file(s) up to date`)
process.exit(stale ? 1 : 0)
