// Isolation through the overlay, with real monkd processes on 127.0.0.1 (process runtime): two
// instances of one web kit run on peer A on the same port, each on its own loopback address
// (MONK_SERVICE_HOST); two clients on peer B, each with a connection to one of them, fetch through
// their own local endpoints and each gets its own server's answer. Only loopback is contacted.
// Docker (host network): two busybox httpd instances of one kit on one peer share a port, each on
// its own address; a third that listens on 0.0.0.0 holds the port of its own, and an instance
// started beside it on that port fails with port-taken instead of a server that cannot bind.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe, PeerRow, PsRow } from '../../cli/api/messages.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'
import { TEST_IMAGE, whenDocker } from '../helpers/runtime-docker.js'

const S = suite('overlay: instances of one kit on one peer do not clash')

const serverJs = `require('http').createServer((q, r) => r.end(process.env.WHO + ' on ' + process.env.MONK_SERVICE_HOST)).listen(+process.env.PORT, process.env.MONK_SERVICE_HOST)
`
// fetches its connection's address every 200 ms on a new TCP connection, writes the last outcome
const clientJs = `const fs = require('fs'), http = require('http')
const url = 'http://' + process.env.WEB_HOST + ':' + process.env.WEB_PORT + '/'
const put = line => { fs.writeFileSync(process.env.OUT + '.tmp', url + ' ' + line); fs.renameSync(process.env.OUT + '.tmp', process.env.OUT) }
const once = () => new Promise(done => {
  const q = http.get(url, { agent: false, timeout: 3000 }, r => { let b = ''; r.on('data', d => { b += d }); r.on('end', () => { put('ok ' + b); done() }) })
  q.on('timeout', () => q.destroy(new Error('timeout')))
  q.on('error', e => { put('err ' + e.message); done() })
})
;(async () => { for (;;) { await once(); await new Promise(r => setTimeout(r, 200)) } })()
`

const kit = (ns: string, dir: string, port: number): string => `namespace: ${ns}
web:
  defines: runnable
  affinity: {tag: server}
  variables:
    who: {type: string, value: nobody, env: WHO}
    port: {type: int, value: ${port}, env: PORT}
  services:
    http: {protocol: tcp, port: <- $port}
  containers:
    main:
      bash: exec node ${join(dir, 'server.js')}
web-a:
  defines: runnable
  inherits: ./web
  variables:
    who: {value: alpha}
web-b:
  defines: runnable
  inherits: ./web
  variables:
    who: {value: beta}
client:
  defines: runnable
  affinity: {tag: client}
  connections:
    web: {target: ${ns}/web-a, service: http}
  variables:
    host: {type: string, value: '<- connection-hostname("web")', env: WEB_HOST}
    port: {type: int, value: '<- connection-port("web")', env: WEB_PORT}
    out: {type: string, value: ${join(dir, 'a.out')}, env: OUT}
  containers:
    main:
      bash: exec node ${join(dir, 'client.js')}
client-b:
  defines: runnable
  inherits: ./client
  connections:
    web: {target: ${ns}/web-b}
  variables:
    out: {value: ${join(dir, 'b.out')}}
`

