// A test run leaves no /tmp/monk-* behind: every test file (and helper) that makes a temp
// directory also removes it, itself (rmSync, rm) or through helpers/tmp.ts or the e2e cleanup.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { root } from '../helpers/cli.js'

const H = suite('tests clean up their temp directories')

function files (dir: string): string[] {
  return readdirSync(dir).flatMap(n => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : []
  })
}

H('every file that calls mkdtemp also removes what it made', () => {
  const makes = files(join(root, 'test')).filter(f => /\bmkdtemp(Sync)?\(/.test(readFileSync(f, 'utf8')))
  assert.ok(makes.length > 10, `found ${makes.length} files that make temp directories`)
  const leaks = makes.filter(f => !/\brmSync\(|\brm\(|\brmOnExit\(|\bcleanup\(/.test(readFileSync(f, 'utf8'))).map(f => relative(root, f))
  assert.equal(leaks, [], `these make temp directories and never remove them (use tempDir or rmOnExit from test/helpers/tmp.ts):\n${leaks.join('\n')}`)
})

H.run()
