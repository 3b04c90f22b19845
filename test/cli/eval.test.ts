// `monk eval` as a user runs it (real process): values, --set, --in scope with group fallback, JSON
// shapes of values and errors, offline host operators.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

import { monk } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

const dir = tempDir('monk-eval')
writeFileSync(join(dir, 'kit.yaml'), [
  'namespace: shop',
  'db:',
  '  defines: runnable',
  '  containers: {pg: {image: postgres}}',
  '  variables:',
  '    port: {type: int, value: "5432"}',
  '    user: <- $db-user default("admin")',
  '    url: <- `postgres://${user}@${host}:${port}`',
  'stack:',
  '  defines: process-group',
  '  runnable-list: [shop/db]',
  '  variables:',
  '    host: db.internal',
  '    db-user: app',
  '',
].join('\n'))

const Eval = suite('monk eval')

Eval('prints the value; nil as nil; --set gives variables (as strings)', () => {
  const r = monk(['eval', '"hello " $who default("world") concat', '--set', 'who=ann'])
  assert.is(r.code, 0, r.err)
  assert.is(r.out, 'hello ann\n')
  assert.is(monk(['eval', '$nothing']).out, 'nil\n')
})

Eval('--output json: {"value": ...} with nil as null and a bigint as its decimal string', () => {
  const r = monk(['--output', 'json', 'eval', '[nil, 1.5, 9007199254740993, {"a": true}]'])
  assert.is(r.code, 0, r.err)
  assert.equal(JSON.parse(r.out), { value: [null, 1.5, '9007199254740993', { a: true }] })
})

Eval('--in: the runnable scope, with group variables as fallback and --set ns/runnable/var', () => {
  const r = monk(['--output', 'json', 'eval', '$url', '--from', dir, '--in', 'shop/db'])
  assert.is(r.code, 0, r.err)
  assert.equal(JSON.parse(r.out), { value: 'postgres://app@db.internal:5432' })
  const s = monk(['eval', '$port 1 add', '--from', dir, '--in', 'shop/db', '--set', 'shop/db/port=6000', '--set', 'other/x/port=1'])
  assert.is(s.out, '6001\n', s.err)
})

Eval('errors: {"error": {code, message, line, column}} and exit 1; text shows the caret', () => {
  const r = monk(['--output', 'json', 'eval', '"a"\n  1 add'])
  assert.is(r.code, 1)
  assert.equal(JSON.parse(r.out), { error: { code: 'type', message: 'add expects a number, got the string "a"', line: 2, column: 5 } })
  const t = monk(['eval', 'connection-hostname("db")'])
  assert.is(t.code, 1)
  assert.match(t.err, /connection-hostname needs the host capability 'connectionHostname'.*offline/)
  assert.match(t.err, /\n {2}connection-hostname\("db"\)\n {2}\^{19}/)
})

Eval('an unknown runnable is a clear failure', () => {
  const r = monk(['--output', 'json', 'eval', '1', '--from', dir, '--in', 'shop/nope'])
  assert.is(r.code, 1)
  assert.is(JSON.parse(r.out).error.code, 'not-found')
})

Eval.run()
