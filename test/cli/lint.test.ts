// `monk lint` and `monk dump` as a user runs them: real process, exit codes, text and JSON output.
import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

import { monk as run } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

const monk = (args: string[], cwd?: string) => run(args, cwd ? { cwd } : {})

const dir = tempDir('monk-lint')
mkdirSync(join(dir, 'good'))
mkdirSync(join(dir, 'bad'))
writeFileSync(join(dir, 'good/app.yaml'), 'namespace: demo\nbase:\n  containers:\n    web: {image: busybox, image-tag: "1"}\n  variables:\n    port: {type: int, value: 80, env: PORT}\nweb:\n  defines: runnable\n  inherits: ./base\n  variables:\n    port: 8080\n')
writeFileSync(join(dir, 'bad/broken.yaml'), 'namespace: demo\nweb:\n  defines: runnable\n  inherits: ./nowhere\n  containers: {c: {image: x}}\n')

const Lint = suite('monk lint / dump')

Lint('clean files: summary line, exit 0', () => {
  const r = monk(['lint', join(dir, 'good')])
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^Loaded 1 runnable and 1 abstract node in 1 file with 0 errors and 0 warnings$/m)
})

Lint('errors: file:line:col: error CODE: message, exit 1', () => {
  const r = monk(['lint', join(dir, 'bad')], dir)
  assert.is(r.code, 1)
  assert.match(r.out, /^bad\/broken\.yaml:4:13: error inherits-dangling: demo\/web inherits "\.\/nowhere"/m)
  assert.match(r.out, /in 1 file with 1 error and 0 warnings$/m)
})

Lint('--output json has the documented shape', () => {
  const r = monk(['--output', 'json', 'lint', join(dir, 'bad'), join(dir, 'good')], dir)
  assert.is(r.code, 1)
  const j = JSON.parse(r.out) as { files: number, nodes: Record<string, number>, errors: Array<Record<string, unknown>>, warnings: unknown[] }
  assert.is(j.files, 2)
  assert.is(j.nodes.runnable, 1)
  assert.equal(Object.keys(j.errors[0] ?? {}).sort(), ['code', 'column', 'file', 'line', 'message'])
  assert.equal(j.errors[0]?.code, 'inherits-dangling')
  assert.equal([j.errors[0]?.line, j.errors[0]?.column], [4, 13])
  assert.ok(Array.isArray(j.warnings))
})

Lint('usage errors exit 2', () => {
  assert.is(monk(['lint']).code, 2)
  assert.is(monk(['lint', '--bogus', 'x']).code, 2)
  const j = monk(['--output', 'json', 'frobnicate'])
  assert.is(j.code, 2)
  assert.is((JSON.parse(j.out) as { error: { code: string } }).error.code, 'usage')
})

Lint('dump prints the resolved node as loadable YAML', () => {
  const r = monk(['dump', 'demo/web', '--from', join(dir, 'good')])
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /inherits demo\/base/)
  assert.match(r.out, /namespace: demo\nweb:\n/)
  assert.match(r.out, /port:\n\s+type: int\n\s+value: 8080\n\s+env: PORT/)
  assert.match(r.out, /image-tag: "1"/)
})

Lint('dump of an unknown path fails with exit 1 and says what to do', () => {
  const r = monk(['dump', 'demo/nope', '--from', join(dir, 'good')])
  assert.is(r.code, 1)
  assert.match(r.err, /no template "demo\/nope"/)
})

Lint.run()
