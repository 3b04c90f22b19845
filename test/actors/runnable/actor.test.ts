// The runnable actor's shell on an injected clock, with real parts (a one-peer mesh as the replica,
// the process runtime): its restart backoff and readiness periods are timers of the actor system's
// clock, so time only moves when the test says so — nothing here waits for a backoff to elapse.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseToken, createCluster } from '../../../mesh/cluster.js'
import { startMesh, type Mesh } from '../../../mesh/mesh.js'
import { compileTemplates } from '../../../actors/templates.js'
import { silentLogger, startSystem, tell, type ActorRef, type ActorSystem } from '../../../actors/kit/index.js'
import type { RunnableMsg } from '../../../actors/messages/runnable.js'
import { spawnRunnable, type Assignment } from '../../../actors/runnable/index.js'
import { ProcessRuntime } from '../../../actors/runtime/process.js'
import { SecretBox } from '../../../actors/secrets.js'
import { decodeStatus, encodeTpl, encodeWant, type WantRecord } from '../../../actors/state.js'
import { ManualScheduler } from '../../helpers/actors-clock.js'
import { until } from '../../helpers/monkd.js'
import { tempDir } from '../../helpers/tmp.js'

const A = suite('runnable: the actor on an injected clock (real mesh, process runtime)')
const dir = tempDir('monk-runnable-actor')
const gate = join(dir, 'ready')
const kit = `namespace: t
app:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox:1
      bash: echo started >> ${join(dir, 'starts')}; echo up; exec sleep 3600
  checks:
    readiness:
      code: exec("main", "sh", "-c", "test -f ${gate} && echo ok") "ok" contains?
      period: 5
      attempts: 100
`
let mesh: Mesh
let runtime: ProcessRuntime
let system: ActorSystem
let actor: ActorRef<RunnableMsg>
const clock = new ManualScheduler()
const want: WantRecord = { template: 't/app', state: 'run', root: 't/app', set: {}, tags: [], peer: null, forceMove: 0, generation: 1, updatedAt: 0 }

A.before(async () => {
  mesh = await startMesh({ home: join(dir, 'home'), listen: ['/ip4/127.0.0.1/tcp/0'], name: 'solo', tags: [], cluster: createCluster() })
  runtime = await ProcessRuntime.open({ stateDir: join(dir, 'runtime') })
  system = startSystem('runnable-test', { clock, logger: silentLogger })
  actor = spawnRunnable(system, 't/app', {
    peerId: mesh.peerId, peerName: 'solo', home: join(dir, 'home'), runtime, log: silentLogger,
    secrets: new SecretBox(parseToken(mesh.token()).key),
    get: k => mesh.get(k), scan: p => mesh.scan(p), put: async (k, v) => { await mesh.put(k, v) }, del: async k => { await mesh.delete(k) },
    hostOf: () => '127.0.0.1',
    act: () => Promise.reject(new Error('no act in this test')),
  })
  await mesh.put('want/t/app', encodeWant(want))
})
A.after(async () => {
  system.stop()
  for (const c of await runtime.list({})) await runtime.remove(c.id, { force: true }).catch(() => {})
  await runtime.close()
  await mesh.stop()
})

const status = (): ReturnType<typeof decodeStatus> => decodeStatus(mesh.get(`status/t/app/${mesh.peerId}`))
const assignment: Assignment = { want, owner: true, epoch: 1, ownerId: null, unplacedReason: null, purge: false }

A('a start that fails (template not loaded yet) is retried after the backoff, on the injected clock', async () => {
  tell(actor, { type: 'runnable.assign', assignment: { ...assignment, ownerId: mesh.peerId } })
  const failed = await until('status failed: template missing', () => { const s = status(); return s?.state === 'failed' ? s : undefined })
  assert.match(failed.error ?? '', /template t\/app is not loaded/)
  await until('a restart timer of 1 s', () => clock.timers().includes(1000))
  const c = compileTemplates({ '/kit/t.yaml': kit }, ['/kit/t.yaml'], Date.now())
  for (const r of c.records) await mesh.put(`tpl/${r.path}`, encodeTpl(r))
  assert.is(status()?.state, 'failed', 'nothing restarts before the clock moves')
  clock.advance(1000)
  const starting = await until('started, checking readiness', () => { const s = status(); return s?.state === 'starting' && s.containers.length === 1 && s.waiting === 'readiness' ? s : undefined }, 30_000)
  assert.is(starting.containers[0]?.status, 'running')
})

A('readiness attempts come a period apart on the injected clock', async () => {
  // The first attempt ran at once and failed (no gate file): the next one waits 5 s of clock time.
  await until('the next readiness attempt scheduled 5 s out', () => clock.timers().includes(5000))
  writeFileSync(gate, 'ok')
  assert.is(status()?.state, 'starting')
  clock.advance(5000)
  await until('running and ready', () => { const s = status(); return s?.state === 'running' && s.ready })
})

A('a crashed container makes it failed, and the restart waits for the backoff', async () => {
  const [c] = await runtime.list({ 'monk.instance': 't/app' })
  assert.ok(c)
  await runtime.remove(c.id, { force: true })
  tell(actor, { type: 'runnable.tick' })
  const failed = await until('failed: container gone', () => { const s = status(); return s?.state === 'failed' ? s : undefined })
  assert.match(failed.error ?? '', /not running/)
  await until('a restart timer of 1 s', () => clock.timers().includes(1000))
  assert.equal(await runtime.list({ 'monk.instance': 't/app' }), [], 'not replaced before the backoff')
  clock.advance(1000)
  await until('replaced and running again', async () => status()?.state === 'running' && (await runtime.list({ 'monk.instance': 't/app' })).length === 1, 30_000)
})

A('a stop stops the containers, keeps them (their logs stay) and says stopped; purge removes them', async () => {
  tell(actor, { type: 'runnable.assign', assignment: { ...assignment, want: { ...want, state: 'stop' } } })
  await until('stopped, no container running', async () => { const l = await runtime.list({ 'monk.instance': 't/app' }); return status()?.state === 'stopped' && l.length === 1 && l.every(c => !c.running) })
  assert.is(mesh.get(`claim/t/app/${mesh.peerId}`), undefined, 'claim released')
  const [c] = await runtime.list({ 'monk.instance': 't/app' })
  const lines: string[] = []
  for await (const l of await runtime.logs(c!.id, { follow: false })) lines.push(l.text)
  assert.ok(lines.length > 0, 'the stopped container still has its logs')
  tell(actor, { type: 'runnable.assign', assignment: { ...assignment, owner: false, want: undefined, purge: true } })
  await until('purged: no container', async () => (await runtime.list({ 'monk.instance': 't/app' })).length === 0)
})

A.run()
