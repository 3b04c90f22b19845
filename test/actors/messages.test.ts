// The message schemas (actors/messages): every real request decodes to exactly its fields, and a
// bad one is refused naming the field; the one table routes every type to one actor.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeWith, dispatch, handlerOf, messageTable, MessageError, schemaOf, typesOf, UnknownMessageError, type AllHandlers, type RequestOf } from '../../actors/messages/index.js'
import { monkdRoutes } from '../../cli/api/messages.js'

const M = suite('messages')

function fieldOf (type: string, value: unknown): { field: string, message: string } {
  try {
    decodeWith(schemaOf(type)!, value)
  } catch (e) {
    assert.instance(e, MessageError)
    assert.is((e as MessageError).code, 'invalid-body')
    return { field: (e as MessageError).field, message: (e as Error).message }
  }
  throw new Error(`expected ${JSON.stringify(value)} to be rejected`)
}

// Compile-time: decoded types have required and optional fields as declared.
const typed: RequestOf<'workload.run'> = { type: 'workload.run', path: 'ns/app' }
// @ts-expect-error path is required
const missing: RequestOf<'workload.run'> = { type: 'workload.run' }
void typed; void missing

M('a valid body decodes to exactly its declared fields', () => {
  const body = { type: 'workload.run', path: 'ns/app', tags: ['db'], set: { PORT: '80' }, forceMove: true, wait: true, timeout: 30 }
  assert.equal(decodeWith(schemaOf('workload.run')!, body), body)
  assert.equal(decodeWith(schemaOf('cluster.grow')!, { type: 'cluster.grow', provider: 'local', name: 'm', count: 2, follow: true }), { type: 'cluster.grow', provider: 'local', name: 'm', count: 2, follow: true })
  assert.equal(decodeWith(schemaOf('runnable.action')!, { type: 'runnable.action', action: 'put', args: { x: [1] } }), { type: 'runnable.action', action: 'put', args: { x: [1] } })
})

const bad: Array<[string, string, unknown, string, RegExp]> = [
  ['missing required field', 'workload.run', { type: 'workload.run' }, 'path', /field 'path' is required/],
  ['wrong type', 'workload.run', { type: 'workload.run', path: 7 }, 'path', /field 'path' must be a template path like ns\/name, got number 7/],
  ['pattern mismatch', 'workload.run', { type: 'workload.run', path: 'no slash here' }, 'path', /must be a template path like ns\/name, got "no slash here"/],
  ['array element', 'workload.run', { type: 'workload.run', path: 'ns/a', tags: ['db', 3] }, 'tags[1]', /field 'tags\[1\]' must be a non-empty string, got number 3/],
  ['array too long', 'workload.run', { type: 'workload.run', path: 'ns/a', tags: Array(65).fill('t') }, 'tags', /at most 64/],
  ['not an array', 'workload.run', { type: 'workload.run', path: 'ns/a', tags: 'db' }, 'tags', /must be a list of strings, got "db"/],
  ['record value', 'workload.run', { type: 'workload.run', path: 'ns/a', set: { PORT: 80 } }, 'set.PORT', /field 'set\.PORT' must be a string, got number 80/],
  ['integer', 'cluster.grow', { type: 'cluster.grow', provider: 'aws', name: 'm', count: 1.5 }, 'count', /an integer from 1 to 100, got number 1\.5/],
  ['range', 'cluster.grow', { type: 'cluster.grow', provider: 'aws', name: 'm', count: 101 }, 'count', /from 1 to 100/],
  ['boolean', 'workload.run', { type: 'workload.run', path: 'ns/a', wait: 'yes' }, 'wait', /field 'wait' must be true or false, got "yes"/],
  ['unknown field (a typo)', 'workload.run', { type: 'workload.run', path: 'ns/a', tgas: ['x'] }, 'tgas', /field 'tgas' is not allowed here \(allowed: type, path, tags/],
  ['null is not an absent field', 'workload.run', { type: 'workload.run', path: 'ns/a', peer: null }, 'peer', /got null/],
  ['body not an object', 'workload.run', ['workload.run'], '', /the request body must be/],
  ['wrong message type', 'workload.run', { type: 'workload.stop', path: 'ns/a' }, 'type', /got "workload\.stop"/],
  ['numbers are not strings', 'workload.run', { type: 'workload.run', path: 'ns/a', timeout: '5' }, 'timeout', /a number of seconds.*got "5"/],
  ['exec needs a command', 'runnable.exec', { type: 'runnable.exec', cmd: [] }, 'cmd', /a list of at least 1/],
]
for (const [name, type, value, field, msg] of bad) {
  M(`rejects with the field named: ${name}`, () => {
    const got = fieldOf(type, value)
    assert.is(got.field, field)
    assert.match(got.message, msg)
  })
}

M('a __proto__ key in a map is just a key (no prototype pollution)', () => {
  const out = decodeWith(schemaOf('workload.run')!, JSON.parse('{"type": "workload.run", "path": "ns/a", "set": {"__proto__": "x", "a": "b"}}')) as { set: Record<string, string> }
  assert.is(({} as Record<string, unknown>)['x'], undefined)
  assert.is(out.set.a, 'b')
})

M('the table: every type has exactly one actor, and the API routes cover every type but peer-only ones', () => {
  const all = Object.values(messageTable).flatMap(r => Object.keys(r))
  assert.is(new Set(all).size, all.length)
  for (const t of all) assert.ok(handlerOf(t), t)
  assert.is(handlerOf('workload.run'), 'workloads')
  assert.is(handlerOf('cluster.grow'), 'cloud')
  assert.is(handlerOf('runnable.describe'), 'runnable')
  assert.is(handlerOf('nope.nope'), undefined)
  const routed = monkdRoutes().flatMap(r => Object.keys(r.messages))
  assert.equal(new Set([...routed, 'runnable.logs-page']), new Set(all))
  assert.equal(typesOf(['secrets']).sort(), ['secrets.add', 'secrets.list', 'secrets.rm'])
})

M('dispatch calls the handler the table names, with its typed message', async () => {
  const calls: string[] = []
  const reject = (): Promise<never> => Promise.reject(new Error('not this one'))
  const stub: never = new Proxy({}, { get: () => reject }) as never
  const all = {
    cluster: stub, templates: stub, cloud: stub, runnable: stub, workloads: stub, group: stub,
    secrets: {
      'secrets.add': m => { calls.push(`add ${m.scope}/${m.name}`); return Promise.resolve({ scope: m.scope, name: m.name }) },
      'secrets.rm': reject,
      'secrets.list': reject,
    },
  } satisfies AllHandlers
  const ctx = { target: undefined, signal: new AbortController().signal }
  assert.equal(await dispatch(all, { type: 'secrets.add', scope: 'global', name: 'k', value: 'v' }, ctx), { scope: 'global', name: 'k' })
  assert.equal(calls, ['add global/k'])
  assert.throws(() => dispatch(all, { type: 'nope.nope' } as never, ctx), (e: unknown) => e instanceof UnknownMessageError)
})

M.run()
