// Secrets stay out of Docker's container config (issue 13: "no resolved secret is written to disk
// in plaintext"), on the real engine with the runnable actor and a one-peer mesh as the replica: a
// variable that carries a secret reaches the container's process (and commands run in it) through
// a tmpfs file the container's shell reads, while `docker inspect` and every file under
// /var/lib/docker/containers hold no trace of it; the container restarted by the engine still has
// it, also after a new actor (a monkd restart) adopted it; purge removes the file. An image without /bin/sh falls back to Env with a warning note.
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createCluster, parseToken } from '../../../mesh/cluster.js'
import { startMesh, type Mesh } from '../../../mesh/mesh.js'
import { compileTemplates } from '../../../actors/templates.js'
import { ask, silentLogger, startSystem, tell, type ActorRef, type ActorSystem } from '../../../actors/kit/index.js'
import type { RunnableMsg } from '../../../actors/messages/runnable.js'
import { spawnRunnable, type RunnableDeps } from '../../../actors/runnable/index.js'
import type { DockerRuntime } from '../../../actors/runtime/docker.js'
import { LABEL_SECRETS_FILE, SECRETS_DIR } from '../../../actors/runtime/docker-secrets.js'
import { containerSpec } from '../../../actors/runtime/spec.js'
import { encodeSealed, SecretBox } from '../../../actors/secrets.js'
import { decodeStatus, encodeTpl, encodeWant, type WantRecord } from '../../../actors/state.js'
import { ManualScheduler } from '../../helpers/actors-clock.js'
import { until } from '../../helpers/monkd.js'
import { DOCKER_REQUIRED, TEST_IMAGE, dockerForTests } from '../../helpers/runtime-docker.js'

const run = randomBytes(4).toString('hex')
const VALUE = `Dk-${run}-it's "quoted" $not-expanded`
const path = `ds${run}/app`
const kit = `namespace: ds${run}
app:
  defines: runnable
  permitted-secrets:
    dbpass: true
  variables:
    pw: <- secret("dbpass")
  containers:
    main:
      image: ${TEST_IMAGE}
      environment:
        DB_PASSWORD: <- $pw
        PLAIN_${run}: plain-value
      files:
        - path: /etc/app.conf
          contents: 'password={{ v "pw" }}'
          mode: "0600"
      bash: exec sleep 3600
`

/** Pids whose environment holds `needle`. */
const pidsWith = (needle: string): string[] => readdirSync('/proc').filter(d => /^\d+$/.test(d)).filter(d => { try { return readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(needle) } catch { return false } })
/** Files under /var/lib/docker/containers that hold `needle` (grep -r). */
const onDisk = (needle: string): string => { const r = spawnSync('grep', ['-rlF', needle, '/var/lib/docker/containers'], { encoding: 'utf8' }); return r.status === 1 ? '' : `${r.stdout}${r.stderr}(exit ${r.status})` }

