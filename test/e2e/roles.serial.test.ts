// Admission and roles with real monkd processes (process runtime) and the built `monk`: alpha
// founds the cluster, beta joins with a single-use worker invite, gamma with an operator invite.
// A worker's CLI refuses operator commands naming its role; a rogue in-process mesh peer admitted
// as a worker cannot make another peer run anything (raw `want/` write) nor exec in a workload
// (`/monk/actor/1`), while the same rogue admitted as an operator can; a peer with the cluster key
// but no invite is not admitted and gets no work. No CLI output or log carries the cluster key.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { encode as encodeCbor, decode as decodeCbor } from 'cborg'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerRow, PsRow } from '../../cli/api/messages.js'
import { ACTOR_PROTOCOL } from '../../actors/cluster/remote.js'
import { encodeWant } from '../../actors/state.js'
import { encodeToken, parseToken } from '../../mesh/cluster.js'
import { startMesh, type Mesh } from '../../mesh/index.js'
import { cleanup, e2eBase, ensureBuilt, peerIn, startPeer, until, type E2ePeer, type Ran } from '../helpers/cli-e2e.js'
import { fastConfig } from '../helpers/mesh-cluster.js'

const base = e2eBase('roles')
const ns = `e2er${process.pid}`
const kitDir = join(base, 'kit')
mkdirSync(kitDir)
const marker = (name: string): string => join(base, `ran-${name}`)
writeFileSync(join(kitDir, 'kit.yaml'), `namespace: ${ns}
${['by-worker', 'by-operator', 'by-cli', 'for-stranger'].map(n => `${n}:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: touch ${marker(n)}; exec sleep 3600
`).join('')}`)

const peers: E2ePeer[] = []
const rogues: Mesh[] = []
/** Every CLI output of this file, grepped for the cluster key at the end. */
const outputs: string[] = []
const seen = (r: Ran): Ran => { outputs.push(r.out, r.err); return r }
let alpha: E2ePeer
let beta: E2ePeer
let gamma: E2ePeer
let founderToken = ''
const ids: Record<string, string> = {}

const R = suite('roles with real monkd peers')
R.before(() => { ensureBuilt() })
R.after(async () => {
  await Promise.all(rogues.map(async m => { await m.stop().catch(() => {}) }))
  await cleanup(peers, base)
})

async function tokenFrom (p: E2ePeer, ...flags: string[]): Promise<string> {
  const r = seen(await p.monk('cluster', 'token', ...flags))
  assert.is(r.code, 0, r.err)
  return r.out.trim()
}

async function rogue (token: string, name: string): Promise<Mesh> {
  // under base: cleanup removes it
  const m = await startMesh({ home: mkdtempSync(join(base, `${name}-`)), listen: ['/ip4/127.0.0.1/tcp/0'], token, config: fastConfig, admission: true, name })
  rogues.push(m)
  return m
}

