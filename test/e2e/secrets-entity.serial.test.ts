// test-deadline-s: 240
// An entity placed on a worker reads its secret through a grant (issue 13), with real monkd
// processes (process runtime): alpha is the only operator, w1 a worker tagged `w`. The item
// entity's lifecycle sends `secret.get("api-token")` as a bearer token to a local fake API, which
// answers 401 to any other token. The worker holds no secrets data key: create and the readiness
// checks succeed only if the keeper granted the secret to w1 for the entity's instance. The grant
// goes to w1 and to nobody else (an operator needs none; no other worker is live).
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerRow, PsRow } from '../../cli/api/messages.js'
import { secretGrantKey, secretGrantPrefix } from '../../actors/secret-keys.js'
import { startMesh, type Mesh } from '../../mesh/index.js'
import { FakeApi } from '../helpers/entity-fakes.js'
import { writeKit } from '../helpers/entity-kits.js'
import { cleanup, e2eBase, ensureBuilt, monkBin, peerIn, startPeer, until, type E2ePeer } from '../helpers/cli-e2e.js'
import { fastConfig } from '../helpers/mesh-cluster.js'

const base = e2eBase('secrets-entity')
const kitDir = join(base, 'kit')
mkdirSync(kitDir)
const TOKEN = `tok-${process.pid}-${Date.now().toString(36)}-worker`
const api = new FakeApi(TOKEN)
const peers: E2ePeer[] = []
let viewer: Mesh | undefined
const S = suite('secrets: an entity on a worker')
S.before(async () => { ensureBuilt(); await api.start() })
S.after(async () => {
  await viewer?.stop().catch(() => {})
  await cleanup(peers, base)
  await api.stop()
})

S('the entity\'s lifecycle on the worker opens its permitted secret through the worker\'s grant', async () => {
  writeKit(kitDir, { apiUrl: api.url, s3Url: 'http://127.0.0.1:1', hookUrl: 'http://127.0.0.1:1' })
  const alpha = peerIn('alpha', base)
  const w1 = peerIn('w1', base)
  peers.push(alpha, w1)
  await startPeer(alpha)
  assert.is((await alpha.monk('cluster', 'new')).code, 0)
  const t = await alpha.monk('cluster', 'token', '--role', 'worker', '--uses', '1')
  assert.is(t.code, 0, t.err)
  const j = await w1.monk('cluster', 'join', t.out.trim(), '--runtime', 'process', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', 'w1', '--tag', 'w')
  assert.is(j.code, 0, j.err)
  const w1Id = await until('w1 admitted as a worker', async () => {
    const r = (await alpha.json<PeerRow[]>('cluster', 'peers')).find(x => x.name === 'w1')
    return r?.role === 'worker' && r.alive ? r.id : undefined
  })
  const tok = await alpha.monk('cluster', 'token', '--role', 'operator', '--uses', '1')
  viewer = await startMesh({ home: join(base, 'viewer'), listen: ['/ip4/127.0.0.1/tcp/0'], token: tok.out.trim(), config: fastConfig, admission: true, name: 'viewer' })
  const added = await monkBin(['--home', alpha.home, 'secrets', 'add', '-g', 'api-token'], { input: TOKEN })
  assert.is(added.code, 0, added.err)
  const loaded = await alpha.monk('load', join(kitDir, 'kit.yaml'))
  assert.is(loaded.code, 0, loaded.err)
  const ran = await alpha.monk('run', '--tag', 'w', 'test-api/one')
  assert.is(ran.code, 0, ran.err)
  const row = await until('the entity is ready on the worker', async () => (await alpha.json<PsRow[]>('ps')).find(x => x.instance === 'test-api/one' && x.entity?.ready === true), 60_000)
    .catch(async (err: unknown) => { throw new Error(`${String(err)}: ${(await alpha.monk('describe', 'test-api/one')).out}`) })
  assert.is(row.peerName, 'w1')
  assert.is(api.count('POST'), 1, 'create ran once, with the granted token (a wrong one gets 401)')
  assert.is(api.items.size, 1)
  assert.ok(api.seen.filter(s => s.path.startsWith('/items')).every(s => s.headers.authorization === `Bearer ${TOKEN}`), 'every request carried the secret')
  // w1 holds a grant of api-token and is the only peer that does
  const v = viewer
  assert.equal(v.scan(secretGrantPrefix).map(e => e.key), [secretGrantKey(w1Id, 'global', 'api-token')])
})

S.run()
