// Variable scope of a runnable (grammar/monkscript/variables.ts, spec §2.6).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

import { ArrowError, type ArrowValue, evaluate } from '../../../grammar/arrow/index.js'
import type { MapValue } from '../../../grammar/monkscript/index.js'
import {
  ScopeVars, buildScope, builtinVariables, coerce, envBindings, missingRequired, resolveEnv,
} from '../../../grammar/monkscript/variables.js'
import { fakeHost } from '../../helpers/arrow-host.js'

const runnable: MapValue = {
  variables: {
    port: { type: 'int', value: '8080', env: 'PORT' },
    image: 'nginx',
    url: '<- `http://${host}:${port}`',
    host: { type: 'string', env: 'HOST' },
    token: { type: 'string', required: true },
    debug: { type: 'bool', value: 'yes' },
    policy: { Version: '2012', Statement: [] },
  },
}
const inner: MapValue = { variables: { host: 'inner.local', region: 'eu', image: 'ignored' } }
const outer: MapValue = { variables: { host: 'outer.local', region: 'us', zone: 'z1', token: { required: false } } }

const Scope = suite('variable scope')

const read = async (scope: ReturnType<typeof buildScope>, name: string): Promise<ArrowValue> =>
  await evaluate(`<- $${name}`, 'value', { vars: new ScopeVars(scope) })

Scope('resolution order: overrides, own, groups innermost first, built-ins, nil', async () => {
  const scope = buildScope(runnable, [inner, outer], { image: 'override' }, builtinVariables({ volumePath: '/v' }))
  assert.is(await read(scope, 'image'), 'override')
  assert.is(scope.get('image')?.origin, 'override')
  assert.is(await read(scope, 'port'), 8080)
  assert.is(await read(scope, 'host'), 'inner.local')
  assert.equal([scope.get('host')?.origin, scope.get('host')?.group], ['group', 0])
  assert.is(await read(scope, 'region'), 'eu')
  assert.is(await read(scope, 'zone'), 'z1')
  assert.is(await read(scope, 'monk-volume-path'), '/v')
  assert.is(await read(scope, 'moncc-volume-path'), '/v')
  assert.is(scope.get('monk-volume-path')?.origin, 'builtin')
  assert.is(await read(scope, 'nothing'), null)
})

Scope('a level without a value keeps looking further out but keeps its own type, env and required', async () => {
  const scope = buildScope(runnable, [inner, outer])
  const host = scope.get('host')
  assert.equal([host?.type, host?.env, host?.value], ['string', 'HOST', 'inner.local'])
  // The nearest declaration stating `required` wins.
  assert.is(scope.get('token')?.required, true)
})

Scope('shorthand and full specs; literal maps are values; type coercion', async () => {
  const scope = buildScope(runnable)
  assert.is(await read(scope, 'debug'), true)
  assert.equal(JSON.parse(JSON.stringify(await read(scope, 'policy'))), { Version: '2012', Statement: [] })
  assert.is(coerce('p', 'int', '0x10'), 16)
  assert.is(coerce('p', 'string', 8080), '8080')
  assert.is(coerce('p', 'string', false), 'false')
  assert.is(coerce('p', 'float', '2.5'), 2.5)
  assert.is(coerce('p', 'bigint', '12'), 12n)
  assert.is(coerce('p', 'bool', 'off'), false)
  assert.is(coerce('p', 'int', null), null)
  try { coerce('p', 'int', '1.5'); assert.unreachable() } catch (e) { assert.is((e as ArrowError).code, 'variable-type') }
})

Scope('--set values are strings converted to the declared type', async () => {
  const scope = buildScope(runnable, [], { port: '9090', debug: 'false', fresh: '1' })
  assert.is(await read(scope, 'port'), 9090)
  assert.is(await read(scope, 'debug'), false)
  assert.is(await read(scope, 'fresh'), '1')
  try { await read(buildScope(runnable, [], { port: 'x' }), 'port'); assert.unreachable() } catch (e) {
    assert.is((e as ArrowError).code, 'variable-type')
  }
})

Scope('arrow values are evaluated lazily, once, in the same scope', async () => {
  const scope = buildScope(runnable, [inner])
  const { host, calls } = fakeHost()
  const vars = new ScopeVars(scope, { host })
  assert.is(await evaluate('<- $url', 'value', { vars }), 'http://inner.local:8080')
  const counted = new ScopeVars(buildScope({ variables: { s: '<- secret("k")', t: '<- $s "!" concat' } }), { host })
  assert.is(await evaluate('<- $t $s concat', 'value', { vars: counted }), 'secret:k!secret:k')
  assert.is(calls.filter(c => c.cap === 'secret').length, 1)
})

Scope('a variable depending on itself fails with variable-cycle (sync and through the host)', async () => {
  const direct = new ScopeVars(buildScope({ variables: { a: '<- $a' } }))
  try { await evaluate('<- $a', 'value', { vars: direct }); assert.unreachable() } catch (e) { assert.is((e as ArrowError).code, 'variable-cycle') }
  const { host } = fakeHost()
  const viaHost = new ScopeVars(buildScope({ variables: { a: '<- secret("x") $b concat', b: '<- $a' } }), { host })
  try { await evaluate('<- $b', 'value', { vars: viaHost }); assert.unreachable() } catch (e) {
    assert.is((e as ArrowError).code, 'variable-cycle')
    assert.match((e as ArrowError).message, /\$b → \$a → \$b/)
  }
})

Scope('an error inside a variable names the variable', async () => {
  const vars = new ScopeVars(buildScope({ variables: { bad: '<- 1 "x" add' } }))
  try { await evaluate('<- $bad', 'value', { vars }); assert.unreachable() } catch (e) {
    assert.is((e as ArrowError).code, 'type')
    assert.match((e as ArrowError).message, /^variable bad: add expects a number/)
    assert.is((e as ArrowError).source, '<- 1 "x" add')
  }
})

Scope('required variables without a value are listed', () => {
  assert.equal(missingRequired(buildScope(runnable, [inner, outer])), ['token'])
  assert.equal(missingRequired(buildScope(runnable, [], { token: 't' })), [])
})

Scope('env bindings, including an env name computed by a script', async () => {
  const node: MapValue = {
    variables: {
      port: { type: 'int', value: 80, env: 'PORT' },
      pma: { value: 'db', env: '<- $pma not-eq?("") then("PMA_HOST") or("_")' },
      off: { value: 'x', env: '<- nil' },
      plain: 'no env',
    },
  }
  const scope = buildScope(node)
  assert.equal(envBindings(scope).map(b => [b.variable, b.envIsScript]), [['port', false], ['pma', true], ['off', true]])
  assert.equal(await resolveEnv(new ScopeVars(scope)), { PORT: '80', PMA_HOST: 'db' })
})

Scope('declaration problems are reported, not fatal', async () => {
  const scope = buildScope({ variables: { n: { type: 'number', value: 3 }, e: { env: 5, value: 1 } } })
  assert.equal(scope.problems.map(p => [p.variable, p.code]), [['n', 'variable-unknown-type'], ['e', 'variable-bad-spec']])
  assert.is(await read(scope, 'n'), 3)
})

Scope('args is a built-in of actions', async () => {
  const scope = buildScope({}, [], {}, builtinVariables({ args: { user: 'ann' } }))
  assert.is(await evaluate('<- `${args["user"]}` $args["user"] concat', 'value', { vars: new ScopeVars(scope) }), 'annann')
})

Scope.run()
