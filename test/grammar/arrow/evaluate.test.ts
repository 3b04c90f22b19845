// Evaluation model (spec §3.3) and the synthetic conformance table of spec appendix B.2.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

import {
  ArrowError, type ArrowValue, CompiledScript, compile, evaluate, evaluateSync, run, toS,
} from '../../../grammar/arrow/index.js'
import { fakeHost } from '../../helpers/arrow-host.js'
import { ev, evError, plain, testContext } from '../../helpers/arrow-eval.js'

const B2 = suite('arrow: spec appendix B.2')
const b2vars = new Map<string, ArrowValue>([['host', 'db.local'], ['port', 5432]])
const b2: Array<[string, unknown]> = [
  ['<- `${host}:${port}`', 'db.local:5432'],
  ['<- $host ":" $port to-s concat-all', 'db.local:5432'],
  ['<- $empty default("x")', 'x'],
  ['<- "a.dns.podman" split(".dns.podman") join("")', 'a'],
  ['<- "abc" "b" contains?', true],
  ['<- "abc" contains?("b")', true],
  ['<- $host not-eq?("") then("H") or("_")', 'H'],
  ['<- 1 2 add', 3],
  ['<- 1 add(2)', 3],
  ['<- 1 2 div', 0.5],
  ['<- [1,2,3] map(<-{ 1 add })', [2, 3, 4]],
  ['<- {"a": {"b": 7}} get-member("a") get-member("b")', 7],
  ['<- `${missing}`', ''],
]
for (const [src, want] of b2) {
  B2(src, async () => {
    assert.equal(plain(await evaluate(src, 'value', { vars: b2vars })), want)
    assert.equal(plain(evaluateSync(src, 'value', { vars: b2vars })), want)
  })
}

const Model = suite('arrow: evaluation model')

Model('the result is the top of the stack; an empty script is nil', async () => {
  assert.is(await ev('1 2 3'), 3)
  assert.is(await ev(''), null)
  assert.is(await ev('<-'), null)
  assert.is(await ev('mark'), null)
})

Model('x op(a, b) equals x a b op, including mixed forms', async () => {
  assert.is(await ev('"a.b.c" replace(".", "/")'), await ev('"a.b.c" "." "/" replace'))
  assert.is(await ev('"a.b.c" "." replace("/")'), 'a/b/c')
  assert.is(await ev('"x" default ("y")'), 'x')
  assert.is(await ev('$nope default (80)'), 80)
})

Model('each call argument is evaluated to one value in its own frame', async () => {
  // The argument "a" "b" leaves two values; only its top ("b") is the argument.
  assert.is(await ev('concat-all("a" "b", "c")'), 'bc')
  // An argument cannot consume values from outside its frame.
  const e = await evError('1 add(add)')
  assert.is(e.code, 'stack-underflow')
  assert.is(await ev('1 add(2 3 add)'), 6)
})

Model('array items and object values are bodies evaluated in their own frames', async () => {
  assert.equal(await ev('[1 2 add, "a" "b" concat, $x]'), [3, 'ab', 'xv'])
  assert.equal(await ev('{"k": 1 2 add, $x: "v", name: nil}'), { k: 3, xv: 'v', name: null })
  assert.is((await evError('1 [add(2)]')).code, 'stack-underflow')
})

Model('undefined variables are nil; $var["key"] reads members', async () => {
  assert.is(await ev('$nope'), null)
  assert.is(await ev('$obj["a"]'), 1)
  assert.is(await ev('$obj["b"] get-member("c")'), 'deep')
  assert.is(await ev('$list[1]'), 'q')
  assert.is(await ev('$nope["a"]'), null)
  assert.is((await evError('$host["a"]')).code, 'type')
})

Model('truthiness: only nil and false are false', async () => {
  for (const [v, t] of [['nil', false], ['false', false], ['true', true], ['0', true], ['""', true], ['[]', true], ['{}', true]] as const) {
    assert.is(await ev(`${v} then("t") or("f")`), t ? 't' : 'f', v)
  }
})

Model('if-error: only the terms before it are protected; the stack is restored; no failure, no fallback', async () => {
  assert.is(await ev('"keep" secret("fail") if-error("fb")'), 'fb')
  assert.equal(plain(await evaluate('"keep" secret("fail") if-error("fb")', 'value', testContext())), 'fb')
  const ctx = testContext()
  assert.is(await ev('"ok" if-error(secret("never"))', ctx), 'ok')
  assert.is(ctx.calls.filter(c => c.cap === 'secret').length, 0)
  assert.is(await ev('secret("fail") if-error("a") secret("fail") if-error("b") concat'), 'ab')
  assert.is(await ev('"keep" 1 0 div if-error(0)'), 0)
  assert.is(await ev('"keep" if-error("never") 1 0 div if-error(0) concat'), 'keep0')
  assert.is(await ev('1 0 div if-error(0) 5 add'), 5)
  assert.is(await ev('[1 0 div if-error(-1)] first'), -1)
  // Errors after if-error are not caught by it.
  assert.is((await evError('"x" if-error("y") 1 0 div')).code, 'division-by-zero')
  // Safety limits are not recoverable.
  assert.is((await evError('<-{ $f callf } set-tmp("f") callf if-error(1)')).code, 'limit')
})

