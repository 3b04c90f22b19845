// A runnable actor that crashes (a replica write failed: a full disk made the mesh store refuse
// the owner's claim) restarts with fresh state. Placement tells an actor only assignments that
// changed, so the restarted actor must take up its last assignment itself, or the instance it
// owns never starts (chaos seed 4 round 3: wanted, unclaimed, not running, for good).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createCluster, parseToken } from '../../../mesh/cluster.js'
import { startMesh, type Mesh } from '../../../mesh/mesh.js'
import { silentLogger, startSystem, type ActorSystem } from '../../../actors/kit/index.js'
import { RunnableActors } from '../../../actors/cluster/runnables.js'
import { ProcessRuntime } from '../../../actors/runtime/process.js'
import { SecretBox } from '../../../actors/secrets.js'
import { compileTemplates } from '../../../actors/templates.js'
import { encodeTpl, encodeWant, type WantRecord } from '../../../actors/state.js'
import { ManualScheduler } from '../../helpers/actors-clock.js'
import { until } from '../../helpers/monkd.js'

const C = suite('runnable: a crashed actor takes up its assignment again')
const dir = mkdtempSync(join(tmpdir(), 'monk-runnable-crash-'))
const kit = `namespace: t
app:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox:1
      bash: exec sleep 3600
`
let mesh: Mesh
let runtime: ProcessRuntime
let system: ActorSystem
const clock = new ManualScheduler()
const want: WantRecord = { template: 't/app', state: 'run', root: 't/app', set: {}, tags: [], peer: null, forceMove: 0, generation: 1, updatedAt: 0 }

C.before(async () => {
  mesh = await startMesh({ home: join(dir, 'home'), listen: ['/ip4/127.0.0.1/tcp/0'], name: 'solo', tags: [], cluster: createCluster() })
  runtime = await ProcessRuntime.open({ stateDir: join(dir, 'runtime') })
  system = startSystem('runnable-crash-test', { clock, logger: silentLogger })
  const c = compileTemplates({ '/kit/t.yaml': kit }, ['/kit/t.yaml'], Date.now())
  for (const r of c.records) await mesh.put(`tpl/${r.path}`, encodeTpl(r))
  await mesh.put('want/t/app', encodeWant(want))
})
C.after(async () => {
  system.stop()
  for (const c of await runtime.list({})) await runtime.remove(c.id, { force: true }).catch(() => {})
  await runtime.close()
  await mesh.stop()
  rmSync(dir, { recursive: true, force: true })
})

C('the claim write fails once (store refuses it); the owner still claims and starts the instance', async () => {
  let refused = 0
  // the mesh as the actors see it, except that the first claim write fails as a full disk makes it
  const failing = new Proxy(mesh, {
    get (target, prop, receiver) {
      if (prop === 'put') {
        return async (key: string, value: unknown) => {
          if (key.startsWith('claim/') && refused === 0) { refused++; throw new Error('cannot write 1 records to the mesh store: Database is not open') }
          return await (target.put as (k: string, v: unknown) => Promise<void>).call(target, key, value)
        }
      }
      const v = Reflect.get(target, prop, receiver) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  })
  const actors = new RunnableActors({
    system, mesh: failing, name: 'solo', home: join(dir, 'home'), runtime, log: silentLogger,
    secrets: new SecretBox(parseToken(mesh.token()).key), clock,
    hostOf: () => '127.0.0.1', act: () => Promise.reject(new Error('no act in this test')),
  })
  actors.assign('t/app', { want, owner: true, epoch: 1, ownerId: mesh.peerId, unplacedReason: null, purge: false })
  await until('the failed claim write', () => refused === 1)
  // the kit restarts the crashed actor after its backoff (100 ms and up, on this clock)
  await until('claimed and running', async () => {
    clock.advance(200)
    return mesh.get(`claim/t/app/${mesh.peerId}`) !== undefined && (await runtime.list({ 'monk.instance': 't/app' })).some(c => c.running)
  }, 30_000)
  assert.is(refused, 1)
})

C.run()
