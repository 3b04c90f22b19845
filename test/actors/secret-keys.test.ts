// The secrets data key and grants (issue 13) with in-process meshes enforcing admission: the data
// key opens on admitted operators only (not on a worker, not on a peer holding only the cluster
// key), values sealed the old way under the cluster key are re-sealed by an operator, a newly
// admitted operator gets an envelope, removing an operator rotates the key (its old key does not
// open the re-sealed secrets), and a record that still seals the key to a worker is replaced. A
// worker opens only the secrets granted to it for the instances it holds or stands by for; grants
// follow placement, secret changes, `secrets rm` and peer removal.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SealKey } from '../../actors/cloud/credentials.js'
import { silentLogger } from '../../actors/kit/index.js'
import { SecretKeeper } from '../../actors/secret-keeper.js'
import { decodeGrant, decodeSecretKey, encodeSecretKey, sealDataKey, SecretKeys, secretGrantKey, secretGrantPrefix, secretKeyKey } from '../../actors/secret-keys.js'
import { randomBytes } from 'node:crypto'
import type { SecretHolders } from '../../actors/secret-keeper.js'
import { decodeSealed, encodeSealed, SecretBox, SecretError } from '../../actors/secrets.js'
import { createCluster, parseToken } from '../../mesh/cluster.js'
import { startMesh, type Mesh } from '../../mesh/mesh.js'
import { roleProblem } from '../../mesh/roles.js'
import { fastConfig } from '../helpers/mesh-cluster.js'
import { until } from '../helpers/monkd.js'

interface P { name: string, mesh: Mesh, keys: SecretKeys, keeper: SecretKeeper }

