// Integration (real libp2p on 127.0.0.1, admission enforced): `rotateKey` seals a new cluster key
// for the admitted peers only; they switch their pnet key in place (same port, same peer id) and
// reconnect; a removed peer and a peer that only held the key are cut off and see no new state;
// a restart keeps the new key; a new token carries it; a peer that was down during the rotation
// comes back only with a fresh token.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { diffieHellman, generateKeyPairSync, createPublicKey } from 'node:crypto'
import { rmSync } from 'node:fs'
import { createCluster, parseToken, startMesh, type Mesh, type MeshOptions } from '../../mesh/index.js'
import { RoleError } from '../../mesh/errors.js'
import { clusterKeyKey, decodeRotation, openClusterKey, sealClusterKey, type SealOpener } from '../../mesh/rekey.js'
import { fastConfig, tempHome, waitFor } from '../helpers/mesh-cluster.js'

const Rekey = suite('mesh cluster key rotation')
const running: Mesh[] = []
const homes: string[] = []
Rekey.after(async () => {
  await Promise.all(running.map(async p => { await p.stop().catch(() => {}) }))
  for (const h of homes) rmSync(h, { recursive: true, force: true })
})

/** An X25519 seal key held in memory (monkd keeps it in <home>/cloud/seal.key). */
function sealKey (): SealOpener {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  const raw = (k: ReturnType<typeof createPublicKey>): Uint8Array => new Uint8Array(Buffer.from(k.export({ format: 'jwk' }).x as string, 'base64url'))
  return {
    publicRaw: raw(publicKey),
    agree: epk => new Uint8Array(diffieHellman({ privateKey, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(epk).toString('base64url') }, format: 'jwk' }) })),
  }
}

const seals = new Map<string, SealOpener>()
async function start (opts: Partial<MeshOptions> & { home?: string }): Promise<Mesh> {
  const home = opts.home ?? tempHome('rekey')
  if (!homes.includes(home)) homes.push(home)
  const seal = seals.get(home) ?? sealKey()
  seals.set(home, seal)
  const m = await startMesh({ home, listen: ['/ip4/127.0.0.1/tcp/0'], config: fastConfig, admission: true, seal, name: `p${running.length}`, ...opts })
  running.push(m)
  return m
}
const homeOf = new Map<Mesh, string>()
async function startTracked (opts: Partial<MeshOptions> & { home?: string }): Promise<Mesh> {
  const home = opts.home ?? tempHome('rekey')
  const m = await start({ ...opts, home })
  homeOf.set(m, home)
  return m
}
const keyOf = (m: Mesh): string => Buffer.from(parseToken(m.token()).key).toString('hex')
const connected = (a: Mesh, b: Mesh): boolean => a.connections().includes(b.peerId)

Rekey('envelopes open only with the seal key they were made for', () => {
  const a = sealKey()
  const b = sealKey()
  const key = new Uint8Array(32).fill(7)
  const e = sealClusterKey(3, 'peerA', a.publicRaw, key)
  assert.equal(openClusterKey(3, 'peerA', e, a), key)
  assert.throws(() => openClusterKey(3, 'peerA', e, b), (err: Error) => err instanceof RoleError && /does not open/.test(err.message))
  // bound to its epoch and its peer: moved elsewhere it does not open
  assert.throws(() => openClusterKey(4, 'peerA', e, a), /does not open/)
  assert.throws(() => openClusterKey(3, 'peerB', e, a), /does not open/)
  assert.is(decodeRotation({ epoch: 0, by: 'x', at: 1, switchAt: 2, envelopes: {} }), undefined)
})

let founder: Mesh
let operator: Mesh
let worker: Mesh
let removed: Mesh
let stranger: Mesh
let away: Mesh
let oldKey: string

