// Entity lifecycles in the QuickJS sandbox against local fakes: the HTTP-API item (state, module
// require, custom action with args, 4xx as statusCode, transport error, missing secret), the
// S3-style bucket on cloud/aws (SigV4 checked by the fake), a webhook entity, and the limits
// (an infinite loop, a memory bomb).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { EntityError } from '../../../actors/entity/errors.js'
import type { EntityHostDeps } from '../../../actors/entity/host/modules.js'
import { runAction, type ActionRequest, type EntityState } from '../../../actors/entity/lifecycle.js'
import { definitionHash, definitionOf, entityType, missingRequired } from '../../../actors/entity/type.js'
import type { MapValue } from '../../../grammar/monkscript/types.js'
import { FakeApi, FakeS3, FakeWebhook } from '../../helpers/entity-fakes.js'
import { BUCKET_JS, ITEM_JS, LIB_JS } from '../../helpers/entity-kits.js'

const L = suite('entity: lifecycles in the sandbox')
const api = new FakeApi('tok-123')
const keys = { accessKeyId: 'AKIDTEST', secretAccessKey: 'shh/secret+key' }
const s3 = new FakeS3(keys)
const hook = new FakeWebhook()
const secrets = new Map<string, string>([['global/api-token', 'tok-123']])

L.before(async () => { await api.start(); await s3.start(); await hook.start() })
L.after(async () => { await api.stop(); await s3.stop(); await hook.stop() })

const itemType = entityType('test-api/item', {
  metadata: { name: 'item', version: '1' },
  schema: { required: ['endpoint', 'name'], endpoint: { type: 'string' }, name: { type: 'string' }, size: { type: 'integer', default: 1 }, token_secret: { type: 'string', default: 'api-token' } },
  lifecycle: { sync: ITEM_JS, resize: '', peek: '' },
  checks: { readiness: { period: 1, attempts: 3 } },
})

function deps (o: Partial<EntityHostDeps> = {}): EntityHostDeps {
  return {
    instance: 'test-api/one', permittedSecrets: ['api-token'],
    secrets: {
      read: (scope, name) => secrets.get(`${scope}/${name}`),
      write: (scope, name, v) => { secrets.set(`${scope}/${name}`, v); return Promise.resolve() },
      remove: (scope, name) => { secrets.delete(`${scope}/${name}`); return Promise.resolve() },
    },
    files: {}, act: () => Promise.resolve(''), cloud: { aws: () => keys }, sleep: ms => new Promise(resolve => setTimeout(resolve, ms)),
    ...o,
  }
}

const moduleSource = (n: string): string | undefined => n === 'test-api/lib' ? LIB_JS : undefined
const item = (action: string, state: EntityState, def: MapValue = definitionOf(itemType, { defines: 'test-api/item', endpoint: api.url, name: 'first', size: 2, 'permitted-secrets': { 'api-token': true } }), more: Partial<ActionRequest> = {}) =>
  runAction({ type: itemType, instance: 'test-api/one', action, definition: def, state, host: deps(), moduleSource, ...more })

const code = async (p: Promise<unknown>): Promise<string> => { try { await p; return 'none' } catch (e) { return e instanceof EntityError ? `${e.code}: ${e.message}` : `other: ${String(e)}` } }

L('the definition takes schema defaults, drops monk keys; required fields are checked', () => {
  const def = definitionOf(itemType, { defines: 'test-api/item', endpoint: 'x', name: 'n', 'permitted-secrets': { a: true }, services: {} })
  assert.equal(def, { size: 1, token_secret: 'api-token', endpoint: 'x', name: 'n' })
  assert.equal(missingRequired(itemType, { endpoint: 'x' }), ['name'])
  assert.is.not(definitionHash(itemType, def), definitionHash(itemType, { ...def, size: 3 }))
  assert.is(definitionHash(itemType, def), definitionHash(itemType, { name: 'n', endpoint: 'x', token_secret: 'api-token', size: 1 }))
})

