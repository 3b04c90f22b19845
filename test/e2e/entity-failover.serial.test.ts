// test-deadline-s: 240
// Failover of an entity's lifecycle owner mid-action, with 3 real monkd processes: the item
// entity's start sleeps; the owner is SIGKILLed after create was persisted and while start runs.
// Another peer takes the entity over from the replicated record: it runs start, never create
// again (the fake API sees one POST), and the entity becomes ready there.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe, PsRow } from '../../cli/api/messages.js'
import { FakeApi } from '../helpers/entity-fakes.js'
import { ITEM_JS, LIB_JS, kitYaml } from '../helpers/entity-kits.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'

const F = suite('entities: failover of the lifecycle owner')
const api = new FakeApi('tok-fo')
const base = mkdtempSync(join(tmpdir(), 'monk-entity-fo-'))
const peers: MonkdProcess[] = []

F.before(async () => { await api.start() })
F.after(async () => {
  for (const p of peers) p.child.kill('SIGKILL')
  await api.stop()
  rmSync(base, { recursive: true, force: true })
})

F('the owner dies during start: another peer finishes start without creating again', async () => {
  peers.push(await spawnMonkd('a', join(base, 'a'), ['--runtime', 'process']))
  const token = (await peers[0]!.client.request<{ token: string }>('peer', { type: 'cluster.token' })).token
  peers.push(await spawnMonkd('b', join(base, 'b'), ['--runtime', 'process', '--join', token]))
  peers.push(await spawnMonkd('c', join(base, 'c'), ['--runtime', 'process', '--join', token]))
  await until('3 peers see each other', async () => (await peers[0]!.client.request<Array<{ alive: boolean }>>('peer', { type: 'cluster.peers' })).filter(p => p.alive).length === 3, 30_000)
  await peers[0]!.client.request('peer', { type: 'secrets.add', scope: 'global', name: 'api-token', value: 'tok-fo' })
  const yaml = kitYaml({ apiUrl: api.url, s3Url: 'http://127.0.0.1:1', hookUrl: 'http://127.0.0.1:1', startSleepMs: 6000 })
  const load = await peers[0]!.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files: { '/k/kit.yaml': yaml, '/k/item.js': ITEM_JS, '/k/lib.js': LIB_JS, '/k/bucket.js': '' }, paths: ['/k/kit.yaml'] })
  assert.equal(load.errors, [])
  await until('the kit reached every peer', async () => {
    for (const p of peers) if (!(await p.client.request<Array<{ path: string }>>('peer', { type: 'templates.list' })).some(t => t.path === 'test-api/one')) return false
    return true
  }, 30_000)
  await peers[1]!.client.request('peer', { type: 'workload.run', path: 'test-api/one' })
  // create persisted and replicated to every peer (describe reads each peer's own replica: the
  // owner's copy alone would not survive its death), start still sleeping on the owner
  const d = await until('created on every replica, starting', async () => {
    const xs = await Promise.all(peers.map(async p => await p.client.request<Describe>('runnable/test-api/one', { type: 'runnable.describe' }).catch(() => undefined)))
    return xs.every(x => x?.entity?.created === true && x.entity.lastAction === 'create' && x.peerName !== null) ? xs[0] : undefined
  }, 30_000, 50)
  assert.is(api.count('POST'), 1)
  const victim = peers.find(p => p.name === d.peerName)
  assert.ok(victim, `owner ${String(d.peerName)} is one of ours`)
  victim.child.kill('SIGKILL')
  const killedAt = Date.now()
  const survivor = peers.find(p => p !== victim)!
  const moved = await until('the entity is ready on another peer', async () => {
    const r = (await survivor.client.request<PsRow[]>('peer', { type: 'workload.ps' })).find(x => x.instance === 'test-api/one')
    return r?.entity?.ready === true && r.peerName !== victim.name ? r : undefined
  }, 60_000, 100)
  console.log(`  test-api/one moved from ${victim.name} to ${moved.peerName} and was ready in ${Date.now() - killedAt} ms`)
  assert.is(api.count('POST'), 1, 'create never ran again')
  assert.is(api.items.size, 1)
  const after = await survivor.client.request<Describe>('runnable/test-api/one', { type: 'runnable.describe' })
  assert.is(after.entity?.state.id, d.entity?.state.id, 'the same item')
  assert.is(after.entity?.state.starts, 1, 'start completed once, on the new owner')
})

F.run()
