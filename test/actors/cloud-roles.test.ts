// Cloud credentials and roles (issue 13), with in-process meshes enforcing admission and the
// DigitalOcean emulator: credentials are sealed for operators only (not for a worker, not for a
// peer holding only the cluster key), and withdrawn from an operator whose admission is revoked.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { CloudManager } from '../../actors/cloud-manager.js'
import { decodeProvider, providerKey } from '../../actors/cloud/credentials.js'
import { silentLogger } from '../../actors/kit/index.js'
import { createCluster } from '../../mesh/cluster.js'
import { startMesh, type Mesh } from '../../mesh/mesh.js'
import { startCloud, type Cloud } from '../helpers/cloud-emulators.js'
import { fastConfig } from '../helpers/mesh-cluster.js'
import { until } from '../helpers/monkd.js'

interface P { name: string, mesh: Mesh, cloud: CloudManager }

const base = mkdtempSync(join(tmpdir(), 'monk-cloudroles-'))
const all: P[] = []
async function peer (name: string, token?: string): Promise<P> {
  const home = join(base, name)
  const mesh = await startMesh({ home, listen: ['/ip4/127.0.0.1/tcp/0'], name, tags: [], config: fastConfig, admission: true, ...(token ? { token } : { cluster: createCluster() }) })
  await mesh.announce({ name })
  const cloud = await CloudManager.start({ home, mesh, log: silentLogger, takeoverGraceMs: 300, tickMs: 100, nodeConfig: { describeEveryMs: 200, retryInitialMs: 50, retryMaxMs: 200, maxAttempts: 3 } })
  const p = { name, mesh, cloud }
  all.push(p)
  return p
}

const test = suite<{ c: Cloud }>('cloud credentials by role (admission enforced)')
test.before(async ctx => { ctx.c = await startCloud('digitalocean') })
test.after(async ctx => {
  for (const p of all) { await p.cloud.stop().catch(() => {}); await p.mesh.stop().catch(() => {}) }
  await ctx.c.emu.close()
  rmSync(base, { recursive: true, force: true })
})

test('operators get the credentials; a worker and a peer without an invite do not; a removed operator loses its copy', async ({ c }) => {
  const op1 = await peer('op1')
  const op2 = await peer('op2', await op1.mesh.invite({ role: 'operator', uses: 1, ttlMs: 0 }))
  const worker = await peer('worker', await op1.mesh.invite({ role: 'worker', uses: 1, ttlMs: 0 }))
  const stranger = await peer('stranger', op1.mesh.token())
  await until('roles settled at op1', () => op1.mesh.roleOf(op2.mesh.peerId) === 'operator' && op1.mesh.roleOf(worker.mesh.peerId) === 'worker' && op1.mesh.alive().length === 4, 20_000)
  const row = await op1.cloud.providerAdd('digitalocean', c.creds, c.options)
  assert.equal([...row.holders].sort(), ['op1', 'op2'])
  const rec = decodeProvider(op1.mesh.get(providerKey('digitalocean')))!
  assert.equal(Object.keys(rec.envelopes).sort(), [op1.mesh.peerId, op2.mesh.peerId].sort())
  // the worker (it publishes a seal key) and the stranger never get one from the sharing passes
  await until('the worker\'s seal key is known at op1', () => {
    const r = op1.mesh.get(`peer/${worker.mesh.peerId}`) as { sealKey?: unknown } | undefined
    return r?.sealKey instanceof Uint8Array
  })
  // a sharing pass after that: an operator joining now gets its copy
  const op3 = await peer('op3', await op1.mesh.invite({ role: 'operator', uses: 1, ttlMs: 0 }))
  const later = await until('op3 holds a copy', () => {
    const r = decodeProvider(op2.mesh.get(providerKey('digitalocean')))
    return r?.envelopes[op3.mesh.peerId] ? r : undefined
  }, 20_000)
  assert.is(later.envelopes[worker.mesh.peerId], undefined)
  assert.is(later.envelopes[stranger.mesh.peerId], undefined)
  await op1.mesh.admit(op2.mesh.peerId, 'removed')
  await until('op2\'s copy withdrawn', () => decodeProvider(op1.mesh.get(providerKey('digitalocean')))?.envelopes[op2.mesh.peerId] === undefined, 20_000)
})

test.run()
