// The secrets data key (issue 13) with in-process meshes enforcing admission: secrets open only on
// admitted peers (not on a peer holding only the cluster key), values sealed the old way under the
// cluster key are re-sealed by an operator, a newly admitted peer gets an envelope, and removing a
// peer rotates the key: the removed peer's old key does not open the re-sealed secrets.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SealKey } from '../../actors/cloud/credentials.js'
import { silentLogger } from '../../actors/kit/index.js'
import { SecretKeeper } from '../../actors/secret-keeper.js'
import { decodeSecretKey, SecretKeys, secretKeyKey } from '../../actors/secret-keys.js'
import { decodeSealed, encodeSealed, SecretBox, SecretError } from '../../actors/secrets.js'
import { createCluster, parseToken } from '../../mesh/cluster.js'
import { startMesh, type Mesh } from '../../mesh/mesh.js'
import { roleProblem } from '../../mesh/roles.js'
import { fastConfig } from '../helpers/mesh-cluster.js'
import { until } from '../helpers/monkd.js'

interface P { name: string, mesh: Mesh, keys: SecretKeys, keeper: SecretKeeper }

const base = mkdtempSync(join(tmpdir(), 'monk-secretkeys-'))
const all: P[] = []
async function peer (name: string, token?: string): Promise<P> {
  const home = join(base, name)
  const mesh = await startMesh({ home, listen: ['/ip4/127.0.0.1/tcp/0'], name, tags: [], config: fastConfig, admission: true, ...(token ? { token } : { cluster: createCluster() }) })
  await mesh.announce({ name })
  const keys = new SecretKeys(mesh, SealKey.open(home))
  const keeper = new SecretKeeper(mesh, keys, silentLogger)
  await keeper.start()
  const p = { name, mesh, keys, keeper }
  all.push(p)
  return p
}

const codeOf = (fn: () => unknown): string | undefined => {
  try { fn(); return undefined } catch (err) { return err instanceof SecretError ? err.code : `other: ${String(err)}` }
}

const test = suite('secrets data key (admission enforced)')
test.after(async () => {
  for (const p of all) { p.keeper.stop(); await p.mesh.stop().catch(() => {}) }
  rmSync(base, { recursive: true, force: true })
})

test('only admitted peers open secrets; legacy values are re-sealed; removal rotates the key', async () => {
  const op = await peer('op')
  // a secret written the old way (under an HKDF of the cluster key) before the keeper made a key
  const clusterKey = parseToken(op.mesh.token()).key
  const legacyBox = new SecretBox(clusterKey)
  await op.mesh.put('secret/global/old', encodeSealed(legacyBox.seal('global', 'old', 'legacy-value-1')))
  const worker = await peer('worker', await op.mesh.invite({ role: 'worker', uses: 1, ttlMs: 0 }))
  const stranger = await peer('stranger', op.mesh.token())
  await until('the worker holds an envelope of the current key', () => worker.keys.current()?.envelopes[worker.mesh.peerId] !== undefined, 20_000)
  const epoch1 = worker.keys.current()!.epoch
  assert.is(epoch1, 1)

  await op.keys.ready(5000)
  await op.mesh.put('secret/ns/app/db', encodeSealed(op.keys.seal('ns/app', 'db', 'hunter2-value')))
  await until('the secret reached the others', () => worker.mesh.get('secret/ns/app/db') !== undefined && stranger.mesh.get('secret/ns/app/db') !== undefined, 20_000)
  assert.is(worker.keys.open('ns/app', 'db', worker.mesh.get('secret/ns/app/db')), 'hunter2-value')
  // the stranger holds the cluster key and the replica, but no envelope: nothing opens
  assert.is(stranger.mesh.roleOf(stranger.mesh.peerId), undefined)
  const raw = stranger.mesh.get('secret/ns/app/db')
  assert.is(codeOf(() => stranger.keys.open('ns/app', 'db', raw)), 'secret-no-key')
  assert.is(codeOf(() => new SecretBox(parseToken(stranger.mesh.token()).key).open('ns/app', 'db', raw)), 'secret-corrupt')
  assert.is(stranger.keys.current()?.envelopes[stranger.mesh.peerId], undefined)
  // the legacy value was re-sealed under the data key; the cluster key no longer opens it
  const old = await until('the legacy secret re-sealed', () => { const s = decodeSealed(worker.mesh.get('secret/global/old')); return s?.epoch === epoch1 ? s : undefined }, 20_000)
  assert.is(worker.keys.open('global', 'old', old), 'legacy-value-1')
  assert.is(codeOf(() => legacyBox.open('global', 'old', old)), 'secret-corrupt')
  // only operators may write the key records
  assert.ok(roleProblem(secretKeyKey(2), worker.mesh.peerId, 'worker'))
  assert.is(roleProblem(secretKeyKey(2), op.mesh.peerId, 'operator'), undefined)

  // a newly admitted operator gets an envelope
  const op2 = await peer('op2', await op.mesh.invite({ role: 'operator', uses: 1, ttlMs: 0 }))
  await until('op2 opens the secret', () => { try { return op2.keys.open('ns/app', 'db', op2.mesh.get('secret/ns/app/db')) === 'hunter2-value' } catch { return false } }, 20_000)

  // removing the worker rotates: a new epoch without it, every secret re-sealed, the old epoch gone
  const oldKey = worker.keys.dataKey(epoch1)
  await op.mesh.admit(worker.mesh.peerId, 'removed')
  await until('epoch 2 without the worker, secrets moved, epoch 1 deleted', () => {
    const cur = op.keys.current()
    if (cur?.epoch !== 2 || cur.envelopes[worker.mesh.peerId] !== undefined) return false
    if (op.mesh.get(secretKeyKey(1)) !== undefined) return false
    return ['secret/ns/app/db', 'secret/global/old'].every(k => decodeSealed(op.mesh.get(k))?.epoch === 2)
  }, 20_000)
  assert.ok(op.keys.current()!.envelopes[op2.mesh.peerId])
  await until('the worker sees epoch 2', () => decodeSealed(worker.mesh.get('secret/ns/app/db'))?.epoch === 2 && decodeSecretKey(worker.mesh.get(secretKeyKey(2))) !== undefined, 20_000)
  const moved = worker.mesh.get('secret/ns/app/db')
  assert.is(codeOf(() => worker.keys.open('ns/app', 'db', moved)), 'secret-no-key')
  assert.is(codeOf(() => new SecretBox(oldKey).open('ns/app', 'db', moved)), 'secret-corrupt')
  // the remaining peers carry on
  assert.is(op2.keys.open('ns/app', 'db', op2.mesh.get('secret/ns/app/db')), 'hunter2-value')
  assert.is(op.keys.open('global', 'old', op.mesh.get('secret/global/old')), 'legacy-value-1')
})

test.run()