L('create then start: the state the fake API made, output captured, a module through require', async () => {
  const c = await item('create', {})
  assert.is(typeof c.state.id, 'string')
  assert.ok(api.items.has(c.state.id as string), 'the fake holds the item')
  assert.equal(api.items.get(c.state.id as string), { id: c.state.id, name: 'first', size: 2 })
  assert.equal(c.output, [`created item ${String(c.state.id)}`])
  assert.ok(c.startupMs > 0 && c.startupMs < 2000)
  const s = await item('start', c.state)
  assert.is(s.state.starts, 1)
})

L('a custom action with args; a 4xx is an answer with statusCode, headers canonical', async () => {
  const c = await item('create', {})
  const r = await item('resize', c.state, undefined, { args: { size: '7' } })
  assert.is(r.state.size, 7)
  assert.is(api.items.get(c.state.id as string)?.size, 7)
  assert.equal(r.output, ['resized to 7'])
  const p = await item('peek', c.state, undefined, { args: { id: 'nope' } })
  assert.is(p.state.last_status, 404)
  assert.equal(p.output, ['status 404 type application/json'])
  assert.match(await code(item('no-such', c.state)), /^entity-no-action: test-api\/one \(test-api\/item\) has no action "no-such"/)
})

L('a transport error sets error (the lifecycle throws it): the state is not replaced', async () => {
  const closed = await new FakeWebhook().start()
  await closed.stop()
  const dead = definitionOf(itemType, { endpoint: closed.url, name: 'x' })
  assert.match(await code(item('create', {}, dead)), new RegExp(`^entity-failed: create: POST ${closed.url}/items: ECONNREFUSED$`))
})

L('a missing secret and a secret not permitted fail with the message the lifecycle threw', async () => {
  const def = definitionOf(itemType, { endpoint: api.url, name: 'x', token_secret: 'absent' })
  assert.match(await code(runAction({ type: itemType, instance: 'test-api/one', action: 'create', definition: def, state: {}, host: deps({ permittedSecrets: ['absent'] }), moduleSource })), /^entity-failed: secret "absent" does not exist/)
  assert.match(await code(runAction({ type: itemType, instance: 'test-api/one', action: 'create', definition: def, state: {}, host: deps(), moduleSource })), /^entity-failed: test-api\/one may not use secret "absent": list it under permitted-secrets/)
})

L('readiness: a 503 throws "not ready", then passes and marks the state', async () => {
  const c = await item('create', {})
  api.notReadyFor = 1
  try {
    assert.match(await code(item('check-readiness', c.state)), /^entity-failed: not ready: 503$/)
    const ok = await item('check-readiness', c.state)
    assert.is(ok.state.ready, true)
  } finally { api.notReadyFor = 0 }
})

L('purge deletes at the API and returns the empty state', async () => {
  const c = await item('create', {})
  const p = await item('purge', c.state)
  assert.equal(p.state, {})
  assert.not.ok(api.items.has(c.state.id as string))
})

const bucketType = entityType('test-api/bucket', { schema: { required: ['bucket'], bucket: { type: 'string' }, region: { type: 'string', default: 'eu-west-1' }, endpoint: { type: 'string' } }, lifecycle: { sync: BUCKET_JS } })
const bucket = (action: string, state: EntityState, host = deps()) => runAction({ type: bucketType, instance: 'test-api/photos', action, definition: definitionOf(bucketType, { bucket: 'photos', endpoint: s3.url }), state, host, moduleSource })

