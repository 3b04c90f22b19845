// The standby rule for secrets (issue 13) with real monkd processes (process runtime): alpha is the
// only operator, w1 and w2 are workers tagged `w`. A workload that reads a secret runs on one
// worker; the keeper grants the secret to that worker AND to the standby (the worker placement
// would choose if the owner died), and to nothing else. Then alpha (the only operator) is
// SIGKILLed, and after it the owner: the workload starts on the standby with its secret although
// no operator is live to grant anything.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerRow, PsRow } from '../../cli/api/messages.js'
import { secretGrantKey, secretGrantPrefix } from '../../actors/secret-keys.js'
import { startMesh, type Mesh } from '../../mesh/index.js'
import { cleanup, e2eBase, ensureBuilt, monkBin, peerIn, startPeer, until, type E2ePeer } from '../helpers/cli-e2e.js'
import { fastConfig } from '../helpers/mesh-cluster.js'

const base = e2eBase('secrets-failover')
const ns = `e2ef${process.pid}`
const kitDir = join(base, 'kit')
mkdirSync(kitDir)
const SECRET = `Sf-${process.pid}-${Date.now().toString(36)}-standby`
writeFileSync(join(kitDir, 'kit.yaml'), `namespace: ${ns}
app:
  defines: runnable
  permitted-secrets:
    dbpass: true
  variables:
    pw: <- secret("dbpass")
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      environment:
        DB_PASSWORD: <- $pw
      bash: exec sleep 3600
`)

const peers: E2ePeer[] = []
let viewer: Mesh | undefined
const S = suite('secrets: a failover needs no live operator')
S.before(() => { ensureBuilt() })
S.after(async () => {
  await viewer?.stop().catch(() => {})
  await cleanup(peers, base)
})

const envHolders = (): string[] => readdirSync('/proc').filter(d => /^\d+$/.test(d)).filter(d => { try { return readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(`DB_PASSWORD=${SECRET}`) } catch { return false } })

S('the standby worker holds a grant; with the operator and then the owner dead, the workload starts there with its secret', async () => {
  const alpha = peerIn('alpha', base)
  const w1 = peerIn('w1', base)
  const w2 = peerIn('w2', base)
  peers.push(alpha, w1, w2)
  await startPeer(alpha)
  assert.is((await alpha.monk('cluster', 'new')).code, 0)
  for (const p of [w1, w2]) {
    const t = await alpha.monk('cluster', 'token', '--role', 'worker', '--uses', '1')
    assert.is(t.code, 0, t.err)
    const r = await p.monk('cluster', 'join', t.out.trim(), '--runtime', 'process', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', p.name, '--tag', 'w')
    assert.is(r.code, 0, r.err)
  }
  const ids = await until('both workers admitted', async () => {
    const rows = await alpha.json<PeerRow[]>('cluster', 'peers')
    const [a, b] = ['w1', 'w2'].map(n => rows.find(r => r.name === n))
    return a?.role === 'worker' && b?.role === 'worker' && a.alive && b.alive ? { w1: a.id, w2: b.id, alpha: rows.find(r => r.name === 'alpha')!.id } : undefined
  })
  // an in-process operator to read the replica raw (it is an operator: it gets no grant itself)
  const tok = await alpha.monk('cluster', 'token', '--role', 'operator', '--uses', '1')
  viewer = await startMesh({ home: join(base, 'viewer'), listen: ['/ip4/127.0.0.1/tcp/0'], token: tok.out.trim(), config: fastConfig, admission: true, name: 'viewer' })
  const added = await monkBin(['--home', alpha.home, 'secrets', 'add', '-g', 'dbpass'], { input: SECRET })
  assert.is(added.code, 0, added.err)
  assert.is((await alpha.monk('load', kitDir)).code, 0)
  const ran = await alpha.monk('run', '--tag', 'w', `${ns}/app`)
  assert.is(ran.code, 0, ran.err)
  const ownerName = await until('the workload runs on a worker', async () => (await alpha.json<PsRow[]>('ps')).find(x => x.instance === `${ns}/app` && x.status === 'running')?.peerName, 60_000)
  const owner = ownerName === 'w1' ? w1 : w2
  const standby = owner === w1 ? w2 : w1
  const [ownerId, standbyId] = [ids[owner.name as 'w1' | 'w2'], ids[standby.name as 'w1' | 'w2']]
  // both workers hold a grant of dbpass (the owner to run it, the standby to take it over); nobody else
  const v = viewer
  await until('grants to the owner and the standby', () => v.get(secretGrantKey(ownerId, 'global', 'dbpass')) !== undefined && v.get(secretGrantKey(standbyId, 'global', 'dbpass')) !== undefined, 20_000)
  assert.equal(v.scan(secretGrantPrefix).map(e => e.key).sort(), [secretGrantKey(ownerId, 'global', 'dbpass'), secretGrantKey(standbyId, 'global', 'dbpass')].sort())
  const before = envHolders()
  assert.ok(before.length > 0, 'the workload has its secret')

  // the only operator dies, then the owner: the standby starts the workload from its grant
  await viewer.stop()
  viewer = undefined
  process.kill(alpha.pid()!, 'SIGKILL')
  await until('w2 sees alpha dead', async () => (await standby.json<PeerRow[]>('cluster', 'peers')).find(r => r.name === 'alpha')?.alive === false, 30_000)
  process.kill(owner.pid()!, 'SIGKILL')
  const row = await until('the workload runs on the standby', async () => (await standby.json<PsRow[]>('ps')).find(x => x.instance === `${ns}/app` && x.status === 'running' && x.peerName === standby.name), 60_000).catch(async (err: unknown) => { throw new Error(`${String(err)}: ps ${JSON.stringify(await standby.json('ps'))} peers ${JSON.stringify((await standby.json<PeerRow[]>('cluster', 'peers')).map(r => [r.name, r.alive]))} describe ${(await standby.monk('describe', `${ns}/app`)).out}`) })
  assert.ok(row)
  assert.ok(envHolders().some(p => !before.includes(p)), 'the standby\'s workload process has the secret')
})

S.run()
