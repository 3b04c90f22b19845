// Volumes with a real monkd process, process runtime and Docker (required in CI): a declared volume
// mounted by `mounted-volumes`, a `paths` bind built from `${monk-volume-path}` and a container
// `files` entry. The workload appends a line to both volumes each time it starts; the lines survive
// update, restart, a crash, a SIGKILLed daemon and stop; purge removes the directories.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe, PsRow } from '../../cli/api/messages.js'
import { DockerRuntime } from '../../actors/runtime/docker.js'
import { LABEL_INSTANCE } from '../../actors/runtime/runtime.js'
import { instanceDirName } from '../../actors/runnable/dirs.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'
import { whenDocker, TEST_IMAGE } from '../helpers/runtime-docker.js'

const kit = (ns: string): string => `namespace: ${ns}
store:
  defines: runnable
  variables:
    label: {type: string, value: one, env: LABEL}
  volumes:
    data:
      kind: local
      size: 1
  containers:
    main:
      image: ${TEST_IMAGE}
      mounted-volumes:
        data:
          path: /data
      paths:
        - <- \`\${monk-volume-path}/cache:/cache\`
      files:
        - path: /etc/app/greeting
          contents: hello
          mode: "0644"
      bash: echo "$LABEL $(cat "$MONK_ROOTFS/etc/app/greeting")" >> "$MONK_ROOTFS/data/starts"; echo x >> "$MONK_ROOTFS/cache/starts"; exec sleep 3600
`

/** Pid of the workload's main process (the container's init for Docker). */
async function mainPid (runtime: 'process' | 'docker', home: string, instance: string): Promise<number | null> {
  if (runtime === 'docker') {
    const rt = await DockerRuntime.open({})
    try {
      const c = (await rt.list({ [LABEL_INSTANCE]: instance })).find(x => x.running)
      return c ? (await rt.inspect(c.id)).pid : null
    } finally { await rt.close() }
  }
  const dir = join(home, 'runtime', 'process', 'containers')
  for (const n of existsSync(dir) ? readdirSync(dir) : []) {
    try {
      const rec = JSON.parse(readFileSync(join(dir, n, 'state.json'), 'utf8')) as { spec?: { labels?: Record<string, string> }, pid?: number | null }
      if (rec.spec?.labels?.[LABEL_INSTANCE] === instance && typeof rec.pid === 'number') { process.kill(rec.pid, 0); return rec.pid }
    } catch { /* not a record, or not running */ }
  }
  return null
}

async function scenario (runtime: 'process' | 'docker'): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), `monk-volumes-${runtime}-`))
  const ns = `vol-${runtime}-${process.pid}`
  const instance = `${ns}/store`
  const home = join(base, 'a')
  let p: MonkdProcess | undefined
  const volDir = join(home, 'volumes', instanceDirName(instance))
  const lines = (f: string): string[] => { try { return readFileSync(join(volDir, f), 'utf8').split('\n').filter(Boolean) } catch { return [] } }
  const running = async (): Promise<PsRow | undefined> => (await p!.client.request<PsRow[]>('peer', { type: 'workload.ps' })).find(r => r.instance === instance && r.status === 'running')
  /** Waits for the n-th start to have written its line, and the instance to run. */
  const starts = async (n: number, what: string): Promise<void> => {
    await until(`${what}: ${n} lines in the volume`, async () => lines('data/starts').length >= n && lines('cache/starts').length >= n && await running(), 40_000, 100)
    assert.is(lines('data/starts').length, n, `${what}: exactly ${n} starts (${lines('data/starts').join(' | ')})`)
  }
  try {
    p = await spawnMonkd('a', home, ['--runtime', runtime])
    const load = await p.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files: { '/k/k.yaml': kit(ns) }, paths: ['/k/k.yaml'] })
    assert.equal(load.errors, [])
    await p.client.request('peer', { type: 'workload.run', path: instance })
    await starts(1, 'run')
    assert.equal(lines('data/starts'), ['one hello'], 'the container file is written and read through the rootfs')

    const d = await p.client.request<Describe>(`runnable/${instance}`, { type: 'runnable.describe' })
    const vols = d.volumes ?? []
    assert.equal(vols.map(v => [v.name, v.host, v.mounts, v.size]), [
      ['data', join(volDir, 'data'), ['main:/data'], 1],
      ['paths', join(volDir, 'cache'), ['main:/cache'], null],
    ])
    assert.equal((await running())?.volumes?.map(v => v.name), ['data', 'paths'], 'ps lists the volumes')

    await p.client.request('peer', { type: 'workload.update', path: instance, set: { label: 'two' } })
    await starts(2, 'update')
    assert.is(lines('data/starts')[1], 'two hello')
    await p.client.request('peer', { type: 'workload.restart', path: instance })
    await starts(3, 'restart')

    const pid = await until('the workload pid', async () => await mainPid(runtime, home, instance))
    process.kill(pid, 'SIGKILL')
    await starts(4, 'crash')

    p.child.kill('SIGKILL')
    await until('monkd exited', () => p!.child.exitCode !== null || p!.child.signalCode !== null)
    p = await spawnMonkd('a', home, ['--runtime', runtime])
    await until('the instance runs after the daemon restart', async () => await running(), 40_000)
    assert.is(lines('data/starts').length, 4, 'the adopted workload kept its data')
    await p.client.request('peer', { type: 'workload.restart', path: instance })
    await starts(5, 'restart after the daemon restart')

    await p.client.request('peer', { type: 'workload.stop', path: instance })
    await until('stopped: no process left', async () => await mainPid(runtime, home, instance) === null, 30_000)
    assert.is(lines('data/starts').length, 5, 'stop keeps the data')
    const stopped = await until('describe says stopped', async () => {
      const r = await p!.client.request<Describe>(`runnable/${instance}`, { type: 'runnable.describe' })
      return r.status === 'stopped' && r.volumes !== undefined ? r : undefined
    }, 30_000)
    assert.equal(stopped.volumes?.map(v => v.name), ['data', 'paths'], 'describe of a stopped instance lists the kept volumes')
    await p.client.request('peer', { type: 'workload.run', path: instance })
    await starts(6, 'run after stop')

    await p.client.request('peer', { type: 'workload.purge', path: instance })
    await until('purge removed the volume directory', () => !existsSync(volDir), 30_000)
    assert.is(await mainPid(runtime, home, instance), null)
  } finally {
    p?.child.kill('SIGKILL')
    if (runtime === 'docker') {
      const rt = await DockerRuntime.open({}).catch(() => undefined)
      for (const c of await rt?.list({ [LABEL_INSTANCE]: instance }) ?? []) await rt?.remove(c.id, { force: true }).catch(() => {})
      await rt?.close()
    } else {
      const pid = await mainPid('process', home, instance).catch(() => null)
      if (pid) { try { process.kill(-pid, 'SIGKILL') } catch { /* gone */ } }
    }
    rmSync(base, { recursive: true, force: true })
  }
}

const V = suite('volumes with a real monkd')
V('process runtime: data survives update, restart, crash, daemon restart and stop; purge removes it', async () => { await scenario('process') })
await whenDocker(V, 'docker runtime: data survives update, restart, crash, daemon restart and stop; purge removes it', async () => { await scenario('docker') }, 'volumes scenario')
V.run()
