// `monk update` replaces only the containers whose spec changed (spec §2.12), on the real Docker
// engine: the runnable actor with a one-peer mesh as the replica. A container whose evaluated spec
// and files are the same keeps its id; a changed one is replaced; `monk restart` (restarts + 1)
// replaces them all.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseToken, createCluster } from '../../../mesh/cluster.js'
import { startMesh, type Mesh } from '../../../mesh/mesh.js'
import { compileTemplates } from '../../../actors/templates.js'
import { silentLogger, startSystem, tell, type ActorRef, type ActorSystem } from '../../../actors/kit/index.js'
import type { RunnableMsg } from '../../../actors/messages/runnable.js'
import { spawnRunnable, type Assignment } from '../../../actors/runnable/index.js'
import type { DockerRuntime } from '../../../actors/runtime/docker.js'
import { SecretBox } from '../../../actors/secrets.js'
import { decodeStatus, encodeTpl, encodeWant, type WantRecord } from '../../../actors/state.js'
import { ManualScheduler } from '../../helpers/actors-clock.js'
import { until } from '../../helpers/monkd.js'
import { DOCKER_REQUIRED, TEST_IMAGE, dockerForTests } from '../../helpers/runtime-docker.js'

const kit = (bBash: string, file: string): string => `namespace: u${process.pid}
app:
  defines: runnable
  containers:
    a:
      image: ${TEST_IMAGE}
      bash: exec sleep 3600
    b:
      image: ${TEST_IMAGE}
      bash: ${bBash}
  files:
    conf:
      container: b
      path: /etc/b.conf
      contents: ${file}
`
const path = `u${process.pid}/app`

const available = await dockerForTests()
const U = suite('update replaces only changed containers (Docker)')
if (!available.ok) {
  if (DOCKER_REQUIRED) U('a Docker engine answers with the test image', () => { assert.unreachable(available.reason) })
  else { console.log(`skipped: ${available.reason}`); U.skip('no Docker engine') }
} else {
  const runtime: DockerRuntime = available.runtime
  const dir = mkdtempSync(join(tmpdir(), 'monk-update-docker-'))
  let mesh: Mesh
  let system: ActorSystem
  let actor: ActorRef<RunnableMsg>
  const clock = new ManualScheduler()
  const base: WantRecord = { template: path, state: 'run', root: path, set: {}, tags: [], peer: null, forceMove: 0, generation: 1, restarts: 0, updatedAt: 0 }

  const load = async (text: string): Promise<void> => {
    const c = compileTemplates({ '/kit/u.yaml': text }, ['/kit/u.yaml'], Date.now())
    assert.equal(c.errors, [])
    for (const r of c.records) await mesh.put(`tpl/${r.path}`, encodeTpl(r))
  }
  const want = async (w: WantRecord): Promise<void> => {
    await mesh.put(`want/${path}`, encodeWant(w))
    const assignment: Assignment = { want: w, owner: true, epoch: 1, ownerId: mesh.peerId, unplacedReason: null, purge: false }
    tell(actor, { type: 'runnable.assign', assignment })
  }
  const ids = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {}
    for (const c of await runtime.list({ 'monk.instance': path })) out[c.labels['monk.container'] ?? ''] = c.id
    return out
  }
  const runningAt = async (generation: number): Promise<Record<string, string>> => await until(`generation ${generation} running`, async () => {
    const s = decodeStatus(mesh.get(`status/${path}/${mesh.peerId}`))
    const now = await ids()
    return s?.state === 'running' && s.generation === generation && Object.keys(now).length === 2 ? now : undefined
  }, 60_000)

  U.before(async () => {
    mesh = await startMesh({ home: join(dir, 'home'), listen: ['/ip4/127.0.0.1/tcp/0'], name: 'solo', tags: [], cluster: createCluster() })
    system = startSystem('update-test', { clock, logger: silentLogger })
    actor = spawnRunnable(system, path, {
      peerId: mesh.peerId, peerName: 'solo', home: join(dir, 'home'), runtime, log: silentLogger,
      secrets: new SecretBox(parseToken(mesh.token()).key),
      get: k => mesh.get(k), scan: p => mesh.scan(p), put: async (k, v) => { await mesh.put(k, v) }, del: async k => { await mesh.delete(k) },
      hostOf: () => '127.0.0.1',
      act: () => Promise.reject(new Error('no act in this test')),
    })
  })
  U.after(async () => {
    system.stop()
    for (const c of await runtime.list({ 'monk.instance': path })) await runtime.remove(c.id, { force: true }).catch(() => {})
    await runtime.close()
    await mesh.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  U('an update that changes nothing keeps every container; one that changes b replaces only b', async () => {
    await load(kit('exec sleep 3600', 'one'))
    await want(base)
    const first = await runningAt(1)
    await want({ ...base, generation: 2 })
    assert.equal(await runningAt(2), first, 'nothing changed: same container ids')
    await load(kit('exec sleep 3601', 'one'))
    await want({ ...base, generation: 3 })
    const third = await runningAt(3)
    assert.is(third.a, first.a, 'a is unchanged: same container id')
    assert.is.not(third.b, first.b, 'b changed: replaced')
    // a file of b changes: only b again
    await load(kit('exec sleep 3601', 'two'))
    await want({ ...base, generation: 4 })
    const fourth = await runningAt(4)
    assert.is(fourth.a, first.a)
    assert.is.not(fourth.b, third.b)
  })

  U('restart replaces every container', async () => {
    const before = await ids()
    await want({ ...base, generation: 5, restarts: 1 })
    const after = await runningAt(5)
    assert.is.not(after.a, before.a)
    assert.is.not(after.b, before.b)
  })

  U('stop keeps the containers, stopped, with their logs; purge removes them', async () => {
    await load(kit('echo b says hi; exec sleep 3601', 'two'))
    await want({ ...base, generation: 6 })
    const running = await runningAt(6)
    await want({ ...base, generation: 6, state: 'stop' })
    await until('stopped, containers kept', async () => { const l = await runtime.list({ 'monk.instance': path }); return l.length === 2 && l.every(c => !c.running) })
    const lines: string[] = []
    for await (const l of await runtime.logs(running.b!, { follow: false })) lines.push(l.text)
    assert.equal(lines, ['b says hi'])
    tell(actor, { type: 'runnable.assign', assignment: { want: undefined, owner: false, epoch: 1, ownerId: null, unplacedReason: null, purge: true } })
    await until('purged', async () => (await runtime.list({ 'monk.instance': path })).length === 0)
  })
}
U.run()
