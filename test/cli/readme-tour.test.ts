// The README tour of issue 19's "first hour": what a new user reads must hold. The corpus lint is
// explained (its errors expected, the corpus not part of a clone); MONK_DEMO_RUNTIME, `monk up`,
// the suite's duration and how to run a subset are there; the test runner says a long file (the
// 5-minute soak) is still running while it runs; remote control names TLS and the pin file.
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { root } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

const R = suite('README tour (issue 19, the first hour)')
const readme = readFileSync(join(root, 'README.md'), 'utf8').replace(/\s+/g, ' ')

R('linting the corpus: the exit 1 and its errors are said to be expected, and the corpus is not in a clone', () => {
  assert.match(readme, /corpus \(`\.\.\/shared\/corpus`, real kits, not part of a clone\) exits 1 with about \d+ errors, which are expected/)
})

R('MONK_DEMO_RUNTIME, monk up, the suite\'s duration and a subset', () => {
  assert.match(readme, /MONK_DEMO_RUNTIME=process/)
  assert.match(readme, /monk up examples\/\S+/)
  assert.match(readme, /`npm test` takes about \d+ minutes/)
  assert.match(readme, /To run a subset, name files or folders: `npm test -- test\/cli`/)
})

R('remote control: tls, the pinned certificate and where the pin is kept', () => {
  assert.match(readme, /--api-host/)
  assert.match(readme, /known-monkds/)
})

R('the test runner says a long file is still running while it runs (the soak is silent until its end)', () => {
  const dir = tempDir('monk-tour')
  const file = join(dir, 'slow.test.mjs')
  writeFileSync(file, 'setTimeout(() => { console.log("done") }, 1500)\n')
  const r = spawnSync(process.execPath, [join(root, 'scripts/test.mjs'), file], { cwd: root, encoding: 'utf8', env: { ...process.env, MONK_TEST_HEARTBEAT_MS: '400' }, timeout: 60_000 })
  assert.match(r.stdout, /slow\.test\.mjs still running \(\d+ s\)/, r.stdout + r.stderr)
})

R.run()