S('two instances of one kit on peer A share a port on their own addresses; each client on B reaches its own', async () => {
  const base = mkdtempSync(join(tmpdir(), 'monk-isolation-'))
  writeFileSync(join(base, 'server.js'), serverJs)
  writeFileSync(join(base, 'client.js'), clientJs)
  const ns = `iso${process.pid}`
  const port = 24000 + (process.pid % 5000)
  const daemons: MonkdProcess[] = []
  try {
    const a = await spawnMonkd('a', join(base, 'a'), ['--runtime', 'process', '--tag', 'server', '--log-level', 'warn'])
    daemons.push(a)
    const token = (await a.client.request<{ token: string }>('peer', { type: 'cluster.token' })).token
    const b = await spawnMonkd('b', join(base, 'b'), ['--runtime', 'process', '--tag', 'client', '--join', token, '--log-level', 'warn'])
    daemons.push(b)
    await until('A and B see each other', async () => (await b.client.request<PeerRow[]>('peer', { type: 'cluster.peers' })).filter(p => p.alive).length === 2, 60_000)
    const load = await b.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files: { '/k/k.yaml': kit(ns, base, port) }, paths: ['/k/k.yaml'] })
    assert.equal(load.errors, [])
    for (const path of ['web-a', 'web-b', 'client', 'client-b']) await b.client.request('peer', { type: 'workload.run', path: `${ns}/${path}` })
    const read = (f: string): string => existsSync(join(base, f)) ? readFileSync(join(base, f), 'utf8') : ''
    await until('client a gets alpha through its connection', () => / ok alpha on 127\./.test(read('a.out')), 90_000, 200)
    await until('client b gets beta through its connection', () => / ok beta on 127\./.test(read('b.out')), 90_000, 200)

    // both servers run on A, on the same port, each on an address of its own
    const ps = await a.client.request<PsRow[]>('peer', { type: 'workload.ps' })
    for (const w of ['web-a', 'web-b']) {
      const row = ps.find(r => r.instance === `${ns}/${w}`)
      assert.is(row?.peerName, 'a', `${w} runs on A`)
      assert.is(row?.status, 'running', `${w} runs: ${row?.error ?? ''}`)
    }
    const ports = await Promise.all(['web-a', 'web-b'].map(async w => (await a.client.request<Describe>(`runnable/${ns}/${w}`, { type: 'runnable.describe' })).ports))
    assert.is(ports[0]?.[0]?.port, port)
    assert.is(ports[1]?.[0]?.port, port)
    assert.is.not(ports[0]?.[0]?.host, ports[1]?.[0]?.host, 'each instance has its own address')
    assert.ok(read('a.out').endsWith(`ok alpha on ${ports[0]?.[0]?.host ?? '?'}`), read('a.out'))
    assert.ok(read('b.out').endsWith(`ok beta on ${ports[1]?.[0]?.host ?? '?'}`), read('b.out'))

    // the clients' endpoints are on B's loopback and distinct; both went through tunnels to A
    const [ca, cb] = await Promise.all(['client', 'client-b'].map(async c => await until(`${c} shows its connection`, async () => {
      const d = await b.client.request<Describe>(`runnable/${ns}/${c}`, { type: 'runnable.describe' })
      const row = d.connections?.[0]
      return row && row.bytesIn > 0 ? row : undefined
    }, 30_000, 500)))
    assert.is.not(ca!.endpoint, cb!.endpoint)
    assert.is(ca!.target, `${ns}/web-a`)
    assert.is(cb!.target, `${ns}/web-b`)
    for (const c of [ca!, cb!]) assert.is(c.peerName, 'a', 'the tunnel went to A')
    for (const path of ['client', 'client-b', 'web-a', 'web-b']) await b.client.request('peer', { type: 'workload.purge', path: `${ns}/${path}` })
  } catch (err) {
    for (const d of daemons) console.log(`--- monkd ${d.name} output:\n${d.output().slice(-4000)}`)
    throw err
  } finally {
    for (const d of daemons) d.child.kill('SIGKILL')
    // process-runtime workloads outlive their daemon: end them by their unique directory
    spawnSync('pkill', ['-KILL', '-f', `${base}/`])
    rmSync(base, { recursive: true, force: true })
  }
})

const [image, tag] = TEST_IMAGE.split(':') as [string, string]
const dockerKit = (ns: string, port: number, other: number): string => `namespace: ${ns}
web:
  defines: runnable
  variables:
    who: {type: string, value: nobody, env: WHO}
    port: {type: int, value: ${port}, env: PORT}
  services:
    http: {protocol: tcp, port: <- $port}
  containers:
    main:
      image: ${image}
      image-tag: "${tag}"
      bash: mkdir -p /tmp/w && echo "$WHO on $MONK_SERVICE_HOST" > /tmp/w/index.html && exec httpd -f -p "$MONK_SERVICE_HOST:$PORT" -h /tmp/w
web-a:
  defines: runnable
  inherits: ./web
  variables:
    who: {value: alpha}
web-b:
  defines: runnable
  inherits: ./web
  variables:
    who: {value: beta}
greedy:
  defines: runnable
  inherits: ./web
  variables:
    port: {value: ${other}}
  containers:
    main:
      bash: mkdir -p /tmp/w && echo greedy > /tmp/w/index.html && exec httpd -f -p "$PORT" -h /tmp/w
late:
  defines: runnable
  inherits: ./web
  variables:
    port: {value: ${other}}
`

