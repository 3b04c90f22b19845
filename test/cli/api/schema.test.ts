import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SchemaError } from '../../../cli/api/errors.js'
import { array, boolean, integer, json, message, number, object, oneOf, optional, record, string, type Decoder, type Infer } from '../../../cli/api/schema.js'

const Schema = suite('api schema decoders')

const run = message('workload.run', {
  path: string({ min: 1, pattern: /^[\w.-]+\/[\w.-]+$/, patternText: 'a template path like ns/name' }),
  tags: optional(array(string({ min: 1 }), { max: 16 })),
  peer: optional(string({ min: 1 })),
  forceMove: optional(boolean()),
  set: optional(record(string(), { keyPattern: /^[\w.-]+$/, keyText: 'a variable name' })),
  replicas: optional(integer({ min: 0, max: 100 })),
  mode: optional(oneOf('run', 'update')),
  options: optional(object({ wait: boolean(), timeout: optional(number({ min: 0 })) })),
  args: optional(json()),
})

// Compile-time: the decoded type has required and optional fields as declared.
type Run = Infer<typeof run>
const typed: Run = { type: 'workload.run', path: 'ns/app' }
// @ts-expect-error path is required
const missing: Run = { type: 'workload.run' }
void typed; void missing

function fieldOf (d: Decoder<unknown>, value: unknown): { field: string, message: string } {
  try {
    d.decode(value, '')
  } catch (e) {
    assert.instance(e, SchemaError)
    assert.is((e as SchemaError).code, 'invalid-body')
    return { field: (e as SchemaError).field, message: (e as Error).message }
  }
  throw new Error(`expected ${JSON.stringify(value)} to be rejected`)
}

Schema('a valid body decodes to exactly its declared fields', () => {
  const body = { type: 'workload.run', path: 'ns/app', tags: ['db'], set: { PORT: '80' }, forceMove: true, replicas: 3, mode: 'update', options: { wait: true }, args: { x: [1] } }
  assert.equal(JSON.parse(JSON.stringify(run.decode(body, ''))), body) // `set` has a null prototype
  assert.equal(run.decode({ type: 'workload.run', path: 'ns/app', peer: undefined }, ''), { type: 'workload.run', path: 'ns/app' })
})

const bad: Array<[string, unknown, string, RegExp]> = [
  ['missing required field', { type: 'workload.run' }, 'path', /field 'path' is required \(a template path like ns\/name\)/],
  ['wrong type', { type: 'workload.run', path: 7 }, 'path', /field 'path' must be a template path like ns\/name, got number 7/],
  ['pattern mismatch', { type: 'workload.run', path: 'no-slash' }, 'path', /must be a template path like ns\/name, got "no-slash"/],
  ['array element', { type: 'workload.run', path: 'ns/a', tags: ['db', 3] }, 'tags[1]', /field 'tags\[1\]' must be a non-empty string, got number 3/],
  ['array too long', { type: 'workload.run', path: 'ns/a', tags: Array(17).fill('t') }, 'tags', /at most 16/],
  ['not an array', { type: 'workload.run', path: 'ns/a', tags: 'db' }, 'tags', /must be a list of non-empty string values, got "db"/],
  ['record value', { type: 'workload.run', path: 'ns/a', set: { PORT: 80 } }, 'set.PORT', /field 'set\.PORT' must be a string, got number 80/],
  ['record key', { type: 'workload.run', path: 'ns/a', set: { 'bad key': 'x' } }, 'set.bad key', /key 'bad key' of 'set' must be a variable name/],
  ['integer', { type: 'workload.run', path: 'ns/a', replicas: 1.5 }, 'replicas', /an integer from 0 to 100, got number 1\.5/],
  ['range', { type: 'workload.run', path: 'ns/a', replicas: 101 }, 'replicas', /from 0 to 100/],
  ['enum', { type: 'workload.run', path: 'ns/a', mode: 'walk' }, 'mode', /one of "run", "update", got "walk"/],
  ['nested object field', { type: 'workload.run', path: 'ns/a', options: { wait: 'yes' } }, 'options.wait', /field 'options\.wait' must be true or false/],
  ['nested required', { type: 'workload.run', path: 'ns/a', options: {} }, 'options.wait', /is required/],
  ['unknown field (a typo)', { type: 'workload.run', path: 'ns/a', tgas: ['x'] }, 'tgas', /field 'tgas' is not allowed here \(allowed: type, path, tags/],
  ['null is not an absent field', { type: 'workload.run', path: 'ns/a', peer: null }, 'peer', /got null/],
  ['body not an object', ['workload.run'], '', /the request body must be an object, got an array/],
  ['wrong message type', { type: 'workload.stop', path: 'ns/a' }, 'type', /one of "workload\.run"/],
  ['NaN-like numbers are not numbers', { type: 'workload.run', path: 'ns/a', options: { wait: true, timeout: '5' } }, 'options.timeout', /a number >= 0, got "5"/],
]
for (const [name, value, field, msg] of bad) {
  Schema(`rejects with the field named: ${name}`, () => {
    const got = fieldOf(run, value)
    assert.is(got.field, field)
    assert.match(got.message, msg)
  })
}

Schema('records are created without a prototype (a __proto__ key is just a key)', () => {
  const out = record(string()).decode(JSON.parse('{"__proto__": "x", "a": "b"}'), 'set')
  assert.is(Object.getPrototypeOf(out), null)
  assert.is(out['__proto__'], 'x')
  assert.is(({} as Record<string, unknown>)['polluted'], undefined)
})

Schema.run()
