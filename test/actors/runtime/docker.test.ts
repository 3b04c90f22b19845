// The docker runtime against the real engine: the compliance suite, plus what only an engine does
// (pulling with progress, capabilities, engine selection). Skips with one line when no engine
// answers, unless MONK_REQUIRE_DOCKER=1 (CI), where that is a failure.
import Docker from 'dockerode'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { DockerRuntime } from '../../../actors/runtime/docker.js'
import type { PullProgress, Runtime } from '../../../actors/runtime/runtime.js'
import { selectRuntime } from '../../../actors/runtime/select.js'
import { containerSpec } from '../../../actors/runtime/spec.js'
import { DOCKER_REQUIRED, TEST_IMAGE, dockerForTests } from '../../helpers/runtime-docker.js'
import { startFakeRegistry } from '../../helpers/runtime-registry.js'
import { collect, rejection, waitFor } from '../../helpers/runtime-wait.js'
import { runtimeCompliance } from './compliance.js'

const available = await dockerForTests()

if (!available.ok) {
  const s = suite('docker runtime')
  if (DOCKER_REQUIRED) {
    s('a Docker engine answers with the test image (MONK_REQUIRE_DOCKER=1)', () => { assert.unreachable(available.reason) })
  } else {
    console.log(`docker runtime tests skipped: ${available.reason}`)
    s.skip('compliance and engine tests (no Docker engine)')
  }
  s.run()
} else {
  await available.runtime.close()
  for (const s of runtimeCompliance({
    name: 'docker',
    open: async () => await DockerRuntime.open(),
    image: TEST_IMAGE,
    stateDir: '',
    caps: { remapsPorts: true, remapsPaths: true, usesImages: true }
  })) s.run()

  const run = randomBytes(4).toString('hex')
  const engine = suite<{ rt: Runtime }>('docker runtime: engine', { rt: undefined as unknown as Runtime })
  engine.before(async ctx => { ctx.rt = await DockerRuntime.open() })
  engine.after(async ctx => {
    for (const c of await ctx.rt.list({ 'monk.test-run': run })) await ctx.rt.remove(c.id, { force: true })
    await ctx.rt.close()
  })

  const spec = (key: string, fields: Record<string, unknown>): ReturnType<typeof containerSpec>['spec'] => {
    const s = containerSpec({ image: TEST_IMAGE, ...fields }, { instance: `test/${run}/${key}`, container: key, peer: 'test-peer' }).spec
    s.labels['monk.test-run'] = run
    return s
  }

  engine('ensureImage pulls a missing image from a registry, reporting progress', async ctx => {
    const registry = await startFakeRegistry(`monk-pull-${run}`, '1')
    const docker = new Docker()
    try {
      const progress: PullProgress[] = []
      const r = await ctx.rt.ensureImage(registry.image, { onProgress: p => progress.push(p) })
      assert.equal(r, { image: registry.image, status: 'pulled' })
      assert.ok(progress.length > 0, 'progress events')
      assert.ok(progress.every(p => p.image === registry.image))
      assert.ok(progress.some(p => /pull complete|download complete|already exists/i.test(p.status)), progress.map(p => p.status).join(', '))
      assert.ok(registry.requests.some(q => q.includes('/blobs/')), 'layers came from the registry')
      assert.is((await ctx.rt.ensureImage(registry.image)).status, 'present')
      // The pulled image runs.
      const { id } = await ctx.rt.create(spec('pulled', { image: registry.image, bash: 'cat /pulled; sleep 3600' }))
      await ctx.rt.start(id)
      await waitFor('output of the pulled image', async () => (await collect(await ctx.rt.logs(id))).some(l => l.text === 'pulled from the fake registry'))
      await ctx.rt.remove(id, { force: true })
      // A tag the registry does not have.
      const e = await rejection(ctx.rt.ensureImage(registry.image.replace(/:1$/, ':absent')))
      assert.is(e.code, 'image-not-found', e.message)
    } finally {
      await registry.close()
      await docker.getImage(registry.image).remove({ force: true }).catch(() => undefined)
    }
  })

  engine('cap-add adds the capability', async ctx => {
    const bit = 12n // CAP_NET_ADMIN, not in Docker's default set
    const eff = async (capAdd: string[]): Promise<bigint> => {
      const { id } = await ctx.rt.create(spec(`cap${capAdd.length}`, { bash: 'sleep 3600', 'cap-add': capAdd }))
      await ctx.rt.start(id)
      const r = await ctx.rt.exec(id, ['sh', '-c', 'grep CapEff /proc/self/status'])
      await ctx.rt.remove(id, { force: true })
      return BigInt('0x' + (r.stdout.split(/\s+/)[1] ?? '0'))
    }
    assert.is((await eff([])) >> bit & 1n, 0n)
    assert.is((await eff(['CAP_NET_ADMIN'])) >> bit & 1n, 1n)
  })

  engine('containers run with an init, restart policy and labels as asked', async ctx => {
    const { id } = await ctx.rt.create(spec('init', { bash: 'sleep 3600', restart: 'on-failure:4' }))
    const raw = await new Docker().getContainer(id).inspect()
    assert.is(raw.HostConfig.Init, true)
    assert.equal(raw.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 4 })
    assert.equal((await ctx.rt.inspect(id)).restart, { name: 'on-failure', maxRetries: 4 })
    await ctx.rt.remove(id)
  })

  engine('no engine on a socket: engine-unreachable; auto selection picks docker when it answers, process otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'monk-select-'))
    try {
      assert.is((await rejection(DockerRuntime.open({ socketPath: join(dir, 'none.sock') }))).code, 'engine-unreachable')
      const auto = await selectRuntime({ mode: 'auto' })
      assert.is(auto.runtime.kind, 'docker')
      await auto.runtime.close()
      const fallback = await selectRuntime({ mode: 'auto', docker: { socketPath: join(dir, 'none.sock') }, process: { stateDir: join(dir, 'state') } })
      assert.is(fallback.runtime.kind, 'process')
      assert.match(fallback.reason, /none\.sock/)
      await fallback.runtime.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  engine.run()
}
