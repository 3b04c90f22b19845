// The Runtime compliance suite: every runtime (docker, process) must pass these, against the real
// backend. `runtimeCompliance(harness)` returns the uvu suites; the test file runs them.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Test } from 'uvu'
import { containerSpec } from '../../../actors/runtime/spec.js'
import type { ContainerSpec, Runtime, RuntimeEvent, Stream } from '../../../actors/runtime/runtime.js'
import { collect, rejection, waitFor } from '../../helpers/runtime-wait.js'

export interface RuntimeHarness {
  /** `docker` or `process`: names the suites. */
  name: 'docker' | 'process'
  /** A new runtime object on the same backend (same engine, same state directory). */
  open: () => Promise<Runtime>
  /** Image for specs (the process runtime ignores it). */
  image: string
  /** State directory the killed-daemon helper opens (process runtime); ignored by docker. */
  stateDir: string
  caps: {
    /** Publishes a container port under another host port / on one address (bridge networking). */
    remapsPorts: boolean
    /** Mounts a host path under another path inside. */
    remapsPaths: boolean
    /** Pulls and checks images. */
    usesImages: boolean
  }
}

const ROOT = resolve(import.meta.dirname, '../../..')
const TICKS = 'i=0; while :; do echo "tick $i"; i=$((i+1)); sleep 0.05; done'

async function freePort (): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => { resolvePort(typeof addr === 'object' && addr ? addr.port : 0) })
    })
  })
}

async function httpGet (port: number): Promise<string> {
  return await new Promise((resolveBody, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/', timeout: 2000 }, res => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => { resolveBody(body) })
    })
    req.on('error', reject)
    req.on('timeout', () => { req.destroy(new Error('timeout')) })
  })
}

/** Collects the events of a stream in the background. */
function record (stream: Stream<RuntimeEvent>): RuntimeEvent[] {
  const seen: RuntimeEvent[] = []
  void (async () => { for await (const e of stream) seen.push(e) })()
  return seen
}

