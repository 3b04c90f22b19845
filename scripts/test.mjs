#!/usr/bin/env node
// Test runner: each test file runs in its own process (uvu under tsx) with a deadline, so a hung
// file fails instead of hanging CI. Prints uvu's output and ends with one `N passed, N failed` line.
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const args = process.argv.slice(2)
const deadlineMs = Number(process.env.MONK_TEST_DEADLINE_MS ?? 300_000)
const parallel = Math.max(1, Number(process.env.MONK_TEST_JOBS ?? 2))
const HEARTBEAT_MS = Number(process.env.MONK_TEST_HEARTBEAT_MS ?? 60_000)

function walk (dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    const st = statSync(p)
    if (st.isDirectory()) { if (name !== 'helpers' && name !== 'fixtures' && name !== 'emulators') out.push(...walk(p)) }
    else if (/\.test\.ts$/.test(name)) out.push(p)
  }
  return out
}

const targets = args.length ? args : ['test']
const files = targets.flatMap(t => statSync(resolve(root, t)).isDirectory() ? walk(resolve(root, t)) : [resolve(root, t)])
// Files that need exclusive use of the machine (real processes, timing) are marked *.serial.test.ts.
const serial = files.filter(f => f.endsWith('.serial.test.ts'))
const par = files.filter(f => !f.endsWith('.serial.test.ts'))

let passed = 0
let failed = 0
const failures = []

/** A file may ask for a longer deadline with a comment `// test-deadline-s: N` in its first lines. */
function deadlineOf (file) {
  const head = readFileSync(file, 'utf8').slice(0, 4000)
  const m = /\/\/\s*test-deadline-s:\s*(\d+)/.exec(head)
  return m ? Number(m[1]) * 1000 : deadlineMs
}

function runFile (file) {
  const deadline = deadlineOf(file)
  return new Promise(done => {
    const started = Date.now()
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', join(root, 'polyfill.ts'), file], {
      cwd: root, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', MONK_HUB_DEFAULTS: '0' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true
    })
    let out = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { out += d })
    // a long file (the mesh soak runs 5 minutes) says it is still running, since its output comes at the end
    const beat = setInterval(() => { process.stdout.write(`   … ${relative(root, file)} still running (${Math.round((Date.now() - started) / 1000)} s)\n`) }, HEARTBEAT_MS)
    const timer = setTimeout(() => {
      out += `\n  TIMEOUT: ${relative(root, file)} exceeded ${deadline} ms and was killed\n`
      try { process.kill(-child.pid, 'SIGKILL') } catch {}
    }, deadline)
    child.on('close', code => {
      clearTimeout(timer)
      clearInterval(beat)
      const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0)
      const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0)
      let bad = total - ok
      // A file that crashed, timed out or exited non-zero without a counted failure is one failure.
      if (code !== 0 && bad === 0) bad = 1
      if (total === 0 && code === 0 && !/Skipped:\s+[1-9]/.test(out)) { bad = 1; out += '\n  NO TESTS RAN in this file\n' }
      passed += ok
      failed += bad
      if (bad) failures.push(relative(root, file))
      process.stdout.write(`\n== ${relative(root, file)} (${((Date.now() - started) / 1000).toFixed(1)} s, exit ${code})\n${out}`)
      done()
    })
  })
}

async function pool (list, n) {
  const queue = [...list]
  await Promise.all(Array.from({ length: n }, async () => { while (queue.length) await runFile(queue.shift()) }))
}

await pool(par, parallel)
await pool(serial, 1)
if (failures.length) console.log(`\nFailed files:\n${failures.map(f => '  ' + f).join('\n')}`)
console.log(`\n${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