async function fetchText (url: string): Promise<string> {
  const r = await fetch(url, { signal: AbortSignal.timeout(3000) })
  return (await r.text()).trim()
}

await whenDocker(S, 'Docker, host network: two instances share a port on their own addresses; beside a server on 0.0.0.0 a start is port-taken', async () => {
  const base = mkdtempSync(join(tmpdir(), 'monk-isolation-docker-'))
  const ns = `isod${process.pid}`
  const port = 29000 + (process.pid % 3000)
  const other = port + 3000
  let d: MonkdProcess | undefined
  try {
    d = await spawnMonkd('d', join(base, 'd'), ['--runtime', 'docker', '--log-level', 'warn'])
    const load = await d.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files: { '/k/k.yaml': dockerKit(ns, port, other) }, paths: ['/k/k.yaml'] })
    assert.equal(load.errors, [])
    for (const path of ['web-a', 'web-b', 'greedy']) await d.client.request('peer', { type: 'workload.run', path: `${ns}/${path}` })
    const hosts = await until('web-a and web-b run, each on an address of its own', async () => {
      const hs = await Promise.all(['web-a', 'web-b'].map(async w => (await d!.client.request<Describe>(`runnable/${ns}/${w}`, { type: 'runnable.describe' })).ports?.[0]?.host))
      const ps = await d!.client.request<PsRow[]>('peer', { type: 'workload.ps' })
      const up = ['web-a', 'web-b', 'greedy'].every(w => ps.find(r => r.instance === `${ns}/${w}`)?.status === 'running')
      return up && hs.every(h => h !== undefined && h.startsWith('127.') && !h.startsWith('127.0.')) ? hs as string[] : undefined
    }, 120_000, 500)
    assert.is.not(hosts[0], hosts[1])
    // each answers on its own address (loopback: the containers share the host's network)
    assert.is(await until('web-a answers', async () => await fetchText(`http://${hosts[0]}:${port}/`).catch(() => undefined), 30_000, 300), `alpha on ${hosts[0]}`)
    assert.is(await until('web-b answers', async () => await fetchText(`http://${hosts[1]}:${port}/`).catch(() => undefined), 30_000, 300), `beta on ${hosts[1]}`)
    await until('greedy holds its port on every address', async () => await fetchText(`http://127.0.0.1:${other}/`).catch(() => undefined), 30_000, 300)
    // an instance on greedy's port: refused before its container starts, with the reason
    await d.client.request('peer', { type: 'workload.run', path: `${ns}/late` })
    const err = await until('late fails with port-taken', async () => {
      const row = (await d!.client.request<PsRow[]>('peer', { type: 'workload.ps' })).find(r => r.instance === `${ns}/late`)
      return row?.error?.includes(`needs port ${other}/tcp on its own address`) === true ? row.error : undefined
    }, 60_000, 500)
    assert.match(err, /\$MONK_SERVICE_HOST/)
    for (const path of ['web-a', 'web-b', 'greedy', 'late']) await d.client.request('peer', { type: 'workload.purge', path: `${ns}/${path}` })
  } catch (err) {
    if (d) console.log(`--- monkd d output:\n${d.output().slice(-4000)}`)
    throw err
  } finally {
    d?.child.kill('SIGKILL')
    // containers outlive a killed daemon: remove this test's by its namespace label
    const ids = spawnSync('docker', ['ps', '-aq', '--filter', `label=monk.instance`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)
    for (const id of ids) {
      const inst = spawnSync('docker', ['inspect', '-f', '{{index .Config.Labels "monk.instance"}}', id], { encoding: 'utf8' }).stdout.trim()
      if (inst.startsWith(`${ns}/`)) spawnSync('docker', ['rm', '-f', id])
    }
    rmSync(base, { recursive: true, force: true })
  }
}, 'isolation test')

S.run()