export function runtimeCompliance (h: RuntimeHarness): Array<Test<Record<string, never>>> {
  const run = randomBytes(4).toString('hex')
  const RUN_LABEL = 'monk.test-run'
  const tmp = join('/tmp', `monk-rt-${h.name}-${run}`)
  const ctx = { rt: undefined as unknown as Runtime }
  let seq = 0

  /** A spec for test container `key`, labelled with this run's label (and `extra` labels). */
  function spec (key: string, fields: Record<string, unknown>, extra: Record<string, string> = {}, opts: { network?: 'host' | 'bridge' } = {}): ContainerSpec {
    const name = `${key}-${++seq}`
    const built = containerSpec({ image: h.image, ...fields }, { instance: `test/${run}/${name}`, container: key, peer: 'test-peer', name: `monk-t-${run}-${name}` }, opts)
    assert.equal(built.notes, [], 'the test spec itself is complete')
    built.spec.labels = { ...built.spec.labels, [RUN_LABEL]: run, ...extra }
    return built.spec
  }

  async function started (s: ContainerSpec): Promise<string> {
    const { id } = await ctx.rt.create(s)
    await ctx.rt.start(id)
    return id
  }

  async function logText (id: string): Promise<string> {
    return (await collect(await ctx.rt.logs(id))).map(l => `${l.stream}:${l.text}`).join('\n')
  }

  const suites: Array<Test<Record<string, never>>> = []
  function unit (title: string): Test<Record<string, never>> {
    const s = suite<Record<string, never>>(`${h.name} runtime: ${title}`)
    suites.push(s)
    return s
  }

  // ---- setup / teardown (first and last suite) ------------------------------------------------
  const lifecycle = unit('lifecycle')
  lifecycle.before(async () => {
    mkdirSync(tmp, { recursive: true })
    ctx.rt = await h.open()
  })

  lifecycle('create, start, stop, remove with the states in between', async () => {
    const s = spec('life', { bash: 'sleep 3600' })
    const { id, name, unsupported } = await ctx.rt.create(s)
    assert.equal(name, s.name)
    assert.equal(unsupported, [])
    let info = await ctx.rt.inspect(id)
    assert.is(info.state, 'created')
    assert.is(info.running, false)
    assert.is(info.exitCode, null)
    assert.is(info.labels['monk.instance'], s.labels['monk.instance'])
    assert.is(info.labels['monk.container'], 'life')
    assert.is(info.labels['monk.peer'], 'test-peer')
    assert.equal((await ctx.rt.inspect(s.name)).id, id, 'inspect by name')

    await ctx.rt.start(id)
    info = await ctx.rt.inspect(id)
    assert.is(info.state, 'running')
    assert.ok((info.pid ?? 0) > 0)
    assert.ok(info.startedAt instanceof Date)
    await ctx.rt.start(id) // no-op on a running container
    assert.is((await ctx.rt.inspect(id)).pid, info.pid)

    const t0 = Date.now()
    await ctx.rt.stop(id) // default grace is 10 s: a quick stop proves SIGTERM reached the workload
    const stopMs = Date.now() - t0
    info = await ctx.rt.inspect(id)
    assert.is(info.state, 'exited')
    assert.is(info.exitCode, 143)
    assert.ok(stopMs < 5000, `stop took ${stopMs} ms`)
    await ctx.rt.stop(id) // no-op on a stopped container

    await ctx.rt.remove(id)
    assert.is((await rejection(ctx.rt.inspect(id))).code, 'not-found')
  })

  lifecycle('stop sends SIGKILL after the grace period to a workload that ignores SIGTERM', async () => {
    const id = await started(spec('stubborn', { bash: 'trap "" TERM; echo ready; while :; do sleep 0.1; done' }))
    await waitFor('the trap to be set', async () => (await logText(id)).includes('ready'))
    const t0 = Date.now()
    await ctx.rt.stop(id, { timeoutMs: 1000 })
    const ms = Date.now() - t0
    const info = await ctx.rt.inspect(id)
    assert.is(info.exitCode, 137)
    assert.ok(ms >= 900 && ms < 8000, `stop took ${ms} ms`)
    await ctx.rt.remove(id)
  })

  lifecycle('a workload that exits keeps its exit code; restart "no" leaves it exited', async () => {
    const id = await started(spec('exit7', { bash: 'echo bye; exit 7', restart: 'no' }))
    const info = await waitFor('exit', async () => { const i = await ctx.rt.inspect(id); return i.state === 'exited' ? i : undefined })
    assert.is(info.exitCode, 7)
    assert.is(info.restartCount, 0)
    assert.ok(info.finishedAt instanceof Date)
    await ctx.rt.remove(id)
  })

  lifecycle('a command that cannot be run ends the container with 127 and says why in its logs', async () => {
    const id = await started(spec('nocmd', { entrypoint: '/no/such/binary-monk' }))
    const info = await waitFor('exit', async () => { const i = await ctx.rt.inspect(id); return i.state === 'exited' ? i : undefined })
    assert.is(info.exitCode, 127)
    await waitFor('the reason in the logs', async () => (await logText(id)).includes('/no/such/binary-monk'))
    await ctx.rt.remove(id)
  })

  // ---- restart policies ---------------------------------------------------------------------
  const restart = unit('restart policies')

  restart('on-failure:2 restarts a failing workload twice, then leaves it exited', async () => {
    const events = await ctx.rt.events({ labels: { [RUN_LABEL]: run, 'monk.container': 'onfail' } })
    const seen = record(events)
    const id = await started(spec('onfail', { bash: 'exit 7', restart: 'on-failure:2' }))
    const info = await waitFor('two restarts then exited', async () => {
      const i = await ctx.rt.inspect(id)
      return i.state === 'exited' && i.restartCount === 2 ? i : undefined
    }, { timeoutMs: 20_000 })
    assert.is(info.exitCode, 7)
    const deaths = await waitFor('three died events', () => { const d = seen.filter(e => e.id === id && e.type === 'died'); return d.length >= 3 ? d : undefined })
    assert.equal(deaths.map(d => d.exitCode), [7, 7, 7])
    assert.is(seen.filter(e => e.id === id && e.type === 'started').length, 3)
    events.close()
    await ctx.rt.remove(id)
  })

  restart('on-failure does not restart a clean exit', async () => {
    const id = await started(spec('onfail0', { bash: 'exit 0', restart: 'on-failure' }))
    const info = await waitFor('exited', async () => { const i = await ctx.rt.inspect(id); return i.state === 'exited' ? i : undefined })
    assert.is(info.exitCode, 0)
    assert.is(info.restartCount, 0)
    await ctx.rt.remove(id)
  })

  restart('always restarts whatever the exit code, until stopped', async () => {
    const id = await started(spec('always', { bash: 'sleep 0.1; exit 0', restart: 'always' }))
    await waitFor('two restarts', async () => (await ctx.rt.inspect(id)).restartCount >= 2, { timeoutMs: 20_000 })
    await ctx.rt.stop(id, { timeoutMs: 2000 })
    const after = await ctx.rt.inspect(id)
    assert.is(after.state, 'exited')
    // Asserting an absence needs a window: backoff is at most 800 ms at this point.
    await new Promise(r => setTimeout(r, 1500))
    const later = await ctx.rt.inspect(id)
    assert.is(later.state, 'exited', 'no restart after an explicit stop')
    assert.is(later.restartCount, after.restartCount)
    await ctx.rt.remove(id)
  })

  restart('unless-stopped restarts a crashed workload', async () => {
    const id = await started(spec('unless', { bash: 'sleep 0.1; exit 3', restart: 'unless-stopped' }))
    await waitFor('a restart', async () => (await ctx.rt.inspect(id)).restartCount >= 1, { timeoutMs: 20_000 })
    await ctx.rt.remove(id, { force: true })
  })

  // ---- environment, workdir, user, limits ------------------------------------------------------
  const env = unit('environment')

  env('environment, workdir and user reach the workload', async () => {
    const wd = join(tmp, 'wd')
    const s = spec('env', { bash: 'echo "A=$A"; echo "B=$B"; echo "PWD=$(pwd)"; echo "UID=$(id -u)"; sleep 3600', environment: ['A=x y', 'B=with=equals'], workdir: wd, user: '65534:65534' })
    const { id, unsupported } = await ctx.rt.create(s)
    await ctx.rt.start(id)
    const text = await waitFor('output', async () => { const t = await logText(id); return t.includes('UID=') ? t : undefined })
    assert.ok(text.includes('stdout:A=x y'), text)
    assert.ok(text.includes('stdout:B=with=equals'), text)
    assert.ok(text.includes(`stdout:PWD=${wd}`), text)
    if (unsupported.some(n => n.field === 'user')) assert.ok(text.includes('UID='), 'user reported as not honoured')
    else assert.ok(text.includes('stdout:UID=65534'), text)
    await ctx.rt.remove(id, { force: true })
  })

  env('ulimits are applied (or reported)', async () => {
    const s = spec('ulimit', { bash: 'echo "NOFILE=$(ulimit -n)"; sleep 3600', ulimits: { nofile: { soft: 1000, hard: 2000 } } })
    const { id, unsupported } = await ctx.rt.create(s)
    await ctx.rt.start(id)
    const text = await waitFor('output', async () => { const t = await logText(id); return t.includes('NOFILE=') ? t : undefined })
    // a runtime that cannot apply them must say so in `unsupported`; otherwise the limit is in force
    const reported = unsupported.some(n => n.field === 'ulimits')
    assert.ok(reported || text.includes('stdout:NOFILE=1000'), `neither applied nor reported: ${text}`)
    await ctx.rt.remove(id, { force: true })
  })

  // ---- logs ---------------------------------------------------------------------------------
  const logs = unit('logs')

  logs('stdout and stderr are separated, with tail and since', async () => {
    const id = await started(spec('logs', { bash: 'echo one; echo two >&2; echo three; sleep 0.3; echo four; sleep 3600' }))
    const all = await waitFor('four lines', async () => { const l = await collect(await ctx.rt.logs(id)); return l.length >= 4 ? l : undefined })
    assert.equal(all.map(l => [l.stream, l.text]).filter(([s]) => s === 'stdout'), [['stdout', 'one'], ['stdout', 'three'], ['stdout', 'four']])
    assert.equal(all.filter(l => l.stream === 'stderr').map(l => l.text), ['two'])
    assert.ok(all.every(l => l.time instanceof Date && !Number.isNaN(l.time.getTime())))
    const tail = await collect(await ctx.rt.logs(id, { tail: 1 }))
    assert.equal(tail.map(l => l.text), ['four'])
    const four = all.find(l => l.text === 'four')
    const since = await collect(await ctx.rt.logs(id, { since: four?.time ?? new Date() }))
    assert.equal(since.map(l => l.text), ['four'])
    await ctx.rt.remove(id, { force: true })
  })

  logs('follow delivers new lines and ends when the workload exits', async () => {
    const marker = join(tmp, `go-${run}`)
    rmSync(marker, { force: true })
    mkdirSync(tmp, { recursive: true })
    const id = await started(spec('follow', { bash: `echo before; while [ ! -e ${marker} ]; do sleep 0.05; done; echo after; exit 0`, paths: [`${tmp}:${tmp}`] }))
    await waitFor('the first line', async () => (await logText(id)).includes('before'))
    const stream = await ctx.rt.logs(id, { follow: true, tail: 0 })
    writeFileSync(marker, 'go')
    const lines = await Promise.race([
      collect(stream),
      new Promise<never>((_, reject) => setTimeout(() => { reject(new Error('follow did not end within 15 s')) }, 15_000))
    ])
    assert.equal(lines.map(l => l.text), ['after'])
    await ctx.rt.remove(id, { force: true })
  })

  logs('closing a follow stream ends it', async () => {
    const id = await started(spec('close', { bash: TICKS }))
    const stream = await ctx.rt.logs(id, { follow: true })
    let n = 0
    for await (const l of stream) { if (l.text.startsWith('tick')) n++; if (n === 3) break }
    assert.is(n, 3)
    await ctx.rt.remove(id, { force: true })
  })

  // ---- exec -----------------------------------------------------------------------------------
  const exec = unit('exec')

  exec('exit code, separated output, env, workdir and a stream', async () => {
    const id = await started(spec('exec', { bash: 'sleep 3600', environment: ['BASE=base'] }))
    const r = await ctx.rt.exec(id, ['sh', '-c', 'echo "$BASE $EXTRA"; pwd; echo oops >&2; exit 3'], { env: { EXTRA: 'extra' }, workdir: '/tmp' })
    assert.is(r.exitCode, 3)
    assert.is(r.stdout, 'base extra\n/tmp\n')
    assert.is(r.stderr, 'oops\n')
    let streamed = ''
    const sink = new Writable({ write (chunk: Buffer, _enc, cb) { streamed += chunk.toString(); cb() } })
    const s = await ctx.rt.exec(id, ['sh', '-c', 'for i in 1 2 3; do echo line$i; done'], { stdout: sink })
    assert.is(s.exitCode, 0)
    assert.is(streamed, 'line1\nline2\nline3\n')
    assert.is(s.stdout, streamed)
    const missing = await ctx.rt.exec(id, ['no-such-command-monk'])
    assert.ok(missing.exitCode === 126 || missing.exitCode === 127, `exit ${missing.exitCode}`)
    await ctx.rt.stop(id, { timeoutMs: 1000 })
    assert.is((await rejection(ctx.rt.exec(id, ['true']))).code, 'not-running')
    await ctx.rt.remove(id)
  })

  // ---- mounts and ports -------------------------------------------------------------------------
  const io = unit('mounts and ports')

  io('a bind mount is shared both ways', async () => {
    const dir = join(tmp, 'shared')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'in'), 'from-host\n')
    const id = await started(spec('mount', { bash: `cat ${dir}/in; echo from-container > ${dir}/out; sleep 3600`, paths: [`${dir}:${dir}`] }))
    await waitFor('the file written inside', () => { try { return readFileSync(join(dir, 'out'), 'utf8') === 'from-container\n' } catch { return false } })
    await waitFor('the file read inside', async () => (await logText(id)).includes('stdout:from-host'))
    await ctx.rt.remove(id, { force: true })
  })

  io('a remapped bind mount works, or is reported as not honoured', async () => {
    const dir = join(tmp, 'remap')
    mkdirSync(dir, { recursive: true })
    const { id, unsupported } = await ctx.rt.create(spec('remap', { bash: 'echo x > /data/x 2>/dev/null; sleep 3600', paths: [`${dir}:/data`] }))
    if (h.caps.remapsPaths) {
      assert.equal(unsupported, [])
      await ctx.rt.start(id)
      await waitFor('the file written at /data', () => { try { return readFileSync(join(dir, 'x'), 'utf8') === 'x\n' } catch { return false } })
    } else {
      assert.equal(unsupported.map(n => n.field), ['paths[0]'])
    }
    await ctx.rt.remove(id, { force: true })
  })

  io('a workload listening on its port is reachable on 127.0.0.1', async () => {
    const port = await freePort()
    const www = join(tmp, `www-${port}`)
    const id = await started(spec('http', { bash: `mkdir -p ${www} && echo hello-${run} > ${www}/index.html && exec busybox httpd -f -p 127.0.0.1:${port} -h ${www}`, ports: [`${port}`] }))
    const body = await waitFor('the server', async () => await httpGet(port))
    assert.is(body, `hello-${run}\n`)
    await ctx.rt.remove(id, { force: true })
  })

  io('a port published as 127.0.0.1:HOST:CONTAINER works, or is reported as not honoured', async () => {
    const port = await freePort()
    const s = spec('publish', { bash: 'mkdir -p /tmp/www && echo published > /tmp/www/index.html && exec busybox httpd -f -p 80 -h /tmp/www', ports: [`127.0.0.1:${port}:80`] })
    const { id, unsupported } = await ctx.rt.create(s)
    if (h.caps.remapsPorts) {
      assert.equal(unsupported, [])
      assert.is(s.network, 'bridge')
      await ctx.rt.start(id)
      assert.is(await waitFor('the published port', async () => await httpGet(port)), 'published\n')
      assert.equal((await ctx.rt.inspect(id)).ports, [{ hostIp: '127.0.0.1', hostPort: port, containerPort: 80, protocol: 'tcp' }])
    } else {
      assert.equal(unsupported.map(n => n.field), ['ports[0]'])
    }
    await ctx.rt.remove(id, { force: true })
  })

  // ---- events and reporting ---------------------------------------------------------------------
  const events = unit('events')

  events('created, started, died, stopped, removed, in order, filtered by label', async () => {
    const stream = await ctx.rt.events({ labels: { [RUN_LABEL]: run, 'monk.container': 'ev' } })
    const seen = record(stream)
    const other = await started(spec('noise', { bash: 'sleep 3600' })) // filtered out
    const id = await started(spec('ev', { bash: 'sleep 3600' }))
    await ctx.rt.stop(id)
    await ctx.rt.remove(id)
    const types = await waitFor('removed', () => { const t = seen.filter(e => e.id === id).map(e => e.type); return t.includes('removed') ? t : undefined })
    assert.equal(types, ['created', 'started', 'died', 'stopped', 'removed'])
    const died = seen.find(e => e.id === id && e.type === 'died')
    assert.is(died?.exitCode, 143)
    assert.is(died?.labels['monk.container'], 'ev')
    assert.ok(seen.every(e => e.id !== other), 'events of other containers are filtered out')
    stream.close()
    await ctx.rt.remove(other, { force: true })
  })

  events('a field the runtime cannot honour is reported by create and as one warning event', async () => {
    const stream = await ctx.rt.events({ labels: { [RUN_LABEL]: run, 'monk.container': 'unsup' } })
    const seen = record(stream)
    const port = await freePort()
    // Host networking forced: a port under another number cannot be honoured by either runtime.
    const s = spec('unsup', { bash: 'sleep 3600', ports: [`${port}:80`] }, {}, { network: 'host' })
    const { id, unsupported } = await ctx.rt.create(s)
    assert.equal(unsupported.map(n => n.field), ['ports[0]'])
    assert.match(unsupported[0]?.reason ?? '', /host network/)
    const warnings = await waitFor('a warning event', () => { const w = seen.filter(e => e.type === 'warning' && e.id === id); return w.length > 0 ? w : undefined })
    assert.is(warnings.length, 1)
    assert.equal(warnings[0]?.notes?.map(n => n.field), ['ports[0]'])
    stream.close()
    await ctx.rt.remove(id, { force: true })
  })

  // ---- error codes ----------------------------------------------------------------------------
  const errors = unit('error codes')

  errors('not-found, name-conflict, is-running, image errors', async () => {
    const ghost = `monk-t-${run}-ghost`
    for (const [what, call] of [
      ['inspect', async () => await ctx.rt.inspect(ghost)],
      ['start', async () => { await ctx.rt.start(ghost) }],
      ['stop', async () => { await ctx.rt.stop(ghost) }],
      ['remove', async () => { await ctx.rt.remove(ghost) }],
      ['logs', async () => await ctx.rt.logs(ghost)],
      ['exec', async () => await ctx.rt.exec(ghost, ['true'])]
    ] as Array<[string, () => Promise<unknown>]>) {
      assert.is((await rejection(call())).code, 'not-found', what)
    }
    const s = spec('dup', { bash: 'sleep 3600' })
    const { id } = await ctx.rt.create(s)
    assert.is((await rejection(ctx.rt.create(s))).code, 'name-conflict')
    await ctx.rt.start(id)
    assert.is((await rejection(ctx.rt.remove(id))).code, 'is-running')
    await ctx.rt.remove(id, { force: true })
    assert.is((await ctx.rt.list({ [RUN_LABEL]: run, 'monk.container': 'dup' })).length, 0)

    if (h.caps.usesImages) {
      const missing = spec('noimage', { image: `monk-test/absent-${run}:1`, bash: 'true' })
      assert.is((await rejection(ctx.rt.create(missing))).code, 'image-not-found')
      // 127.0.0.1:9 (discard) refuses connections: a registry that cannot be reached.
      assert.is((await rejection(ctx.rt.ensureImage(`127.0.0.1:9/monk-${run}:1`))).code, 'registry-unreachable')
      assert.is((await ctx.rt.ensureImage(h.image)).status, 'present')
    } else {
      assert.is((await ctx.rt.ensureImage(h.image)).status, 'not-used')
    }
  })

  // ---- adoption -------------------------------------------------------------------------------
  const adopt = unit('adoption')

  adopt('a new runtime object adopts running containers by label: no duplicates, logs readable', async () => {
    const group = { 'monk.test-group': `adopt-${run}` }
    const a = await started(spec('adopt-a', { bash: TICKS }, group))
    const b = await started(spec('adopt-b', { bash: `echo only-b; ${TICKS}` }, group))
    await waitFor('ticks of a', async () => (await logText(a)).includes('tick 2'))
    await waitFor('ticks of b', async () => (await logText(b)).includes('tick 2'))

    await ctx.rt.close() // the daemon goes away; its containers stay
    ctx.rt = await h.open()

    const found = await ctx.rt.list({ [RUN_LABEL]: run, ...group })
    assert.equal(found.map(c => c.id).sort(), [a, b].sort(), 'the same two containers, no duplicates')
    assert.ok(found.every(c => c.running && c.state === 'running'))
    const before = await logText(b)
    assert.ok(before.includes('stdout:only-b') && before.includes('stdout:tick 0'), 'logs from before the restart')
    const stream = await ctx.rt.logs(a, { follow: true, tail: 0 })
    for await (const l of stream) if (l.text.startsWith('tick')) break // new output still arrives
    assert.is((await ctx.rt.exec(b, ['sh', '-c', 'echo adopted'])).stdout, 'adopted\n')
    await ctx.rt.stop(a, { timeoutMs: 2000 })
    assert.is((await ctx.rt.inspect(a)).state, 'exited')
    for (const id of [a, b]) await ctx.rt.remove(id, { force: true })
  })

  adopt('a daemon killed with SIGKILL: its container keeps running and is adopted with all its output', async () => {
    await ctx.rt.close() // the helper daemon takes the backend (the process runtime's state is locked by one object)
    const s = spec('killed', { bash: TICKS }, { 'monk.test-group': `killed-${run}` })
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', join(ROOT, 'polyfill.ts'), join(ROOT, 'test/helpers/runtime-daemon.ts'), h.name, h.stateDir || '-', JSON.stringify(s)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    let gone = false
    const exited = new Promise(resolve => child.once('exit', () => { gone = true; resolve(undefined) }))
    let id = ''
    try {
      id = await waitFor('the helper daemon to start the container', () => {
        if (gone) return 'gone'
        return /\{"id":"([0-9a-f]+)"/.exec(out)?.[1]
      }, { timeoutMs: 30_000 })
    } catch (e) {
      throw new Error(`${(e as Error).message}; helper stdout: ${out}; stderr: ${err}`)
    } finally {
      child.kill('SIGKILL')
      await exited
      ctx.rt = await h.open()
    }
    assert.ok(id !== '' && id !== 'gone', `helper failed: ${err}`)
    const killedAt = Date.now()
    const found = await ctx.rt.list({ [RUN_LABEL]: run, 'monk.test-group': `killed-${run}` })
    assert.equal(found.map(c => c.id), [id])
    assert.ok(found[0]?.running, 'still running')
    // Ticks written while no daemon read them are not lost: the sequence has no gap.
    await waitFor('ticks after the kill', async () => (await logText(id)).split('\n').length > 10 && Date.now() - killedAt > 300)
    const ticks = (await collect(await ctx.rt.logs(id))).filter(l => l.text.startsWith('tick')).map(l => Number(l.text.slice(5)))
    assert.ok(ticks.length > 5)
    assert.equal(ticks, ticks.map((_, i) => i), 'consecutive ticks from 0')
    await ctx.rt.remove(id, { force: true })
  })

  // ---- teardown --------------------------------------------------------------------------------
  const cleanup = unit('cleanup')
  cleanup('every container of this run is removed', async () => {
    for (const c of await ctx.rt.list({ [RUN_LABEL]: run })) await ctx.rt.remove(c.id, { force: true })
    assert.equal(await ctx.rt.list({ [RUN_LABEL]: run }), [])
  })
  cleanup.after(async () => {
    try {
      for (const c of await ctx.rt.list({ [RUN_LABEL]: run })) await ctx.rt.remove(c.id, { force: true })
    } finally {
      await ctx.rt.close()
      rmSync(tmp, { recursive: true, force: true })
    }
  })

  return suites
}
