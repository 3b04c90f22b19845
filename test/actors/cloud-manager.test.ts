// The cloud manager with in-process meshes and the DigitalOcean emulator (machines never boot here):
// grow requests are checked, credentials are sealed for operator peers only (also for one that
// joins later, never for a grown machine), wrong credentials are refused before anything is
// stored, a machine that never joins fails and is destroyed, a dead driver's node is taken over.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { CloudManager } from '../../actors/cloud-manager.js'
import { decodeProvider, providerKey } from '../../actors/cloud/credentials.js'
import { silentLogger } from '../../actors/kit/index.js'
import { newNode, nodeKey } from '../../actors/node.js'
import { createCluster } from '../../mesh/cluster.js'
import { startMesh, type Mesh } from '../../mesh/mesh.js'
import type { Value } from '../../mesh/value.js'
import { startCloud, type Cloud } from '../helpers/cloud-emulators.js'
import { until } from '../helpers/monkd.js'

interface P { name: string, mesh: Mesh, cloud: CloudManager }

const base = mkdtempSync(join(tmpdir(), 'monk-cloudmgr-'))
const all: P[] = []
async function peer (name: string, token?: string): Promise<P> {
  const home = join(base, name)
  const mesh = await startMesh({ home, listen: ['/ip4/127.0.0.1/tcp/0'], name, tags: [], ...(token ? { token } : { cluster: createCluster() }) })
  await mesh.announce({ name })
  const cloud = await CloudManager.start({ home, mesh, log: silentLogger, takeoverGraceMs: 300, tickMs: 100, nodeConfig: { describeEveryMs: 200, retryInitialMs: 50, retryMaxMs: 200, maxAttempts: 3 } })
  const p = { name, mesh, cloud }
  all.push(p)
  return p
}
const stop = async (p: P): Promise<void> => { await p.cloud.stop(); await p.mesh.stop() }
const code = async (f: () => Promise<unknown>): Promise<string> => { try { await f(); return 'none' } catch (e) { return String((e as { code?: string }).code) } }

const test = suite<{ op1: P, op2: P, c: Cloud }>('cloud manager (in-process peers, DigitalOcean emulator)')
test.before(async ctx => {
  ctx.c = await startCloud('digitalocean')
  ctx.c.emu.faults.neverJoin = true
  ctx.op1 = await peer('op1')
  ctx.op2 = await peer('op2', ctx.op1.mesh.token())
  await until('op1 and op2 alive to each other', () => ctx.op1.mesh.alive().length === 2 && ctx.op2.mesh.alive().length === 2)
})
test.after(async ctx => {
  for (const p of all) await stop(p).catch(() => {})
  await ctx.c.emu.close()
  rmSync(base, { recursive: true, force: true })
})

test('grow requests are checked before anything is written', async ({ op1 }) => {
  assert.is(await code(() => op1.cloud.grow({ provider: 'azure', name: 'x' })), 'unknown-provider')
  assert.is(await code(() => op1.cloud.grow({ provider: 'aws', name: 'x' })), 'unknown-provider', 'no aws credentials yet')
  assert.is(await code(() => op1.cloud.grow({ provider: 'local', name: 'Bad_Name' })), 'bad-grow')
  assert.is(await code(() => op1.cloud.grow({ provider: 'local', name: 'x', tags: ['a b'] })), 'bad-grow')
  assert.is(await code(() => op1.cloud.grow({ provider: 'local', name: 'x', zone: 'z1' })), 'bad-grow')
  assert.is(await code(() => op1.cloud.grow({ provider: 'local', name: 'x', count: 0 })), 'bad-grow')
  assert.is(await code(() => op1.cloud.grow({ provider: 'local', name: 'x', diskSize: 1 })), 'bad-grow')
  assert.equal(op1.mesh.scan('node/'), [])
})

test('wrong credentials are refused with the provider\'s answer and nothing is stored', async ({ op1, c }) => {
  assert.is(await code(() => op1.cloud.providerAdd('digitalocean', c.badCreds, c.options)), 'bad-credentials')
  assert.is(op1.mesh.get(providerKey('digitalocean')), undefined)
})

