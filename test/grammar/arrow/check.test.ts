// checkScript: load-time diagnostics with offsets into the whole YAML scalar.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

import { checkScript } from '../../../grammar/arrow/index.js'

const Check = suite('arrow checkScript')

Check('a clean script has no diagnostics', () => {
  assert.equal(checkScript('<- $port default(80) to-s', 'value'), [])
  assert.equal(checkScript('exec("c", "sh") "ok" contains?', 'code'), [])
})

Check('offsets index the whole scalar, leading blanks and <- included', () => {
  const src = '  <- $a concatt("b")'
  const [d] = checkScript(src, 'value')
  assert.equal(d, { code: 'unknown-operator', message: "unknown operator 'concatt' (did you mean 'concat'?)", offset: 8, severity: 'error' })
  assert.is(src.slice(d?.offset), 'concatt("b")')
})

Check('every unknown operator is reported, not only the first', () => {
  const ds = checkScript('<- foo bar(1) [baz] `${qux 1}`', 'value')
  assert.equal(ds.map(d => [d.code, d.offset]), [['unknown-operator', 3], ['unknown-operator', 7], ['unknown-operator', 15], ['unknown-operator', 23]])
})

Check('a bare unknown word as a whole call argument is a warning (and evaluates to the string)', () => {
  const ds = checkScript('<- secret(my-key-name)', 'value')
  assert.equal(ds.map(d => [d.code, d.severity, d.offset]), [['bare-word', 'warning', 10]])
  // Not a bare word: a known operator, or a word with arguments, or more than one term.
  assert.equal(checkScript('<- secret(domain-name)', 'value'), [])
  assert.equal(checkScript('<- secret(my-key "x")', 'value').map(d => d.code), ['unknown-operator'])
})

Check('more call arguments than the operator takes is a warning', () => {
  const ds = checkScript('<- $x to-s(1, 2)', 'value')
  assert.equal(ds.map(d => [d.code, d.severity]), [['extra-arguments', 'warning']])
  // All inputs given as arguments is fine (`default($x, "d")` ≡ `$x "d" default`).
  assert.equal(checkScript('<- default($x, "d")', 'value'), [])
})

Check('a syntax error is one error at its offset', () => {
  assert.equal(checkScript('<- "a" concat(', 'value').map(d => [d.code, d.offset, d.severity]), [['syntax', 14, 'error']])
  assert.equal(checkScript('<- 1 99999999999999999999', 'value').map(d => [d.code, d.offset]), [['bad-number', 5]])
})

Check('a code field starting with <- is checked as the script that builds the code', () => {
  assert.equal(checkScript('<- `http-get("http://localhost:${p}/healthz") nil? not`', 'code'), [])
  assert.equal(checkScript('<- `x` nope', 'code').map(d => d.code), ['unknown-operator'])
})

Check.run()
