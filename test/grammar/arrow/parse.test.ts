// The grammar (spec §3.2): literals, strings and escapes, backtick interpolation, variables,
// collections, function blocks, operators with and without arguments, prefixes, locations.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

import type { Body, Script, Term } from '../../../grammar/arrow/ast.js'
import { ArrowError, parseScript } from '../../../grammar/arrow/index.js'

/** A tree without locations, for comparing shapes. */
function shape (x: unknown): unknown {
  if (Array.isArray(x)) return x.map(shape)
  if (x !== null && typeof x === 'object') {
    const o: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(x)) if (k !== 'loc' && k !== 'nameEnd') o[k] = shape(v)
    return o
  }
  return x
}
const body = (src: string, kind: 'value' | 'code' = 'value'): Body => parseScript(src, kind).body
const one = (src: string): unknown => shape(body(src)[0] as Term)

const Lit = suite('arrow grammar: literals')

Lit('nil, booleans, and names that merely start like them', () => {
  assert.equal(one('nil'), { type: 'nil' })
  assert.equal(one('true'), { type: 'bool', value: true })
  assert.equal(one('false'), { type: 'bool', value: false })
  assert.equal(one('nil?'), { type: 'op', name: 'nil?', args: null })
  assert.equal(one('trueish'), { type: 'op', name: 'trueish', args: null })
})

Lit('integers in every base, negative, bigints, floats', () => {
  const cases: Array<[string, unknown]> = [
    ['42', { type: 'int', value: 42n }], ['-7', { type: 'int', value: -7n }], ['0', { type: 'int', value: 0n }],
    ['0x1F', { type: 'int', value: 31n }], ['0b101', { type: 'int', value: 5n }], ['0755', { type: 'int', value: 493n }],
    ['-0x10', { type: 'int', value: -16n }], ['123456789012n', { type: 'bigint', value: 123456789012n }], ['0xffn', { type: 'bigint', value: 255n }],
    ['0.1', { type: 'float', value: 0.1 }], ['-0.4e2', { type: 'float', value: -40 }], ['1e3', { type: 'float', value: 1000 }],
    ['2.', { type: 'float', value: 2 }], ['1.5E-3', { type: 'float', value: 0.0015 }],
  ]
  for (const [src, want] of cases) assert.equal(one(src), want, src)
})

Lit('malformed numbers are syntax errors', () => {
  for (const src of ['08', '1abc', '0x', '1.2.3', '12nn']) {
    try { parseScript(src, 'value'); assert.unreachable(src) } catch (e) {
      assert.instance(e, ArrowError, src)
      assert.is((e as ArrowError).code, 'syntax', src)
    }
  }
})

Lit('three string kinds with C-style escapes; unknown escapes keep their backslash', () => {
  assert.equal(one('"a\\"b\\n\\t\\\\"'), { type: 'string', value: 'a"b\n\t\\' })
  assert.equal(one("'it\\'s'"), { type: 'string', value: "it's" })
  assert.equal(one('"\\x41\\u0042\\u{1F600}\\0"'), { type: 'string', value: 'AB\u{1F600}\0' })
  assert.equal(one('"\\d+\\."'), { type: 'string', value: '\\d+\\.' })
  assert.equal(one('"multi\nline"'), { type: 'string', value: 'multi\nline' })
  assert.equal(one('`a\\`b`'), { type: 'template', parts: ['a`b'] })
})

const Interp = suite('arrow grammar: backtick interpolation')

Interp('${name}, ${name["key"]}, ${ sub-script } and literal $', () => {
  assert.equal(one('`a${x}b`'), { type: 'template', parts: ['a', { type: 'var', name: 'x', key: null }, 'b'] })
  assert.equal(one('`${ x }`'), { type: 'template', parts: [{ type: 'var', name: 'x', key: null }] })
  assert.equal(one('`${args["user"]}`'), { type: 'template', parts: [{ type: 'var', name: 'args', key: { type: 'string', value: 'user' } }] })
  assert.equal(one('`${monk-volume-path}/data:/data`'), { type: 'template', parts: [{ type: 'var', name: 'monk-volume-path', key: null }, '/data:/data'] })
  assert.equal(one('`${connection-target("x") entity-state}`'), {
    type: 'template',
    parts: [{ type: 'interp', body: [{ type: 'op', name: 'connection-target', args: [[{ type: 'string', value: 'x' }]] }, { type: 'op', name: 'entity-state', args: null }] }],
  })
  assert.equal(one('`$HOME and $ {x} and $`'), { type: 'template', parts: ['$HOME and $ {x} and $'] })
  assert.equal(one('`cost: \\${x}`'), { type: 'template', parts: ['cost: ${x}'] })
  assert.equal(one('`$${x}`'), { type: 'template', parts: ['$', { type: 'var', name: 'x', key: null }] })
})

Interp('the ${} scanner is quote- and brace-aware', () => {
  const t = one('`${ {"a": "}"} get-member("a") }!`') as { parts: unknown[] }
  assert.is(t.parts.length, 2)
  assert.equal(t.parts[1], '!')
  assert.equal(one('`${ "`" }`'), { type: 'template', parts: [{ type: 'interp', body: [{ type: 'string', value: '`' }] }] })
  assert.equal(one('`a${ `b${c}` }d`'), {
    type: 'template',
    parts: ['a', { type: 'interp', body: [{ type: 'template', parts: ['b', { type: 'var', name: 'c', key: null }] }] }, 'd'],
  })
  assert.equal(one('`{"r2":[{"b":"${x}"}]}`'), { type: 'template', parts: ['{"r2":[{"b":"', { type: 'var', name: 'x', key: null }, '"}]}'] })
})