const available = await dockerForTests()
const D = suite('secrets stay out of the Docker container config')
if (!available.ok) {
  if (DOCKER_REQUIRED) D('a Docker engine answers with the test image', () => { assert.unreachable(available.reason) })
  else { console.log(`skipped: ${available.reason}`); D.skip('no Docker engine') }
} else {
  const runtime: DockerRuntime = available.runtime
  const dir = mkdtempSync(join(tmpdir(), 'monk-docker-secrets-'))
  let mesh: Mesh
  let system: ActorSystem
  let actor: ActorRef<RunnableMsg>
  const nosh = `monk-test/nosh:${run}`
  const w: WantRecord = { template: path, state: 'run', root: path, set: {}, tags: [], peer: null, forceMove: 0, generation: 1, restarts: 0, updatedAt: 0 }

  let box: SecretBox
  const deps = (): RunnableDeps => ({
    peerId: mesh.peerId, peerName: 'solo', home: join(dir, 'home'), runtime, log: silentLogger, secrets: box,
    get: k => mesh.get(k), scan: p => mesh.scan(p), put: async (k, v) => { await mesh.put(k, v) }, del: async k => { await mesh.delete(k) },
    hostOf: () => '127.0.0.1',
    act: () => Promise.reject(new Error('no act in this test')),
  })

  D.before(async () => {
    mesh = await startMesh({ home: join(dir, 'home'), listen: ['/ip4/127.0.0.1/tcp/0'], name: 'solo', tags: [], cluster: createCluster() })
    box = new SecretBox(parseToken(mesh.token()).key)
    system = startSystem('docker-secrets-test', { clock: new ManualScheduler(), logger: silentLogger })
    actor = spawnRunnable(system, path, deps())
    await mesh.put('secret/global/dbpass', encodeSealed(box.seal('global', 'dbpass', VALUE)))
  })
  D.after(async () => {
    system.stop()
    for (const c of [...await runtime.list({ 'monk.instance': path }), ...await runtime.list({ 'monk.test-run': run })]) await runtime.remove(c.id, { force: true }).catch(() => {})
    spawnSync('docker', ['rmi', '-f', nosh])
    await runtime.close()
    await mesh.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  D('the container\'s process and exec see the secret; docker inspect and /var/lib/docker/containers do not; an engine restart keeps it; purge removes the file', async () => {
    const c = compileTemplates({ '/kit/k.yaml': kit }, ['/kit/k.yaml'], Date.now())
    assert.equal(c.errors, [])
    for (const r of c.records) await mesh.put(`tpl/${r.path}`, encodeTpl(r))
    await mesh.put(`want/${path}`, encodeWant(w))
    tell(actor, { type: 'runnable.assign', assignment: { want: w, owner: true, epoch: 1, ownerId: mesh.peerId, unplacedReason: null, purge: false } })
    const id = await until('running', async () => {
      const s = decodeStatus(mesh.get(`status/${path}/${mesh.peerId}`))
      const l = await runtime.list({ 'monk.instance': path })
      return s?.state === 'running' && l.length === 1 ? l[0]!.id : undefined
    }, 60_000).catch((err: unknown) => { throw new Error(`${String(err)}: status ${JSON.stringify(decodeStatus(mesh.get(`status/${path}/${mesh.peerId}`)))}`) })
    const pids = await until('a process of the container holds the secret in its environment', () => { const p = pidsWith(`DB_PASSWORD=${VALUE}`); return p.length > 0 ? p : undefined }, 20_000)
    assert.ok(pids.length > 0)
    assert.is((await runtime.exec(id, ['sh', '-c', 'printf %s "$DB_PASSWORD"'])).stdout, VALUE, 'a command run in the container sees it too')
    const inspect = execFileSync('docker', ['inspect', id], { encoding: 'utf8' })
    assert.ok(inspect.includes(`PLAIN_${run}=plain-value`), 'the plain variable is in Env as before')
    assert.not.ok(inspect.includes(VALUE), 'docker inspect shows the secret')
    assert.not.ok(inspect.includes('DB_PASSWORD='), 'docker inspect shows the secret variable')
    assert.is(onDisk(VALUE), '', 'a file under /var/lib/docker/containers holds the secret')
    const file = (JSON.parse(inspect) as Array<{ Config: { Labels: Record<string, string> } }>)[0]!.Config.Labels[LABEL_SECRETS_FILE]!
    assert.ok(file.startsWith(`${SECRETS_DIR}/`), file)
    assert.is(statSync(file).mode & 0o777, 0o600)
    assert.is(statSync(SECRETS_DIR).mode & 0o777, 0o700)
    // a file rendered with the secret: mounted from tmpfs; the home holds only a link to it
    assert.is((await runtime.exec(id, ['cat', '/etc/app.conf'])).stdout, `password=${VALUE}`)
    const mounts = (JSON.parse(inspect) as Array<{ Mounts: Array<{ Source: string, Destination: string }> }>)[0]!.Mounts
    const conf = mounts.find(m => m.Destination === '/etc/app.conf')
    assert.ok(conf?.Source.startsWith(`${SECRETS_DIR}/files/`), JSON.stringify(mounts))
    const homeFiles = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap(e => e.isDirectory() ? homeFiles(join(d, e.name)) : e.isFile() ? [join(d, e.name)] : [])
    for (const f of homeFiles(join(dir, 'home'))) if (statSync(f).size < 50_000_000) assert.not.ok(readFileSync(f).includes(VALUE), `${f} holds the secret`)
    assert.is(statSync(join(dir, 'home', 'fingerprint.key')).mode & 0o777, 0o600, 'the fingerprint label of a spec with secrets is keyed by the home')
    // the engine restarts the container: its shell reads the file again
    execFileSync('docker', ['restart', '-t', '0', id])
    await until('the restarted container holds the secret again', () => pidsWith(`DB_PASSWORD=${VALUE}`).some(p => !pids.includes(p)) ? true : undefined, 20_000)
    assert.is(onDisk(VALUE), '')
    // a monkd restart: a new actor (new system) adopts the running container as it is, file and all
    system.stop()
    system = startSystem('docker-secrets-test-2', { clock: new ManualScheduler(), logger: silentLogger })
    actor = spawnRunnable(system, path, deps())
    tell(actor, { type: 'runnable.assign', assignment: { want: w, owner: true, epoch: 1, ownerId: mesh.peerId, unplacedReason: null, purge: false } })
    tell(actor, { type: 'runnable.tick' })
    const view = await until('the new actor adopted the container (running)', async () => {
      const v = await ask<RunnableMsg, Extract<RunnableMsg, { type: 'runnable.status' }>>(actor, replyTo => ({ type: 'runnable.status', replyTo }))
      return v.phase === 'running' ? v : undefined
    }, 20_000)
    assert.is(view.failures, 0)
    assert.equal((await runtime.list({ 'monk.instance': path })).map(x => [x.id, x.running]), [[id, true]], 'adopted: the same container, running')
    assert.ok(existsSync(file))
    const adopted = pidsWith(`DB_PASSWORD=${VALUE}`)
    execFileSync('docker', ['restart', '-t', '0', id])
    await until('after adoption, the engine restarts it with the secret', () => pidsWith(`DB_PASSWORD=${VALUE}`).some(p => !adopted.includes(p)) ? true : undefined, 20_000)
    // purge: container and file gone
    tell(actor, { type: 'runnable.assign', assignment: { want: undefined, owner: false, epoch: 1, ownerId: null, unplacedReason: null, purge: true } })
    await until('purged', async () => (await runtime.list({ 'monk.instance': path })).length === 0, 30_000)
    assert.not.ok(existsSync(file), 'the secrets file outlived its container')
    assert.not.ok(existsSync(conf!.Source), 'the secret file outlived the purge')
  })

  D('an image without /bin/sh: the secret goes in Env after all, with a note naming it', async () => {
    const root = join(dir, 'nosh')
    mkdirSync(root)
    copyFileSync('/bin/busybox', join(root, 'busybox'))
    execFileSync('sh', ['-c', `chmod 755 '${root}/busybox' && tar -C '${root}' -c . | docker import --change 'CMD ["/busybox","sleep","3600"]' - ${nosh}`], { stdio: 'ignore' })
    const spec = containerSpec({ image: nosh }, { instance: `test/${run}/nosh`, container: 'main', peer: 'test-peer' }).spec
    spec.labels['monk.test-run'] = run
    spec.secretEnv = { NOSH_SECRET: VALUE }
    const created = await runtime.create(spec)
    const note = created.unsupported.find(n => n.field === 'environment')
    assert.ok(note, JSON.stringify(created.unsupported))
    assert.match(note.reason, /no \/bin\/sh/)
    assert.match(note.reason, /NOSH_SECRET/)
    await runtime.start(created.id)
    const inspect = execFileSync('docker', ['inspect', created.id], { encoding: 'utf8' })
    assert.ok(inspect.includes(`NOSH_SECRET=${VALUE.replace(/"/g, '\\"')}`), 'the fallback passes it in Env')
    assert.not.ok(inspect.includes(LABEL_SECRETS_FILE))
    await runtime.remove(created.id, { force: true })
  })
}
D.run()
