// Published services with a real monkd, process runtime and Docker (required in CI): two instances of
// one kit on one peer answer on distinct host ports (Docker maps one container port to two host
// ports on the peer's address); a third asking for a host port already held fails before anything
// starts, with the conflict in ps and describe. Only 127.0.0.1 is contacted.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe, PsRow } from '../../cli/api/messages.js'
import { DockerRuntime } from '../../actors/runtime/docker.js'
import { LABEL_INSTANCE } from '../../actors/runtime/runtime.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'
import { whenDocker, TEST_IMAGE } from '../helpers/runtime-docker.js'

const server = {
  // busybox httpd in the container, on the container's port 8080
  docker: `image: ${TEST_IMAGE}
      bash: mkdir -p /tmp/www && echo "$WHO" > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www`,
  // a process listens on its own port (the service's port)
  process: `bash: exec node -e "require('http').createServer((q, r) => r.end(process.env.WHO + '\\\\n')).listen(+process.env.PORT, '127.0.0.1')"`,
}

const kit = (ns: string, runtime: 'process' | 'docker', base: number): string => `namespace: ${ns}
web:
  defines: runnable
  variables:
    who: {type: string, value: nobody, env: WHO}
    port: {type: int, value: ${runtime === 'docker' ? 8080 : base}, env: PORT}
    hp: {type: int, value: ${base}}
  services:
    http:
      container: main
      port: <- $port
      host-port: <- $hp
      protocol: tcp
  containers:
    main:
      ${server[runtime]}
a:
  defines: runnable
  inherits: ./web
  variables:
    who: {value: alpha}
b:
  defines: runnable
  inherits: ./web
  variables:
    who: {value: beta}
    ${runtime === 'docker' ? 'hp' : 'port'}: {value: ${base + 1}}
    ${runtime === 'docker' ? '' : `hp: {value: ${base + 1}}`}
c:
  defines: runnable
  inherits: ./web
  variables:
    who: {value: gamma}
`

async function get (port: number): Promise<string | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) })
    return (await r.text()).trim()
  } catch { return undefined }
}

async function scenario (runtime: 'process' | 'docker'): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), `monk-ports-${runtime}-`))
  const ns = `ports-${runtime}-${process.pid}`
  const port = 21000 + (process.pid % 5000) * 2 + (runtime === 'docker' ? 10000 : 0)
  let p: MonkdProcess | undefined
  const ps = async (inst: string): Promise<PsRow | undefined> => (await p!.client.request<PsRow[]>('peer', { type: 'workload.ps' })).find(r => r.instance === `${ns}/${inst}`)
  try {
    p = await spawnMonkd('a', join(base, 'a'), ['--runtime', runtime])
    const load = await p.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files: { '/k/k.yaml': kit(ns, runtime, port) }, paths: ['/k/k.yaml'] })
    assert.equal(load.errors, [])
    await p.client.request('peer', { type: 'workload.run', path: `${ns}/a` })
    await p.client.request('peer', { type: 'workload.run', path: `${ns}/b` })
    assert.is(await until(`a answers on 127.0.0.1:${port}`, () => get(port), 60_000), 'alpha')
    assert.is(await until(`b answers on 127.0.0.1:${port + 1}`, () => get(port + 1), 60_000), 'beta')
    const da = await until('a publishes its service', async () => {
      const d = await p!.client.request<Describe>(`runnable/${ns}/a`, { type: 'runnable.describe' })
      return d.status === 'running' && d.ports.length ? d : undefined
    })
    assert.equal(da.ports, [{ service: 'http', host: '127.0.0.1', port }], 'describe shows the address to reach the service')

    // c wants a's host port: it fails before a container exists, and says why
    await p.client.request('peer', { type: 'workload.run', path: `${ns}/c` })
    const row = await until('c reports the conflict', async () => { const r = await ps('c'); return r?.error ? r : undefined }, 30_000)
    assert.match(row.error ?? '', new RegExp(`host port ${port}/tcp, which ${ns}/a \\(service http\\) already uses on this peer`))
    assert.equal(row.containers, [], 'nothing of c was started')
    const dc = await p.client.request<Describe>(`runnable/${ns}/c`, { type: 'runnable.describe' })
    assert.match(dc.error ?? '', /already uses on this peer/)
    assert.is(await get(port), 'alpha', 'a still answers')
  } finally {
    p?.child.kill('SIGKILL')
    const rt = runtime === 'docker' ? await DockerRuntime.open({}).catch(() => undefined) : undefined
    for (const inst of ['a', 'b', 'c']) {
      for (const c of await rt?.list({ [LABEL_INSTANCE]: `${ns}/${inst}` }) ?? []) await rt?.remove(c.id, { force: true }).catch(() => {})
    }
    await rt?.close()
    if (runtime === 'process') await killProcessWorkloads(join(base, 'a'))
    rmSync(base, { recursive: true, force: true })
  }
}

/** Kills the process groups of every workload the process runtime recorded under a home. */
async function killProcessWorkloads (home: string): Promise<void> {
  const { existsSync, readdirSync, readFileSync } = await import('node:fs')
  const dir = join(home, 'runtime', 'process', 'containers')
  for (const n of existsSync(dir) ? readdirSync(dir) : []) {
    try {
      const pid = (JSON.parse(readFileSync(join(dir, n, 'state.json'), 'utf8')) as { pid?: number | null }).pid
      if (typeof pid === 'number') process.kill(-pid, 'SIGKILL')
    } catch { /* gone */ }
  }
}

const P = suite('published services with a real monkd')
P('process runtime: two instances of one kit on distinct ports; a third on a held port fails before it starts', async () => { await scenario('process') })
await whenDocker(P, 'docker runtime: one container port on two host ports; a third on a held host port fails before it starts', async () => { await scenario('docker') }, 'ports scenario')
P.run()