Rekey('only admitted peers receive the new key; they switch in place and reconnect; removed and key-only peers are cut off', async () => {
  founder = await startTracked({ cluster: createCluster() })
  operator = await startTracked({ token: await founder.invite({ role: 'operator', uses: 1, ttlMs: 0 }) })
  worker = await startTracked({ token: await founder.invite({ role: 'worker', uses: 1, ttlMs: 0 }) })
  removed = await startTracked({ token: await founder.invite({ role: 'worker', uses: 1, ttlMs: 0 }) })
  away = await startTracked({ token: await founder.invite({ role: 'worker', uses: 1, ttlMs: 0 }) })
  stranger = await startTracked({ token: founder.token() })
  const insiders = [founder, operator, worker]
  await waitFor('everyone admitted and connected', () => insiders.every(p =>
    p.roleOf(operator.peerId) === 'operator' && p.roleOf(worker.peerId) === 'worker' && p.roleOf(removed.peerId) === 'worker' &&
    p.get(`peer/${away.peerId}`) !== undefined && connected(p, founder === p ? operator : founder)) && connected(stranger, founder) && connected(removed, founder))
  oldKey = keyOf(founder)
  await founder.admit(removed.peerId, 'removed')
  await waitFor('the removal everywhere', () => insiders.every(p => p.roleOf(removed.peerId) === undefined))
  // a peer down during the rotation (it holds an envelope, but is not there to switch)
  const awayHome = homeOf.get(away)!
  await away.stop()
  homeOf.set(away, awayHome)

  // a worker may not rotate
  try {
    await worker.rotateKey()
    assert.unreachable('a worker rotated the key')
  } catch (err) {
    assert.instance(err, RoleError)
    assert.match((err as Error).message, /worker/)
  }
  const ports = new Map(insiders.map(p => [p, p.addresses().join(',')]))
  const result = await operator.rotateKey({ switchMs: 1500 })
  assert.is(result.epoch, 1)
  assert.equal(result.sealedFor, [founder.peerId, operator.peerId, worker.peerId, away.peerId].sort())
  assert.not.ok(result.sealedFor.includes(removed.peerId))
  assert.not.ok(result.sealedFor.includes(stranger.peerId))
  await waitFor('every insider switched to the new key', () => insiders.every(p => p.counters().keySwitches === 1))
  const newKey = keyOf(operator)
  assert.is.not(newKey, oldKey)
  for (const p of insiders) {
    assert.is(keyOf(p), newKey, 'tokens carry the new key')
    assert.is(p.addresses().join(','), ports.get(p), 'same port and peer id')
  }
  assert.is(keyOf(removed), oldKey, 'the removed peer could not open any envelope')
  assert.is(keyOf(stranger), oldKey)
  await waitFor('the insiders reconnected with the new key', () => connected(founder, operator) && connected(founder, worker) && connected(worker, operator) && insiders.every(p => insiders.every(q => p.alive().includes(q.peerId))))
  // the outsiders stay cut off: old-key connections are closed and new dials fail the handshake
  await waitFor('the outsiders disconnected', () => insiders.every(p => !connected(p, removed) && !connected(p, stranger)))
  await founder.put('tpl/ns/after', { image: 'new' })
  await waitFor('a new write reaches the insiders', () => insiders.every(p => p.get('tpl/ns/after') !== undefined))
  const end = Date.now() + 3000
  let checks = 0
  while (Date.now() < end) {
    for (const p of insiders) for (const o of [removed, stranger]) assert.not.ok(connected(p, o) || connected(o, p), `${o.peerId} reconnected to ${p.peerId}`)
    assert.is(removed.get('tpl/ns/after'), undefined, 'the removed peer read new state')
    assert.is(stranger.get('tpl/ns/after'), undefined)
    checks++
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  assert.ok(checks > 10)
  assert.ok(decodeRotation(founder.get(clusterKeyKey(1))) !== undefined)
})

Rekey('a restart keeps the new key; a new token carries it and its holder joins', async () => {
  const home = homeOf.get(worker)!
  await worker.stop()
  worker = await startTracked({ home })
  await waitFor('the restarted worker reconnects', () => connected(worker, founder) || connected(worker, operator))
  assert.is(keyOf(worker), keyOf(founder))
  const joiner = await startTracked({ token: await founder.invite({ role: 'worker', uses: 1, ttlMs: 0 }) })
  await waitFor('the joiner is admitted and has the state', () => founder.roleOf(joiner.peerId) === 'worker' && joiner.get('tpl/ns/after') !== undefined)
  // the removed peer restarted from its home still has the old key
  const rhome = homeOf.get(removed)!
  await removed.stop()
  removed = await startTracked({ home: rhome })
  await new Promise(resolve => setTimeout(resolve, 2000))
  assert.not.ok(connected(removed, founder) || connected(founder, removed))
  assert.is(removed.get('tpl/ns/after'), undefined)
})

Rekey('a peer down during the rotation cannot reconnect with the old key; a fresh token brings it back', async () => {
  const home = homeOf.get(away)!
  away = await startTracked({ home })
  await new Promise(resolve => setTimeout(resolve, 2000))
  assert.not.ok(connected(away, founder) || connected(founder, away), 'old key connected')
  assert.is(away.get('tpl/ns/after'), undefined)
  await away.stop()
  // the way back: a fresh token (from an operator) carries the new key; the home keeps its id and admission
  away = await startTracked({ home, token: await founder.invite({ role: 'worker', uses: 1, ttlMs: 0 }) })
  await waitFor('the returning peer syncs', () => away.get('tpl/ns/after') !== undefined && founder.alive().includes(away.peerId))
  assert.is(away.roleOf(away.peerId), 'worker')
  assert.is(keyOf(away), keyOf(founder))
})

Rekey.run()