Model('functions: blocks run on the caller stack (callf) or per element (map/filter)', async () => {
  assert.is(await ev('1 <-{ 1 add } callf'), 2)
  assert.is(await ev('2 3 <-{ add } callf'), 5)
  assert.equal(await ev('["a", "b"] map(<-{ "!" concat })'), ['a!', 'b!'])
  assert.equal(await ev('[[1, 2], [3]] map(<-{ <-{ 10 mult } map })'), [[10, 20], [30]])
  assert.equal(await ev('[1, 2, 3] map(<-{ dup })'), [1, 2, 3])
  assert.is(await ev('<- <-{ 1 add } set-tmp("inc") 1 $inc callf $inc callf'), 3)
})

Model('host operators wait; the machine continues after them (async path)', async () => {
  assert.is(await ev('"http://" connection-hostname("db") ":" connection-port("db") concat-all'), 'http://db.local:5432')
  assert.is(await ev('`${connection-target("bucket") entity-state get-member("id")}.example`'), 'id-target:bucket.example')
  assert.equal(await ev('["a", "b"] map(<-{ secret })'), ['secret:a', 'secret:b'])
  assert.equal(await ev('[connection-port("db"), connection-hostname("db")]'), [5432, 'db.local'])
  assert.equal(await ev('{connection-hostname("db"): connection-port("db")}'.replace('connection-hostname("db")', '"k"')), { k: 5432 })
})

Model('run() answers synchronously when nothing waits and with a promise when something does', async () => {
  const sync = run('$x "!" concat', 'value', testContext())
  assert.is(sync, 'xv!')
  const later = run('secret("a")', 'value', testContext())
  assert.ok(later instanceof Promise)
  assert.is(await later, 'secret:a')
  const { host } = fakeHost({ sync: true })
  assert.is(run('secret("a")', 'value', { host }), 'secret:a')
})

Model('evaluateSync fails with async-in-sync when an operator has to wait', () => {
  try {
    evaluateSync('"a" secret', 'value', testContext())
    assert.unreachable('should fail')
  } catch (e) {
    assert.instance(e, ArrowError)
    assert.is((e as ArrowError).code, 'async-in-sync')
    assert.is((e as ArrowError).location?.column, 5)
  }
})

Model('variables may be computed later (a VarLookup returning a promise)', async () => {
  const vars = { get: (n: string) => (n === 'late' ? Promise.resolve('L') : n === 'o' ? Promise.resolve({ k: 'K' } as unknown as ArrowValue) : undefined) }
  assert.is(plain(await evaluate('`<${late}>` $late concat', 'value', { vars })), '<L>L')
  assert.is(plain(await evaluate('$o["k"] `${o["k"]}` concat', 'value', { vars })), 'KK')
})

Model('set-tmp and set are visible to later reads; unset removes the temporary', async () => {
  assert.is(await ev('"v" set-tmp("x") $x concat'), 'vv')
  assert.is(await ev('"v" set-tmp("x") unset("x") $x'), 'xv')
})

Model('code fields: plain code, and code that starts with <- builds the code (spec §2.7.6)', async () => {
  const ctx = testContext({ vars: new Map<string, ArrowValue>([['p', 5678], ['c', 'pg']]) })
  assert.is(plain(await evaluate('exec("pg", "true") "pg" contains?', 'code', ctx)), true)
  assert.is(plain(await evaluate('<- `http-get("http://localhost:${p}/healthz") nil? not`', 'code', ctx)), true)
  assert.is(plain(await evaluate('<- `exec("${c}", "pg_isready") contains?("pg")`', 'code', ctx)), true)
  const e = await evError('<- 42', testContext(), 'code')
  assert.is(e.code, 'code-not-string')
  const bad = await evError('<- "1 +"', testContext(), 'code')
  assert.is(bad.code, 'syntax')
  assert.match(bad.message, /in the code produced by/)
  assert.is(bad.source, '1 +')
  // In a code field a leading <-{ is a function block; in a value it is <- and an object.
  assert.is(plain(await evaluate('<-{ 1 } callf', 'code', {})), 1)
  assert.equal(plain(await evaluate('<-{"a": 1}', 'value', {})), { a: 1 })
})

Model('compiled scripts are cached by source: evaluating never re-parses', () => {
  const a = compile('$x default("y") to-s', 'value')
  assert.is(compile('$x default("y") to-s', 'value'), a)
  assert.is.not(compile('$x default("y") to-s', 'code'), a)
  let first: unknown
  try { compile('1 +', 'value') } catch (e) { first = e }
  try { compile('1 +', 'value') } catch (e) { assert.is(e, first) }
  // The parser is only reached through CompiledScript.compile; a cached script never calls it again.
  const original = CompiledScript.compile
  let parses = 0
  CompiledScript.compile = (...args: Parameters<typeof original>) => { parses++; return original(...args) }
  try {
    for (let i = 0; i < 100; i++) evaluateSync('"p" "q" concat', 'value')
    evaluateSync('"p" "r" concat', 'value')
    for (let i = 0; i < 100; i++) evaluateSync('"p" "r" concat', 'value')
  } finally { CompiledScript.compile = original }
  assert.is(parses, 2)
})

Model('numbers: Int, Float, BigInt literals in every base', async () => {
  assert.equal(await ev('[0x1F, 0b101, 0755, -12, 1.5, -0.4e2, 2e3, 123456789012n, 0x10n]'), [31, 5, 493, -12, 1.5, -40, 2000, 123456789012n, 16n])
  assert.is(await ev('9223372036854775807'), 9223372036854775807n)
  assert.is(toS(await ev('0.1 0.2 add') as ArrowValue), '0.30000000000000004')
})

Model('host values come back as Arrow values (undefined is nil)', async () => {
  const host = { connectionTarget: () => undefined as unknown as string }
  assert.is(plain(await evaluate('connection-target("x")', 'value', { host })), null)
})

B2.run()
Model.run()
