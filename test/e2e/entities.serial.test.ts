// test-deadline-s: 240
// Entities with a real monkd process: the HTTP-API item entity against a local fake with state
// (create, start, readiness retry, a custom action with args, a failed action keeping the state,
// update skipped on an unchanged definition hash and run on a changed one, liveness, purge), a
// webhook entity, and a runnable that waits for the entity and reads its state through a
// connection (`connection-target("item") entity-state get-member("id")`).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe, PsRow } from '../../cli/api/messages.js'
import { FakeApi, FakeS3, FakeWebhook } from '../helpers/entity-fakes.js'
import { BUCKET_JS, ITEM_JS, LIB_JS, kitYaml } from '../helpers/entity-kits.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'

const E = suite('entities: lifecycles run by a real monkd')
const api = new FakeApi('tok-e2e')
const s3 = new FakeS3({ accessKeyId: 'AKIDE2E', secretAccessKey: 'e2e-secret' })
const hook = new FakeWebhook()
const base = mkdtempSync(join(tmpdir(), 'monk-entities-'))
let p: MonkdProcess | undefined

const kit = (o: { size?: number } = {}): { files: Record<string, string>, paths: string[] } => ({
  files: { '/k/kit.yaml': kitYaml({ apiUrl: api.url, s3Url: s3.url, hookUrl: hook.url, ...o }), '/k/item.js': ITEM_JS, '/k/lib.js': LIB_JS, '/k/bucket.js': BUCKET_JS },
  paths: ['/k/kit.yaml'],
})
const describe = async (i: string): Promise<Describe> => await p!.client.request<Describe>(`runnable/${i}`, { type: 'runnable.describe' })
const row = async (i: string): Promise<PsRow | undefined> => (await p!.client.request<PsRow[]>('peer', { type: 'workload.ps' })).find(r => r.instance === i)
const act = async (path: string, args: Record<string, string> = {}): Promise<string> => String((await p!.client.request<{ output: unknown }>(`runnable/${path.slice(0, path.lastIndexOf('/'))}`, { type: 'runnable.action', action: path.slice(path.lastIndexOf('/') + 1), args })).output)
const failure = async (f: () => Promise<unknown>): Promise<string> => { try { await f(); return 'none' } catch (e) { return (e as Error).message } }

E.before(async () => {
  await api.start(); await s3.start(); await hook.start()
  p = await spawnMonkd('a', join(base, 'a'), ['--runtime', 'process'])
  await p.client.request('peer', { type: 'secrets.add', scope: 'global', name: 'api-token', value: 'tok-e2e' })
  const load = await p.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', ...kit() })
  assert.equal(load.errors, [])
})
E.after(async () => {
  p?.child.kill('SIGKILL')
  await api.stop(); await s3.stop(); await hook.stop()
  rmSync(base, { recursive: true, force: true })
})

E('run: create once, start, readiness retried until the API answers, then ready in ps', async () => {
  api.notReadyFor = 2
  await p!.client.request('peer', { type: 'workload.run', path: 'test-api/one' })
  const r = await until('the entity is ready', async () => { const x = await row('test-api/one'); return x?.entity?.ready === true ? x : undefined }, 60_000)
  assert.is(r.status, 'running')
  assert.equal(r.entity, { type: 'test-api/item', ready: true })
  assert.is(api.count('POST'), 1, 'create ran once')
  assert.ok(api.count('GET') >= 3, `readiness retried (GETs: ${api.count('GET')})`)
  const d = await describe('test-api/one')
  assert.ok(d.entity, 'describe has the entity section')
  assert.is(d.entity.state.starts, 1)
  assert.is(d.entity.state.ready, true)
  assert.is(typeof d.entity.state.id, 'string')
  assert.equal(api.items.get(String(d.entity.state.id)), { id: d.entity.state.id, name: 'first', size: 2 })
  assert.is(d.entity.definition.token_secret, '***', 'secret-looking fields are masked')
  assert.equal(d.entity.actions, ['fail', 'peek', 'resize'])
})

