// test-deadline-s: 240
// `monkd --network-name NAME` with a real Docker engine (issue 16: containers reach their endpoints
// through a per-peer monk network). monkd makes the bridge network; a container that maps a port
// (so it cannot share the host's loopback) joins it instead of Docker's default bridge, and its
// connection resolves to an endpoint that listens on the network's gateway, the address such a
// container reaches the host on. No byte is sent to that address (this machine's rules forbid
// traffic to bridge addresses): the test reads the engine's config, `describe` and the listening
// sockets. Also: the flag is refused with the process runtime, and for a name Docker would refuse.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe, PsRow } from '../../cli/api/messages.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'
import { TEST_IMAGE, whenDocker } from '../helpers/runtime-docker.js'

const S = suite('monkd --network-name: endpoints on a per-peer network for bridge containers')
const [image, tag] = TEST_IMAGE.split(':') as [string, string]
const root = join(import.meta.dirname, '../..')

const kit = (ns: string, port: number, uiPort: number): string => `namespace: ${ns}
srv:
  defines: runnable
  services:
    http: {protocol: tcp, port: ${port}}
  containers:
    main:
      image: ${image}
      image-tag: "${tag}"
      bash: mkdir -p /tmp/w && echo hi > /tmp/w/index.html && exec httpd -f -p "$MONK_SERVICE_HOST:${port}" -h /tmp/w
cli:
  defines: runnable
  connections:
    web: {target: ${ns}/srv, service: http}
  variables:
    host: {type: string, value: '<- connection-hostname("web")', env: WEB_HOST}
    port: {type: int, value: '<- connection-port("web")', env: WEB_PORT}
  services:
    ui: {protocol: tcp, port: 8080, host-port: ${uiPort}}
  containers:
    main:
      image: ${image}
      image-tag: "${tag}"
      bash: exec sleep 3600
`

const docker = (...args: string[]): string => spawnSync('docker', args, { encoding: 'utf8' }).stdout.trim()

/** Runs monkd to its exit (a usage error exits at once); its code and output. */
function monkdExit (args: string[]): { code: number | null, out: string } {
  const home = mkdtempSync(join(tmpdir(), 'monk-netname-bad-'))
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', join(root, 'polyfill.ts'), join(root, 'cli/monkd.ts'), '--home', home, '--listen', '/ip4/127.0.0.1/tcp/0', ...args], { encoding: 'utf8', timeout: 60_000 })
    return { code: r.status, out: `${r.stdout}${r.stderr}` }
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

S('refused with the process runtime, and for a name Docker refuses', () => {
  const proc = monkdExit(['--runtime', 'process', '--network-name', 'monk0'])
  assert.is(proc.code, 2, proc.out)
  assert.match(proc.out, /--network-name is a Docker network: it needs --runtime docker/)
  const bad = monkdExit(['--runtime', 'docker', '--network-name', 'bad name!'])
  assert.is(bad.code, 2, bad.out)
  assert.match(bad.out, /--network-name must be a Docker network name/)
})

await whenDocker(S, 'a container that maps a port joins the network; its connection listens on the gateway', async () => {
  const base = mkdtempSync(join(tmpdir(), 'monk-netname-'))
  const ns = `netn${process.pid}`
  const net = `monk-test-${process.pid}`
  const port = 31000 + (process.pid % 2000)
  const uiPort = port + 2000
  let d: MonkdProcess | undefined
  try {
    d = await spawnMonkd('d', join(base, 'd'), ['--runtime', 'docker', '--network-name', net, '--log-level', 'info'])
    // monkd made the network: a bridge, labelled as its own, with an IPv4 gateway
    const info = JSON.parse(docker('network', 'inspect', net)) as Array<{ Driver: string, Labels: Record<string, string>, IPAM: { Config: Array<{ Gateway?: string }> } }>
    assert.is(info[0]?.Driver, 'bridge')
    assert.is(info[0]?.Labels['monk.network'], '1')
    const gateway = info[0]!.IPAM.Config.map(c => c.Gateway).find(g => g !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(g))
    assert.ok(gateway, 'the network has an IPv4 gateway')
    const load = await d.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files: { '/k/k.yaml': kit(ns, port, uiPort) }, paths: ['/k/k.yaml'] })
    assert.equal(load.errors, [])
    for (const p of ['srv', 'cli']) await d.client.request('peer', { type: 'workload.run', path: `${ns}/${p}` })
    await until('srv and cli run', async () => {
      const ps = await d!.client.request<PsRow[]>('peer', { type: 'workload.ps' })
      return ['srv', 'cli'].every(w => ps.find(r => r.instance === `${ns}/${w}`)?.status === 'running')
    }, 120_000, 500)
    const id = (name: string): string => docker('ps', '-q', '--filter', `label=monk.instance=${ns}/${name}`)
    // the client maps a port, so it is on a bridge: the per-peer network, not Docker's default one
    assert.is(docker('inspect', '-f', '{{.HostConfig.NetworkMode}}', id('cli')), net)
    // the server maps nothing: it stays on the host network
    assert.is(docker('inspect', '-f', '{{.HostConfig.NetworkMode}}', id('srv')), 'host')
    // the connection resolves to an endpoint on the gateway, in the container's environment and in describe
    const env = JSON.parse(docker('inspect', '-f', '{{json .Config.Env}}', id('cli'))) as string[]
    const host = env.find(e => e.startsWith('WEB_HOST='))?.slice('WEB_HOST='.length)
    const epPort = env.find(e => e.startsWith('WEB_PORT='))?.slice('WEB_PORT='.length)
    assert.is(host, gateway)
    // describe reads the connection rows the peer publishes every few seconds
    const shown = await until('describe shows the connection', async () => (await d!.client.request<Describe>(`runnable/${ns}/cli`, { type: 'runnable.describe' })).connections?.[0]?.endpoint, 30_000, 500)
    assert.is(shown, `${gateway!}:${epPort ?? ''}`)
    // and something listens there (read from the socket table: nothing connects to it)
    const listening = spawnSync('ss', ['-ltnH'], { encoding: 'utf8' }).stdout
    assert.ok(listening.split('\n').some(l => l.includes(` ${gateway!}:${epPort ?? ''} `)), `a listener on ${gateway!}:${epPort ?? ''} in:\n${listening}`)
    // no warning that the bridge container cannot reach its endpoints
    const log = readFileSync(join(d.home, 'logs', 'monkd.log'), 'utf8')
    assert.not.match(log, /cannot reach the local endpoints/)
    assert.match(log, new RegExp(`connection endpoints listen on its gateway ${gateway!.replace(/\./g, '\\.')}`))
    for (const p of ['cli', 'srv']) await d.client.request('peer', { type: 'workload.purge', path: `${ns}/${p}` })
  } catch (err) {
    if (d) console.log(`--- monkd d output:\n${d.output().slice(-4000)}`)
    throw err
  } finally {
    d?.child.kill('SIGKILL')
    const ids = docker('ps', '-aq', '--filter', 'label=monk.instance').split('\n').filter(Boolean)
    for (const c of ids) if (docker('inspect', '-f', '{{index .Config.Labels "monk.instance"}}', c).startsWith(`${ns}/`)) docker('rm', '-f', c)
    docker('network', 'rm', net)
    rmSync(base, { recursive: true, force: true })
  }
}, 'per-peer network test')

S.run()