L('cloud/aws: SigV4-signed requests pass the fake S3 check; the keys never reach the guest', async () => {
  const c = await bucket('create', {})
  assert.equal(c.state, { bucket: 'photos', region: 'eu-west-1', location: '/photos' })
  assert.ok(s3.buckets.has('photos'))
  await bucket('check-readiness', c.state)
  const signed = s3.seen.at(-1)
  assert.match(String(signed?.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/s3\/aws4_request/)
  assert.ok(typeof signed?.headers['x-amz-date'] === 'string')
  assert.equal(s3.rejected, [])
  assert.not.match(JSON.stringify(c), /shh/)
  const wrong = await code(bucket('purge', c.state, deps({ cloud: { aws: () => ({ ...keys, secretAccessKey: 'wrong' }) } })))
  assert.match(wrong, /^entity-failed: delete bucket: 403/)
  assert.equal(s3.rejected, ['signature does not match'])
  assert.match(await code(bucket('purge', c.state, deps({ cloud: {} }))), /the cluster has no aws credentials/)
  assert.equal((await bucket('purge', c.state)).state, {})
})

L('cloud/azure says it is not supported', async () => {
  const t = entityType('t/az', { lifecycle: { create: 'function main() { azure.get("https://management.azure.com/x") }' } })
  assert.match(await code(runAction({ type: t, instance: 't/a', action: 'create', definition: {}, state: {}, host: deps(), moduleSource })), /^entity-failed: cloud\/azure\.get: Azure is not supported by monk/)
})

const hookType = entityType('test-api/hook', { schema: { name: { type: 'string' } }, lifecycle: { create: { url: '' }, start: { url: '' } } })
L('a webhook lifecycle POSTs {definition, state, context} and takes {state, output}', async () => {
  const t = entityType('test-api/hook', { lifecycle: { create: { url: `${hook.url}/create` }, start: { url: `${hook.url}/start` } } })
  assert.is(hookType.lifecycle.create?.kind, 'webhook')
  const c = await runAction({ type: t, instance: 'test-api/hooked', action: 'create', definition: { name: 'h1' }, state: {}, host: deps(), moduleSource })
  assert.equal(c.state, { n_create: 1, name: 'h1' })
  assert.equal(c.output, ['webhook create for h1'])
  const s = await runAction({ type: t, instance: 'test-api/hooked', action: 'start', definition: { name: 'h1' }, state: c.state, host: deps(), moduleSource })
  assert.equal(s.state, { n_create: 1, name: 'h1', n_start: 1 })
  assert.equal(JSON.parse(hook.seen.at(-1)?.body ?? '{}').context.action, 'start')
  hook.failNext = true
  assert.match(await code(runAction({ type: t, instance: 'test-api/hooked', action: 'start', definition: { name: 'h1' }, state: s.state, host: deps(), moduleSource })), /^entity-failed: test-api\/hooked: webhook start answered 500/)
})

L('an infinite loop is interrupted at the CPU deadline; a memory bomb at the memory limit', async () => {
  const t = entityType('t/bad', { lifecycle: { create: 'function main() { for (;;) {} }', start: 'function main() { var a = []; for (;;) a.push({ n: a.length, list: [a.length, a.length + 1, a.length + 2] }) }' } })
  const run = (action: string) => runAction({ type: t, instance: 't/bad', action, definition: {}, state: { kept: true }, host: deps(), moduleSource, limits: { cpuMs: action === 'create' ? 300 : 20_000, memoryBytes: 4 * 1024 * 1024 } })
  const t0 = Date.now()
  assert.match(await code(run('create')), /^entity-timeout: t\/bad lifecycle\.create: the lifecycle ran past its CPU deadline of 300 ms/)
  assert.ok(Date.now() - t0 < 5000, 'interrupted promptly')
  assert.match(await code(run('start')), /^entity-memory: .*ran out of its memory limit/)
})

L('sleep does not count against the CPU deadline; a thrown string and a missing main are clear', async () => {
  const t = entityType('t/s', { lifecycle: { create: 'function main(d, s) { sleep(400); return { slept: true } }', start: 'function main() { throw "plain words" }', stop: 'var x = 1' } })
  const run = (action: string) => runAction({ type: t, instance: 't/s', action, definition: {}, state: {}, host: deps(), moduleSource, limits: { cpuMs: 200 } })
  assert.equal((await run('create')).state, { slept: true })
  assert.is(await code(run('start')), 'entity-failed: plain words')
  assert.match(await code(run('stop')), /^entity-no-main: /)
})

L.run()
