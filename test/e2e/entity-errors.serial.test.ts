// test-deadline-s: 240
// Entities with a real monkd process, where things go wrong or need the cluster: an S3-style bucket
// through cloud/aws with the provider credentials the cluster holds (a local fake checks the SigV4
// `Authorization` and `x-amz-date` headers; the EC2 emulator answers the provider's own check), a
// 4xx returned as `statusCode`, a transport error, a missing secret, an infinite loop and a memory
// bomb. Each failure ends the action with the lifecycle's message in describe, and monkd carries on.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe, PsRow } from '../../cli/api/messages.js'
import { startCloud, type Cloud } from '../helpers/cloud-emulators.js'
import { FakeApi, FakeS3, FakeWebhook } from '../helpers/entity-fakes.js'
import { BUCKET_JS, ITEM_JS, LIB_JS, kitYaml } from '../helpers/entity-kits.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'

const E = suite('entities: failures and cloud credentials with a real monkd')
const api = new FakeApi('tok-err')
const hook = new FakeWebhook()
const base = mkdtempSync(join(tmpdir(), 'monk-entity-errors-'))
let p: MonkdProcess | undefined
let cloud: Cloud | undefined
let s3: FakeS3 | undefined

/** A port nothing listens on (taken, then released). */
async function closedPort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>(resolve => { srv.listen(0, '127.0.0.1', resolve) })
  const port = (srv.address() as { port: number }).port
  await new Promise<void>(resolve => { srv.close(() => { resolve() }) })
  return port
}

const extra = (deadPort: number): string => `namespace: test-bad
dead:
  defines: test-api/item
  endpoint: http://127.0.0.1:${deadPort}
  name: nobody-listens
  permitted-secrets:
    api-token: true
nosecret:
  defines: test-api/item
  endpoint: ${api.url}
  name: no-secret
  token_secret: absent
  permitted-secrets:
    absent: true
loop:
  defines: entity
  lifecycle:
    create: 'function main() { for (;;) {} }'
looping:
  defines: test-bad/loop
bomb:
  defines: entity
  lifecycle:
    create: 'function main() { var kept = []; for (;;) kept.push(new Array(100000).fill(kept.length)) }'
bombing:
  defines: test-bad/bomb
`

const describe = async (i: string): Promise<Describe> => await p!.client.request<Describe>(`runnable/${i}`, { type: 'runnable.describe' })
const row = async (i: string): Promise<PsRow | undefined> => (await p!.client.request<PsRow[]>('peer', { type: 'workload.ps' })).find(r => r.instance === i)
const act = async (path: string, args: Record<string, string> = {}): Promise<string> => String((await p!.client.request<{ output: unknown }>(`runnable/${path.slice(0, path.lastIndexOf('/'))}`, { type: 'runnable.action', action: path.slice(path.lastIndexOf('/') + 1), args })).output)
/** Runs `i` and waits until describe shows the error its lifecycle ended with. */
async function failed (i: string, timeoutMs = 60_000): Promise<Describe> {
  await p!.client.request('peer', { type: 'workload.run', path: i })
  return await until(`${i} failed with its lifecycle's error`, async () => { const d = await describe(i); return d.entity?.error ? d : undefined }, timeoutMs)
}

E.before(async () => {
  cloud = await startCloud('aws')
  s3 = new FakeS3({ accessKeyId: cloud.creds.accessKeyId!, secretAccessKey: cloud.creds.secretAccessKey! })
  await api.start(); await s3.start(); await hook.start()
  p = await spawnMonkd('a', join(base, 'a'), ['--runtime', 'process'])
  await p.client.request('peer', { type: 'secrets.add', scope: 'global', name: 'api-token', value: 'tok-err' })
  const files = {
    '/k/kit.yaml': kitYaml({ apiUrl: api.url, s3Url: s3.url, hookUrl: hook.url }), '/k/item.js': ITEM_JS, '/k/lib.js': LIB_JS, '/k/bucket.js': BUCKET_JS,
    '/k/bad.yaml': extra(await closedPort()),
  }
  const load = await p.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files, paths: ['/k/kit.yaml', '/k/bad.yaml'] })
  assert.equal(load.errors, [])
})
E.after(async () => {
  p?.child.kill('SIGKILL')
  await api.stop(); await s3?.stop(); await hook.stop()
  await cloud?.emu.close()
  rmSync(base, { recursive: true, force: true })
})

E('cloud/aws: the bucket is created and checked with SigV4 from the cluster\'s provider credentials', async () => {
  const added = await p!.client.request<{ kind: string }>('peer', { type: 'cluster.provider-add', kind: 'aws', credentials: cloud!.creds as Record<string, string>, options: cloud!.options })
  assert.is(added.kind, 'aws')
  await p!.client.request('peer', { type: 'workload.run', path: 'test-api/photos' })
  await until('the bucket entity is ready', async () => (await row('test-api/photos'))?.entity?.ready === true, 60_000)
  assert.ok(s3!.buckets.has('photos'), 'the fake S3 holds the bucket')
  const signed = s3!.seen.at(-1)
  assert.match(String(signed?.headers.authorization), new RegExp(`^AWS4-HMAC-SHA256 Credential=${cloud!.creds.accessKeyId!}/\\d{8}/eu-west-1/s3/aws4_request`))
  assert.ok(typeof signed?.headers['x-amz-date'] === 'string', 'x-amz-date sent')
  assert.equal(s3!.rejected, [], 'every request passed the signature check')
  const d = await describe('test-api/photos')
  assert.equal(d.entity?.state, { bucket: 'photos', region: 'eu-west-1', location: '/photos' })
  assert.not.match(JSON.stringify(d), new RegExp(cloud!.creds.secretAccessKey!.replace(/[+/]/g, '.')), 'the secret key is in no describe output')
})

E('a 4xx is an answer: the action sees statusCode 404 and its headers', async () => {
  await p!.client.request('peer', { type: 'workload.run', path: 'test-api/one' })
  await until('the item is ready', async () => (await row('test-api/one'))?.entity?.ready === true, 60_000)
  assert.is(await act('test-api/one/peek', { id: 'nope' }), 'status 404 type application/json')
  assert.is((await describe('test-api/one')).entity?.state.last_status, 404)
})

E('a transport error fails create with the lifecycle\'s message; nothing is created', async () => {
  const d = await failed('test-bad/dead')
  assert.match(d.entity!.error!, /create: POST http:\/\/127\.0\.0\.1:\d+\/items: ECONNREFUSED/)
  assert.is(d.entity?.created, false)
})

E('a missing secret fails create with a message naming it', async () => {
  const d = await failed('test-bad/nosecret')
  assert.match(d.entity!.error!, /secret "absent" does not exist/)
  assert.is(d.entity?.created, false)
})

E('an infinite loop is interrupted at the CPU deadline; a memory bomb at the memory limit; monkd lives', async () => {
  const loop = await failed('test-bad/looping', 90_000)
  assert.match(loop.entity!.error!, /ran past its CPU deadline/, loop.entity!.error!)
  const bomb = await failed('test-bad/bombing', 90_000)
  assert.match(bomb.entity!.error!, /ran out of its memory limit/, bomb.entity!.error!)
  assert.is(p!.child.exitCode, null, 'monkd still runs')
  assert.ok((await row('test-api/one'))?.entity?.ready, 'the other entities carry on')
})

E.run()