const base = mkdtempSync(join(tmpdir(), 'monk-secretkeys-'))
const all: P[] = []
async function peer (name: string, token?: string, holders: () => SecretHolders[] = () => []): Promise<P> {
  const home = join(base, name)
  const mesh = await startMesh({ home, listen: ['/ip4/127.0.0.1/tcp/0'], name, tags: [], config: fastConfig, admission: true, ...(token ? { token } : { cluster: createCluster() }) })
  await mesh.announce({ name })
  const keys = new SecretKeys(mesh, SealKey.open(home))
  const keeper = new SecretKeeper(mesh, keys, silentLogger, Date.now, holders)
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

test('only admitted operators hold the data key; legacy values are re-sealed; removing an operator rotates the key', async () => {
  const op = await peer('op')
  // a secret written the old way (under an HKDF of the cluster key) before the keeper made a key
  const clusterKey = parseToken(op.mesh.token()).key
  const legacyBox = new SecretBox(clusterKey)
  await op.mesh.put('secret/global/old', encodeSealed(legacyBox.seal('global', 'old', 'legacy-value-1')))
  const worker = await peer('worker', await op.mesh.invite({ role: 'worker', uses: 1, ttlMs: 0 }))
  const stranger = await peer('stranger', op.mesh.token())
  await until('the worker is admitted and sees epoch 1', () => worker.mesh.roleOf(worker.mesh.peerId) === 'worker' && worker.keys.current() !== undefined, 20_000)
  const epoch1 = worker.keys.current()!.epoch
  assert.is(epoch1, 1)
  assert.equal(Object.keys(worker.keys.current()!.envelopes), [op.mesh.peerId], 'the data key is sealed to the operator only')

  await op.keys.ready(5000)
  await op.mesh.put('secret/ns/app/db', encodeSealed(op.keys.seal('ns/app', 'db', 'hunter2-value')))
  await until('the secret reached the others', () => worker.mesh.get('secret/ns/app/db') !== undefined && stranger.mesh.get('secret/ns/app/db') !== undefined, 20_000)
  // the worker holds the replica but no envelope and no grant: nothing opens
  assert.is(codeOf(() => worker.keys.open('ns/app', 'db', worker.mesh.get('secret/ns/app/db'))), 'secret-no-grant')
  assert.is(codeOf(() => worker.keys.dataKey(epoch1)), 'secret-no-key')
  // the stranger holds the cluster key and the replica, but no envelope: nothing opens
  assert.is(stranger.mesh.roleOf(stranger.mesh.peerId), undefined)
  const raw = stranger.mesh.get('secret/ns/app/db')
  assert.is(codeOf(() => stranger.keys.open('ns/app', 'db', raw)), 'secret-no-key')
  assert.is(codeOf(() => new SecretBox(parseToken(stranger.mesh.token()).key).open('ns/app', 'db', raw)), 'secret-corrupt')
  assert.is(stranger.keys.current()?.envelopes[stranger.mesh.peerId], undefined)
  // the legacy value was re-sealed under the data key; the cluster key no longer opens it
  const old = await until('the legacy secret re-sealed', () => { const s = decodeSealed(op.mesh.get('secret/global/old')); return s?.epoch === epoch1 ? s : undefined }, 20_000)
  assert.is(op.keys.open('global', 'old', old), 'legacy-value-1')
  assert.is(codeOf(() => legacyBox.open('global', 'old', old)), 'secret-corrupt')
  // only operators may write the key records
  assert.ok(roleProblem(secretKeyKey(2), worker.mesh.peerId, 'worker'))
  assert.is(roleProblem(secretKeyKey(2), op.mesh.peerId, 'operator'), undefined)

  // a newly admitted operator gets an envelope
  const op2 = await peer('op2', await op.mesh.invite({ role: 'operator', uses: 1, ttlMs: 0 }))
  await until('op2 opens the secret', () => { try { return op2.keys.open('ns/app', 'db', op2.mesh.get('secret/ns/app/db')) === 'hunter2-value' } catch { return false } }, 20_000)

  // removing op2 rotates: a new epoch without it, every secret re-sealed, the old epoch gone
  const oldKey = op2.keys.dataKey(epoch1)
  await op.mesh.admit(op2.mesh.peerId, 'removed')
  await until('epoch 2 without op2, secrets moved, epoch 1 deleted', () => {
    const cur = op.keys.current()
    if (cur?.epoch !== 2 || cur.envelopes[op2.mesh.peerId] !== undefined) return false
    if (op.mesh.get(secretKeyKey(1)) !== undefined) return false
    return ['secret/ns/app/db', 'secret/global/old'].every(k => decodeSealed(op.mesh.get(k))?.epoch === 2)
  }, 20_000)
  assert.equal(Object.keys(op.keys.current()!.envelopes), [op.mesh.peerId])
  await until('op2 sees epoch 2', () => decodeSealed(op2.mesh.get('secret/ns/app/db'))?.epoch === 2 && decodeSecretKey(op2.mesh.get(secretKeyKey(2))) !== undefined, 20_000)
  const moved = op2.mesh.get('secret/ns/app/db')
  assert.is(codeOf(() => op2.keys.open('ns/app', 'db', moved)), 'secret-no-key')
  assert.is(codeOf(() => new SecretBox(oldKey).open('ns/app', 'db', moved)), 'secret-corrupt')
  // the remaining operator carries on
  assert.is(op.keys.open('ns/app', 'db', op.mesh.get('secret/ns/app/db')), 'hunter2-value')
  assert.is(op.keys.open('global', 'old', op.mesh.get('secret/global/old')), 'legacy-value-1')

  // migration: a record that seals the data key to a worker (as monk did before grants) is
  // replaced by a new epoch sealed to operators only, and the secrets move to it
  const opPub = (op.mesh.get(`peer/${op.mesh.peerId}`) as { sealKey: Uint8Array }).sealKey
  const workerPub = await until('the worker published its seal key', () => (op.mesh.get(`peer/${worker.mesh.peerId}`) as { sealKey?: Uint8Array } | undefined)?.sealKey, 20_000)
  const leaked = new Uint8Array(randomBytes(32))
  await op.mesh.put(secretKeyKey(3), encodeSecretKey({ v: 1, epoch: 3, envelopes: { [op.mesh.peerId]: sealDataKey(3, op.mesh.peerId, opPub, leaked), [worker.mesh.peerId]: sealDataKey(3, worker.mesh.peerId, workerPub, leaked) }, by: op.mesh.peerId, at: Date.now() }))
  await until('epoch 4 for operators only, secrets moved, epoch 3 deleted', () => {
    const cur = op.keys.current()
    return cur?.epoch === 4 && cur.envelopes[worker.mesh.peerId] === undefined && op.mesh.get(secretKeyKey(3)) === undefined &&
      ['secret/ns/app/db', 'secret/global/old'].every(k => decodeSealed(op.mesh.get(k))?.epoch === 4)
  }, 20_000)
  assert.is(codeOf(() => new SecretBox(leaked).open('ns/app', 'db', op.mesh.get('secret/ns/app/db'))), 'secret-corrupt')
  assert.is(op.keys.open('ns/app', 'db', op.mesh.get('secret/ns/app/db')), 'hunter2-value')
})

test('grants: a worker opens only the secrets of the instances it holds; grants follow placement, changes, rm and removal', async () => {
  let holders: SecretHolders[] = []
  const op = await peer('gop', undefined, () => holders)
  const w1 = await peer('gw1', await op.mesh.invite({ role: 'worker', uses: 1, ttlMs: 0 }))
  const w2 = await peer('gw2', await op.mesh.invite({ role: 'worker', uses: 1, ttlMs: 0 }))
  const [id1, id2] = [w1.mesh.peerId, w2.mesh.peerId]
  await until('both workers admitted with seal keys at the operator', () => [id1, id2].every(id => op.mesh.roleOf(id) === 'worker' && (op.mesh.get(`peer/${id}`) as { sealKey?: unknown } | undefined)?.sealKey !== undefined), 20_000)
  await op.keys.ready(5000)
  const put = async (scope: string, name: string, value: string): Promise<void> => { await op.mesh.put(`secret/${scope}/${name}`, encodeSealed(op.keys.seal(scope, name, value))) }
  await put('ns/app', 'db', 'db-value-1')
  await put('global', 'g', 'global-value')
  await put('global', 'other', 'not-permitted-value')
  const opens = (w: P, scope: string, name: string): string | undefined => { try { return w.keys.open(scope, name, w.mesh.get(`secret/${scope}/${name}`)) } catch { return undefined } }
  const grantsOf = (id: string): string[] => op.mesh.scan(`${secretGrantPrefix}${id}/`).map(e => e.key).sort()

  // ns/app#0 (runnable ns/app) is placed on w1: w1 gets db (its runnable's scope) and g (global)
  holders = [{ instance: 'ns/app#0', path: 'ns/app', secrets: ['db', 'g', 'missing'], peers: [id1, op.mesh.peerId] }]
  op.keeper.refresh()
  await until('w1 opens its two secrets', () => opens(w1, 'ns/app', 'db') === 'db-value-1' && opens(w1, 'global', 'g') === 'global-value', 20_000)
  assert.equal(grantsOf(id1), [secretGrantKey(id1, 'global', 'g'), secretGrantKey(id1, 'ns/app', 'db')])
  assert.equal(grantsOf(op.mesh.peerId), [], 'an operator gets no grant: it holds the data key')
  // w1 cannot open a secret its instance may not read, and w2 (nothing placed on it) opens nothing
  assert.is(codeOf(() => w1.keys.open('global', 'other', w1.mesh.get('secret/global/other'))), 'secret-no-grant')
  await until('w2 holds the sealed values and w1\'s grants', () => w2.mesh.get('secret/ns/app/db') !== undefined && w2.mesh.get(secretGrantKey(id1, 'ns/app', 'db')) !== undefined, 20_000)
  assert.is(codeOf(() => w2.keys.open('ns/app', 'db', w2.mesh.get('secret/ns/app/db'))), 'secret-no-grant')
  // w1's grant, read raw at w2, does not open with w2's seal key
  const g1 = decodeGrant(w2.mesh.get(secretGrantKey(id1, 'ns/app', 'db')))!
  assert.ok(g1)
  assert.throws(() => w2.keys.sealKey.openText(secretGrantKey(id1, 'ns/app', 'db'), id1, g1.env))
  assert.throws(() => w2.keys.sealKey.openText(secretGrantKey(id1, 'ns/app', 'db'), id2, g1.env))
  // only operators write grants, a worker not even its own (gossip and sync both screen by roleProblem)
  assert.ok(roleProblem(secretGrantKey(id1, 'ns/app', 'db'), id1, 'worker'))
  assert.ok(roleProblem(secretGrantKey(id2, 'ns/app', 'db'), id1, 'worker'))
  assert.is(roleProblem(secretGrantKey(id1, 'ns/app', 'db'), op.mesh.peerId, 'operator'), undefined)
  await w1.mesh.put(secretGrantKey(id1, 'global', 'other'), 'forged').then(() => assert.unreachable('a worker wrote a grant'), (err: unknown) => { assert.match(String(err), /needs the operator role/) })

  // the secret changes (secrets add over it): the grant is made again and w1 opens the new value
  await put('ns/app', 'db', 'db-value-2')
  await until('w1 opens the changed secret', () => opens(w1, 'ns/app', 'db') === 'db-value-2', 20_000)

  // the instance moves to w2 for good: w1's grants go, w2's come
  holders = [{ instance: 'ns/app#0', path: 'ns/app', secrets: ['db', 'g'], peers: [id2] }]
  op.keeper.refresh()
  await until('w2 opens, w1 no longer holds grants', () => opens(w2, 'ns/app', 'db') === 'db-value-2' && grantsOf(id1).length === 0 && w1.mesh.scan(`${secretGrantPrefix}${id1}/`).length === 0, 20_000)
  assert.is(codeOf(() => w1.keys.open('ns/app', 'db', w1.mesh.get('secret/ns/app/db'))), 'secret-no-grant')
  // secrets rm of the global one: its grant goes
  await op.mesh.delete('secret/global/g')
  await until('the grant of the removed secret is gone', () => op.mesh.get(secretGrantKey(id2, 'global', 'g')) === undefined, 20_000)
  assert.equal(grantsOf(id2), [secretGrantKey(id2, 'ns/app', 'db')])
  // w2 removed from the cluster: its grants go
  await op.mesh.admit(id2, 'removed')
  await until('the removed worker\'s grants are gone', () => grantsOf(id2).length === 0, 20_000)
  // purged (no holders): nothing left
  holders = [{ instance: 'ns/app#0', path: 'ns/app', secrets: ['db'], peers: [id1] }]
  op.keeper.refresh()
  await until('w1 granted again', () => grantsOf(id1).length === 1, 20_000)
  holders = []
  op.keeper.refresh()
  await until('no grant left', () => op.mesh.scan(secretGrantPrefix).length === 0, 20_000)
})

test.run()