E('monk do: a custom action with args; a failed action keeps the state and reports the message', async () => {
  assert.is(await act('test-api/one/resize', { size: '5' }), 'resized to 5')
  const d = await describe('test-api/one')
  assert.is(d.entity?.state.size, 5)
  assert.is(api.items.get(String(d.entity?.state.id))?.size, 5)
  assert.match(await failure(() => act('test-api/one/fail', { why: 'on purpose' })), /boom: on purpose/)
  const after = await describe('test-api/one')
  assert.equal(after.entity?.state, d.entity?.state, 'state kept')
  assert.is(after.entity?.error, 'boom: on purpose')
  assert.is(after.entity?.lastAction, 'fail')
  assert.match(await failure(() => act('test-api/one/nothing')), /has no action "nothing"/)
  const listed = await p!.client.request<Array<{ name: string }>>('runnable/test-api/one', { type: 'runnable.actions' })
  assert.equal(listed.map(a => a.name), ['fail', 'peek', 'resize'])
})

E('update: skipped when the definition hash is unchanged, run when it changed', async () => {
  const puts = api.count('PUT')
  await p!.client.request('peer', { type: 'workload.update', path: 'test-api/one' })
  await until('the update was skipped', async () => (await describe('test-api/one')).entity?.output.some(l => /update skipped/.test(l)), 30_000)
  assert.is(api.count('PUT'), puts, 'no PUT for an unchanged definition')
  const load = await p!.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', ...kit({ size: 3 }) })
  assert.equal(load.errors, [])
  await p!.client.request('peer', { type: 'workload.update', path: 'test-api/one' })
  // the update, then the start that follows it, both persisted (ready alone may still be the old generation's)
  const d = await until('the update ran, then start', async () => { const x = await describe('test-api/one'); return x.entity?.state.updates === 1 && x.entity.lastAction !== 'update' && x.ready ? x : undefined }, 30_000)
  assert.is(d.entity?.state.size, 3)
  assert.is(api.items.get(String(d.entity?.state.id))?.size, 3)
  assert.is(d.entity?.state.starts, 2, 'update, then start')
  assert.is(api.count('POST'), 1, 'never created again')
})

E('a runnable waits for the entity and reads its state through a connection', async () => {
  await p!.client.request('peer', { type: 'workload.run', path: 'test-api/reader' })
  await until('the reader runs', async () => (await row('test-api/reader'))?.status === 'running', 60_000)
  const id = String((await describe('test-api/one')).entity?.state.id)
  assert.is(await act('test-api/reader/show'), id)
})

E('liveness: a failing check marks the entity not ready with the error, a passing one ready again', async () => {
  api.down = true
  try {
    const r = await until('not ready', async () => { const x = await row('test-api/one'); return x?.entity?.ready === false ? x : undefined }, 30_000)
    assert.match(r.error ?? '', /liveness failed: not ready: 503/)
  } finally { api.down = false }
  await until('ready again', async () => (await row('test-api/one'))?.entity?.ready === true, 30_000)
})

E('a group runs its entity member (a module member is skipped with the reason); the webhook entity: create, start, a custom action', async () => {
  const reply = await p!.client.request<{ instances: string[], skipped?: Array<{ path: string, why: string }> }>('peer', { type: 'workload.run', path: 'test-api/bundle' })
  assert.equal(reply.instances, ['test-api/hooked'])
  assert.equal(reply.skipped?.map(x => `${x.path}: ${x.why}`), ['test-api/lib: a module is code that entities require; it does not run'])
  const d = await until('the webhook entity runs', async () => { const x = await describe('test-api/hooked'); return x.ready ? x : undefined }, 30_000)
  assert.equal(d.entity?.state, { n_create: 1, n_start: 1, name: 'hooked-one' })
  assert.is(await act('test-api/hooked/ping'), 'webhook ping for hooked-one')
  assert.is((await describe('test-api/hooked')).entity?.state.n_ping, 1)
  const g = await until('the group is running', async () => { const x = await p!.client.request<{ status: { state: string }, members: Array<{ instance: string }> }>('runnable/test-api/bundle', { type: 'runnable.describe' }); return x.status.state === 'running' ? x : undefined }, 30_000)
  assert.equal(g.members.map(m => m.instance), ['test-api/hooked'])
})

E('purge runs the purge lifecycle (the API item is deleted) and removes the entity', async () => {
  const id = String((await describe('test-api/one')).entity?.state.id)
  await p!.client.request('peer', { type: 'workload.purge', path: 'test-api/reader' })
  await p!.client.request('peer', { type: 'workload.purge', path: 'test-api/one' })
  await until('the item is deleted at the API', () => !api.items.has(id), 30_000)
  await until('the entity is gone', async () => /not running/.test(await failure(() => describe('test-api/one'))), 30_000)
  assert.not.match(p!.output(), /tok-e2e/, 'the secret never reaches the daemon output')
})

E.run()