Interp('unclosed interpolation and unterminated backticks are syntax errors at the opening', () => {
  for (const [src, offset] of [['`a${x', 0], ['`abc', 0], ['"x" `a${ "}" ', 4]] as const) {
    try { parseScript(src, 'value'); assert.unreachable(src) } catch (e) {
      assert.is((e as ArrowError).code, 'syntax')
      assert.is((e as ArrowError).location?.offset, offset, src)
    }
  }
})

const Struct = suite('arrow grammar: variables, collections, blocks, operators')

Struct('variables with optional keys; ? in names', () => {
  assert.equal(one('$port'), { type: 'var', name: 'port', key: null })
  assert.equal(one('$args["app-name"]'), { type: 'var', name: 'args', key: { type: 'string', value: 'app-name' } })
  assert.equal(one('$list[-1]'), { type: 'var', name: 'list', key: { type: 'int', value: -1n } })
  assert.equal(one('$ready?'), { type: 'var', name: 'ready?', key: null })
  assert.equal(shape(body('$x ["k"]')), [{ type: 'var', name: 'x', key: null }, { type: 'array', items: [[{ type: 'string', value: 'k' }]] }])
})

Struct('arrays and objects hold bodies; keys are strings, names or variables', () => {
  assert.equal(one('[]'), { type: 'array', items: [] })
  assert.equal(one('[1 2 add, "x"]'), { type: 'array', items: [[{ type: 'int', value: 1n }, { type: 'int', value: 2n }, { type: 'op', name: 'add', args: null }], [{ type: 'string', value: 'x' }]] })
  assert.equal(one('{a: 1, "b c": 2, $k: 3}'), {
    type: 'object',
    entries: [
      { key: { type: 'name', name: 'a' }, value: [{ type: 'int', value: 1n }] },
      { key: { type: 'string', value: 'b c' }, value: [{ type: 'int', value: 2n }] },
      { key: { type: 'var', name: 'k', key: null }, value: [{ type: 'int', value: 3n }] },
    ],
  })
})

Struct('function blocks; operators with and without arguments; a space before (', () => {
  assert.equal(one('<- <-{ 1 add }'), { type: 'func', body: [{ type: 'int', value: 1n }, { type: 'op', name: 'add', args: null }] })
  assert.equal(one('concat'), { type: 'op', name: 'concat', args: null })
  assert.equal(one('random-uuid()'), { type: 'op', name: 'random-uuid', args: [] })
  assert.equal(one('default ("latest")'), { type: 'op', name: 'default', args: [[{ type: 'string', value: 'latest' }]] })
  assert.equal(one('exec("c",\n  "sh")'), { type: 'op', name: 'exec', args: [[{ type: 'string', value: 'c' }], [{ type: 'string', value: 'sh' }]] })
  assert.equal(one('secret(my-key)'), { type: 'op', name: 'secret', args: [[{ type: 'op', name: 'my-key', args: null }]] })
})

Struct('multi-line scripts and terms without blanks between them', () => {
  assert.is(body('<- "a"\n  "b"\r\n\tconcat').length, 3)
  assert.is(body('"a""b"concat').length, 3)
})

Struct('prefix: a leading <- in values and code; <-{ is an object in values when it parses, a block in code', () => {
  const v = parseScript('  <- 1', 'value')
  assert.is(v.prefix, true)
  assert.is(parseScript('1', 'value').prefix, false)
  assert.is(parseScript('<- 1', 'code').prefix, true)
  assert.equal(shape(parseScript('<-{"a": 1}', 'value').body), [{ type: 'object', entries: [{ key: { type: 'string', value: 'a' }, value: [{ type: 'int', value: 1n }] }] }])
  const s: Script = parseScript('<-{ 1 } callf', 'value')
  assert.is(s.prefix, false)
  assert.is((s.body[0] as Term).type, 'func')
  assert.is(parseScript('<-{ 1 } callf', 'code').prefix, false)
})

Struct('nodes carry their spans; operators know where their name ends', () => {
  const b = body('<- $a default ("x")')
  assert.equal(b[0]?.loc, { start: 3, end: 5 })
  const op = b[1] as Extract<Term, { type: 'op' }>
  assert.equal(op.loc, { start: 6, end: 19 })
  assert.is(op.nameEnd, 13)
  const t = body('`a${b}`')[0] as Extract<Term, { type: 'template' }>
  assert.equal((t.parts[1] as { loc: unknown }).loc, { start: 2, end: 6 })
})

Struct('very deep nesting fails as an ArrowError, not a crash', () => {
  const deep = '['.repeat(20000) + ']'.repeat(20000)
  let error: unknown
  try { parseScript(deep, 'value') } catch (e) { error = e }
  // parsing it is fine; failing is fine only as an ArrowError 'limit' (never a stack overflow)
  if (error !== undefined) {
    assert.instance(error, ArrowError)
    assert.is((error as ArrowError).code, 'limit')
  }
})

Lit.run()
Interp.run()
Struct.run()