test('credentials are sealed for the operator peers, later ones too, never for a grown machine', async ({ op1, op2, c }) => {
  const row = await op1.cloud.providerAdd('digitalocean', c.creds, c.options)
  assert.equal([...row.holders].sort(), ['op1', 'op2'])
  assert.not.ok(JSON.stringify(op1.cloud.providersList()).includes(c.creds.token!), 'the listing shows no credential')
  // a grown machine: its name is a node of the cluster
  await op1.mesh.put(nodeKey('web-9'), { ...newNode({ name: 'web-9', provider: 'digitalocean', driver: op1.mesh.peerId, growId: 'g', now: Date.now(), spec: { region: 'nyc3', zone: null, instanceType: 's-1vcpu-2gb', diskGb: 20, tags: [], image: null, keyPair: null, bootTimeoutMs: 600_000 } }), state: 'joined' } as unknown as Value)
  const grown = await peer('web-9', op1.mesh.token())
  const op3 = await peer('op3', op1.mesh.token())
  const rec = await until('op3 holds a copy', () => {
    const r = decodeProvider(op2.mesh.get(providerKey('digitalocean')))
    return r?.envelopes[op3.mesh.peerId] ? r : undefined
  }, 20_000)
  assert.is(rec.envelopes[grown.mesh.peerId], undefined, 'the grown machine holds none')
  assert.ok(rec.envelopes[op1.mesh.peerId] && rec.envelopes[op2.mesh.peerId])
  await stop(grown)
  await stop(op3)
})

test('a machine that never joins fails with boot-timeout and is destroyed', async ({ op1, c }) => {
  const { nodes } = await op1.cloud.grow({ provider: 'digitalocean', name: 'never', growTimeout: 0.03 })
  assert.equal(nodes, ['never-1'])
  const row = await until('never-1 failed and cleaned up', () => {
    const [r] = op1.cloud.nodes(nodes)
    return r?.state === 'failed' && r.cleanup !== 'pending' ? r : undefined
  }, 20_000)
  assert.is(row.error?.code, 'boot-timeout')
  assert.is(row.cleanup, 'done')
  assert.ok(c.emu.all().some(m => m.name === 'never-1'), 'it was created')
  assert.not.ok(c.emu.live().some(m => m.name === 'never-1'), 'and destroyed')
})

test('a cloud outage: the grow fails with the cloud\'s 500 after its retries, the cleanup waits for the cloud, nothing leaks', async ({ op1, c }) => {
  c.emu.faults.outage = true
  const { nodes } = await op1.cloud.grow({ provider: 'digitalocean', name: 'outage' })
  const failed = await until('outage-1 failed', () => {
    const [r] = op1.cloud.nodes(nodes)
    return r?.state === 'failed' ? r : undefined
  }, 20_000)
  assert.is(failed.error?.code, 'unavailable')
  assert.match(failed.error?.message ?? '', /500 server_error: Server was unable to give you a response/)
  await new Promise(resolve => setTimeout(resolve, 500))
  assert.is(op1.cloud.nodes(nodes)[0]?.cleanup, 'pending', 'the cleanup cannot confirm yet: it keeps trying')
  c.emu.faults.outage = false
  await until('cleaned up once the cloud answers', () => op1.cloud.nodes(nodes)[0]?.cleanup === 'done', 20_000)
  assert.not.ok(c.emu.live().some(m => m.name === 'outage-1'))
})

test('the driver dies while its machine boots: the other operator peer takes the node over', async ({ op1, op2, c }) => {
  const { nodes } = await op1.cloud.grow({ provider: 'digitalocean', name: 'orphan', growTimeout: 10 })
  await until('orphan-1 booting', () => op1.cloud.nodes(nodes)[0]?.state === 'booting')
  await stop(op1)
  const row = await until('op2 drives orphan-1', () => {
    const [r] = op2.cloud.nodes(nodes)
    return r?.driver === op2.mesh.peerId ? r : undefined
  }, 20_000)
  assert.is(row.state, 'booting')
  assert.is(c.emu.live().filter(m => m.name === 'orphan-1').length, 1, 'no second machine')
  await op2.cloud.peerRemove({ ids: ['orphan-1'] })
  await until('orphan-1 gone', () => op2.cloud.nodes(nodes)[0]?.state === 'gone', 20_000)
  assert.is(c.emu.live().length, 0)
})

test.run()
