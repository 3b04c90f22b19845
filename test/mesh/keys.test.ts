// Key syntax (DESIGN §3): `.`, `..` and empty segments are refused; names that a filesystem
// mapping once merged (`a/b_c`, `a_b/c`) are distinct keys.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { KeyError } from '../../mesh/errors.js'
import { checkKey, keyProblem, pathProblem } from '../../mesh/keys.js'

const Keys = suite('mesh keys')

Keys('". " and ".." segments are refused anywhere in a key', () => {
  for (const key of ['want/..', 'want/.', 'want/../x', 'want/ns/./app', 'tpl/ns/..', 'secret/../name', 'claim/../p1', '..', '.']) {
    assert.ok(keyProblem(key, 1024)?.includes('path segment'), `${key} must be refused, got ${keyProblem(key, 1024)}`)
    assert.throws(() => checkKey(key, 1024), (e: unknown) => e instanceof KeyError)
  }
})

Keys('empty segments are refused', () => {
  for (const key of ['want//x', '/want/x', 'want/x/', '']) assert.ok(keyProblem(key, 1024), key)
})

Keys('dots inside a segment are fine', () => {
  for (const key of ['want/ns/app.v2', 'want/ns/...x', 'tpl/a.b/c', 'want/ns/app#0']) assert.is(keyProblem(key, 1024), undefined, key)
})

Keys('a/b_c and a_b/c are two well-formed, distinct keys', () => {
  assert.is(keyProblem('want/a/b_c', 1024), undefined)
  assert.is(keyProblem('want/a_b/c', 1024), undefined)
  assert.is.not('want/a/b_c', 'want/a_b/c')
})

Keys('pathProblem applies the same rule to names that become keys', () => {
  assert.ok(pathProblem('..'))
  assert.ok(pathProblem('ns/../x'))
  assert.ok(pathProblem('ns//x'))
  assert.ok(pathProblem(''))
  assert.is(pathProblem('ns/app'), undefined)
})

Keys.run()