R('alpha founds; beta joins with a worker invite, gamma with an operator invite; each peer knows the roles', async () => {
  alpha = peerIn('alpha', base)
  beta = peerIn('beta', base)
  gamma = peerIn('gamma', base)
  peers.push(alpha, beta, gamma)
  await startPeer(alpha)
  const created = seen(await alpha.monk('cluster', 'new'))
  assert.is(created.code, 0, created.err)
  founderToken = created.out.trim()
  const workerToken = await tokenFrom(alpha, '--role', 'worker', '--uses', '1', '--ttl', '10m')
  const operatorToken = await tokenFrom(alpha, '--role', 'operator', '--uses', '1')
  for (const [p, t] of [[beta, workerToken], [gamma, operatorToken]] as const) {
    const r = seen(await p.monk('cluster', 'join', t, '--runtime', 'process', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', p.name))
    assert.is(r.code, 0, r.err)
  }
  for (const p of [alpha, beta, gamma]) {
    const rows = await until(`${p.name} knows every role`, async () => {
      const x = await p.json<PeerRow[]>('cluster', 'peers')
      const role = (n: string): string | undefined => x.find(r => r.name === n)?.role
      return role('alpha') === 'operator' && role('beta') === 'worker' && role('gamma') === 'operator' ? x : undefined
    })
    for (const r of rows) ids[r.name] = r.id
  }
  // the single-use worker invite is spent
  const again = peerIn('again', base)
  peers.push(again)
  await startPeer(again, ['--join', workerToken])
  await until('the second redemption is refused', () => readLog(again).includes('the invite is unknown or spent'))
  const info = await alpha.json<{ role?: string }>('cluster', 'info')
  assert.is(info.role, 'operator')
})

R('the worker\'s CLI refuses operator commands with an error naming the role; the operator\'s does them', async () => {
  const refused: Array<string[]> = [['load', kitDir], ['run', `${ns}/by-cli`], ['secrets', 'add', '-g', 'k=v'], ['cluster', 'token'], ['stop', `${ns}/by-cli`]]
  for (const args of refused) {
    const r = seen(await beta.monk(...args))
    assert.is.not(r.code, 0, `beta: monk ${args.join(' ')} should fail`)
    assert.match(r.err, /is a worker: .* needs the operator role/, r.err)
  }
  assert.is(seen(await gamma.monk('load', kitDir)).code, 0)
  const ran = seen(await gamma.monk('run', '--peer', 'beta', `${ns}/by-cli`))
  assert.is(ran.code, 0, ran.err)
  await until('the operator\'s run reached the worker', () => existsSync(marker('by-cli')))
  // the worker still looks: ps and describe answer
  const ps = await beta.json<PsRow[]>('ps')
  assert.ok(ps.some(x => x.instance === `${ns}/by-cli` && x.peerName === 'beta'))
  // exec in the worker's workload, asked by the worker's own CLI: refused too
  const ex = seen(await beta.monk('exec', `${ns}/by-cli`, '--', 'id'))
  assert.is.not(ex.code, 0)
  assert.match(ex.err, /operator role/)
})

R('a rogue mesh peer admitted as a worker makes nobody run anything and cannot exec; as an operator it can', async () => {
  const now = Date.now()
  const want = (template: string) => encodeWant({ template, state: 'run', root: template, set: {}, tags: [], peer: ids['alpha']!, forceMove: 0, generation: 0, updatedAt: now })
  const asWorker = await rogue(await tokenFrom(alpha, '--role', 'worker', '--uses', '1'), 'rogue-worker')
  await until('the rogue worker is admitted', () => asWorker.roleOf(asWorker.peerId) === 'worker')
  // a patched peer skips its own role check: the others must refuse the write
  await asWorker.testing.writeUnchecked(`want/${ns}/by-worker`, want(`${ns}/by-worker`))
  const exec = (m: Mesh, target: string, instance: string) => m.request(target, ACTOR_PROTOCOL, encodeCbor({ v: 1, instance, msg: { type: 'runnable.exec', cmd: ['id'] } }))
  const denied = decodeCbor(await exec(asWorker, ids['beta']!, `${ns}/by-cli`)) as { ok: boolean, error?: { code: string, message: string } }
  assert.is(denied.ok, false)
  assert.is(denied.error?.code, 'not-operator')

  const asOperator = await rogue(await tokenFrom(alpha, '--role', 'operator', '--uses', '1'), 'rogue-operator')
  await until('the rogue operator is admitted', () => asOperator.roleOf(asOperator.peerId) === 'operator')
  await asOperator.testing.writeUnchecked(`want/${ns}/by-operator`, want(`${ns}/by-operator`))
  await until('the operator\'s raw want ran on alpha', () => existsSync(marker('by-operator')))
  const allowed = await until('exec from the operator answers', async () => {
    const r = decodeCbor(await exec(asOperator, ids['beta']!, `${ns}/by-cli`)) as { ok: boolean, value?: { stdout: string } }
    return r.ok ? r : undefined
  })
  assert.match(allowed.value?.stdout ?? '', /uid=/)
  // the worker's want was written first: had it been applied, it would have run by now
  assert.not.ok(existsSync(marker('by-worker')), 'the worker\'s raw want made a peer run its workload')
  const ps = await alpha.json<PsRow[]>('ps')
  assert.not.ok(ps.some(x => x.instance === `${ns}/by-worker`))
})

R('a peer with the cluster key but no invite is not admitted and gets no work', async () => {
  const { invite: _spent, ...bare } = parseToken(founderToken)
  const stranger = await rogue(encodeToken(bare), 'stranger')
  await until('alpha hears from the stranger', async () => {
    const rows = await alpha.json<PeerRow[]>('cluster', 'peers')
    return rows.some(r => r.id === stranger.peerId && r.alive)
  })
  const rows = await alpha.json<PeerRow[]>('cluster', 'peers')
  assert.is(rows.find(r => r.id === stranger.peerId)?.role, 'not admitted')
  const r = seen(await gamma.monk('run', '--timeout', '5', '--peer', stranger.peerId, `${ns}/for-stranger`))
  assert.is.not(r.code, 0, 'placement gave work to a peer that is not admitted')
  // placement's candidates: the admitted peers, and not the stranger
  assert.match(r.err, /cannot be placed: no peer is named .* \(known: alpha, beta, gamma, rogue-operator, rogue-worker\)/, r.err)
})

R('peer-remove revokes a peer\'s admission and says the key must be rotated; the others carry on', async () => {
  const r = seen(await gamma.monk('cluster', 'peer-remove', 'beta'))
  assert.is(r.code, 0, r.err)
  assert.match(r.err, /Revoked the admission of .*rotate/)
  await until('alpha holds beta removed', async () => (await alpha.json<PeerRow[]>('cluster', 'peers')).find(x => x.name === 'beta')?.role === 'not admitted')
  // beta's own writes are no longer applied; gamma's still are
  assert.is(seen(await beta.monk('cluster', 'peer-tags', 'after-removal')).code, 0)
  assert.is(seen(await gamma.monk('cluster', 'peer-tags', 'still-here')).code, 0)
  await until('gamma\'s tags reach alpha', async () => (await alpha.json<PeerRow[]>('cluster', 'peers')).find(x => x.name === 'gamma')?.tags.includes('still-here'))
  const rows = await alpha.json<PeerRow[]>('cluster', 'peers')
  assert.not.ok(rows.find(x => x.name === 'beta')?.tags.includes('after-removal'), 'a removed peer\'s write was applied')
  const ps = await alpha.json<PsRow[]>('ps')
  assert.ok(ps.some(x => x.instance === `${ns}/by-operator` && x.status === 'running' && x.peerName === 'alpha'), 'the others carry on')
  // the removed worker's CLI now says it is not admitted
  const refused = seen(await beta.monk('load', kitDir))
  assert.match(refused.err, /not admitted to the cluster/)
})

R('no CLI output and no monkd log carries the cluster key (tokens printed by cluster new/token aside)', () => {
  const key = Buffer.from(parseToken(founderToken).key)
  const tokens = new Set(outputs.filter(o => /^[A-Za-z0-9_-]{60,}\s*$/.test(o)).map(o => o.trim()))
  const texts = [...outputs.filter(o => !tokens.has(o.trim())), ...peers.map(readLog)]
  for (const t of texts) {
    assert.not.ok(t.includes(key.toString('hex')) || t.includes(key.toString('base64')) || t.includes(key.toString('base64url')), 'the cluster key leaked')
    for (const tok of tokens) assert.not.ok(t.includes(tok), 'a token leaked into an output or a log')
  }
})

function readLog (p: E2ePeer): string {
  const dir = join(p.home, 'logs')
  if (!existsSync(dir)) return ''
  return readdirSync(dir).map(f => readFileSync(join(dir, f), 'utf8')).join('\n')
}

R.run()
