// The overlay between hosts that are really apart: each monkd runs in its own network namespace
// (test/helpers/netns.ts), whose firewall lets only the p2p port in. Process runtime.
// - A web server on host A; a client on host B fetches through its connection's local endpoint
//   and gets A's content, while a direct connection from B to A's service port is refused.
// - describe shows the connection (endpoint, target peer, bytes, path: raw); cluster peers shows the tunnel.
// - A cluster member that runs no consumer naming the service is refused, and A counts it.
// - SIGKILL everything on A: the server comes up on C; the client's next fetch, to the same
//   address, is answered by C, and the client process was not restarted.
// Skips with one line where namespaces cannot be created; fails instead when MONK_CI is set.
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe, PeerRow, PsRow, StatusReply } from '../../cli/api/messages.js'
import { createClient, type ApiClient } from '../../cli/api/client.js'
import { MONKD_NODE_FLAGS } from '../../cli/node-flags.js'
import { root, tsNode } from '../helpers/cli.js'
import { until } from '../helpers/monkd.js'
import { createHosts, netnsUnavailable, type NetHost, type NetHosts } from '../helpers/netns.js'

const P2P = 7946
const PORT = 8080
const S = suite('overlay across network namespaces')

const serverJs = `const ip = (require('os').networkInterfaces().eth0 || [])[0]?.address || '?'
require('http').createServer((q, r) => r.end('served by ' + ip)).listen(+process.env.PORT, '0.0.0.0')
`
// fetches its connection's address every 250 ms on a new TCP connection, writes the last outcome
const clientJs = `const fs = require('fs'), http = require('http')
const url = 'http://' + process.env.WEB_HOST + ':' + process.env.WEB_PORT + '/'
const put = line => { fs.writeFileSync(process.env.OUT + '.tmp', process.pid + ' ' + url + ' ' + line); fs.renameSync(process.env.OUT + '.tmp', process.env.OUT) }
const once = () => new Promise(done => {
  const q = http.get(url, { agent: false, timeout: 3000 }, r => { let b = ''; r.on('data', d => { b += d }); r.on('end', () => { put('ok ' + b); done() }) })
  q.on('timeout', () => q.destroy(new Error('timeout')))
  q.on('error', e => { put('err ' + e.message); done() })
})
;(async () => { for (;;) { await once(); await new Promise(r => setTimeout(r, 250)) } })()
`

const kit = (ns: string, dir: string): string => `namespace: ${ns}
web:
  defines: runnable
  affinity: {tag: server}
  variables:
    port: {type: int, value: ${PORT}, env: PORT}
  services:
    http: {protocol: tcp, port: <- $port}
  containers:
    main:
      bash: exec node ${join(dir, 'server.js')}
client:
  defines: runnable
  affinity: {tag: client}
  connections:
    web: {target: ${ns}/web, service: http}
  variables:
    host: {type: string, value: '<- connection-hostname("web")', env: WEB_HOST}
    port: {type: int, value: '<- connection-port("web")', env: WEB_PORT}
    out: {type: string, value: ${join(dir, 'client.out')}, env: OUT}
  containers:
    main:
      bash: exec node ${join(dir, 'client.js')}
`

interface Daemon { host: NetHost, child: ChildProcess, client: ApiClient, out: () => string }

function startMonkd (net: NetHosts, host: NetHost, home: string, tag: string, token?: string): Daemon {
  const args = [...MONKD_NODE_FLAGS, ...tsNode, `${root}/cli/monkd.ts`, '--home', home, '--name', host.name, '--listen', `/ip4/${host.ip}/tcp/${P2P}`, '--runtime', 'process', '--tag', tag, '--log-level', 'warn', ...(token !== undefined ? ['--join', token] : [])]
  const child = net.spawn(host, process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', d => { out += String(d) })
  child.stderr?.on('data', d => { out += String(d) })
  return { host, child, client: createClient({ socketPath: join(home, 'monkd.sock'), timeoutMs: 30_000 }), out: () => out }
}

async function ready (d: Daemon): Promise<void> {
  await until(`monkd ${d.host.name} answers`, async () => {
    if (d.child.exitCode !== null) throw new Error(`monkd ${d.host.name} exited: ${d.out()}`)
    return await d.client.ping().then(() => true, () => false)
  }, 60_000, 200)
}

S('a client on B reaches A only through the tunnel, is refused directly, and follows the server to C', async () => {
  const why = netnsUnavailable()
  if (why !== null) {
    if (process.env.MONK_CI) assert.unreachable(`MONK_CI is set and the namespace tests cannot run: ${why}`)
    console.log(`  SKIP overlay namespace tests: ${why}`)
    return
  }
  const base = mkdtempSync(join(tmpdir(), 'monk-overlay-'))
  writeFileSync(join(base, 'server.js'), serverJs)
  writeFileSync(join(base, 'client.js'), clientJs)
  const ns = `ovl${process.pid}`
  const net = createHosts(['a', 'b', 'c'], P2P)
  const [A, B, C] = net.hosts as [NetHost, NetHost, NetHost]
  const daemons: Daemon[] = []
  try {
    const a = startMonkd(net, A, join(base, 'a'), 'server')
    daemons.push(a)
    await ready(a)
    const token = (await a.client.request<{ token: string }>('peer', { type: 'cluster.token' })).token
    const b = startMonkd(net, B, join(base, 'b'), 'client', token)
    daemons.push(b)
    await ready(b)
    await until('A and B see each other', async () => (await b.client.request<PeerRow[]>('peer', { type: 'cluster.peers' })).filter(p => p.alive).length === 2, 60_000)
    // B's admission (written when it joined) must have reached B before it may load as an operator
    await until('B knows itself admitted as an operator', async () => (await b.client.request<PeerRow[]>('peer', { type: 'cluster.peers' })).find(p => p.name === 'b')?.role === 'operator', 60_000)
    const load = await b.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files: { '/k/k.yaml': kit(ns, base) }, paths: ['/k/k.yaml'] })
    assert.equal(load.errors, [])
    await until('the kit reached A', async () => (await a.client.request<Array<{ path: string }>>('peer', { type: 'templates.list' })).some(t => t.path === `${ns}/web`), 30_000)
    await b.client.request('peer', { type: 'workload.run', path: `${ns}/web` })
    await b.client.request('peer', { type: 'workload.run', path: `${ns}/client` })
    const out = join(base, 'client.out')
    const read = (): string => existsSync(out) ? readFileSync(out, 'utf8') : ''
    await until('the client on B gets A\'s page through its connection', () => read().endsWith(`ok served by ${A.ip}`), 90_000, 200)
    const [pid, url] = read().split(' ')
    assert.match(url ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/, 'the client reaches the service on a loopback endpoint of its own peer')

    // the service really listens on A's address: from A itself it answers; from B the firewall refuses it
    const probe = (target: string): string => `require('net').connect(${PORT}, '${target}').on('connect', () => { console.log('connected'); process.exit(0) }).on('error', e => { console.log(e.code); process.exit(0) })`
    assert.match(net.run(A, process.execPath, ['-e', probe(A.ip)]).out, /connected/, 'A reaches its own service on its address')
    assert.match(net.run(B, process.execPath, ['-e', probe(A.ip)]).out, /ECONNREFUSED/, 'B cannot connect to A\'s service port directly')

    // describe on any peer shows the client's connection; cluster peers shows B's tunnel to A
    const d = await until('describe shows the connection with bytes', async () => {
      const r = await a.client.request<Describe>(`runnable/${ns}/client`, { type: 'runnable.describe' })
      const c = r.connections?.[0]
      return c && c.bytesIn > 0 && c.peerName === 'a' ? c : undefined
    }, 30_000, 500)
    assert.is(d.name, 'web')
    assert.is(d.target, `${ns}/web`)
    assert.is(`http://${d.endpoint}/`, url)
    // the fast path ran: sealed raw sockets to A's p2p port, the only port the firewall lets through
    assert.is(d.path, 'raw', 'the tunnel took the raw path to the p2p port')
    const rawA = (await a.client.request<StatusReply>('peer', { type: 'peer.status' })).tunnels?.raw
    assert.ok((rawA?.served ?? 0) > 0, `A served tunnels on the raw path: ${JSON.stringify(rawA)}`)
    assert.is(rawA?.badTickets, 0)
    assert.is(rawA?.badFrames, 0)
    assert.is((await b.client.request<StatusReply>('peer', { type: 'peer.status' })).tunnels?.raw?.fallbacks, 0, 'B never fell back to the stream')
    const rows = await a.client.request<PeerRow[]>('peer', { type: 'cluster.peers' })
    const aId = rows.find(r => r.name === 'a')?.id
    await until('cluster peers lists tunnels between B and A', async () => {
      const rs = await a.client.request<PeerRow[]>('peer', { type: 'cluster.peers' })
      return rs.find(r => r.name === 'b')?.tunnels?.some(t => t.peer === aId) === true || rs.find(r => r.name === 'a')?.tunnels?.some(t => t.name === 'b') === true
    }, 30_000, 500)

    // a member of the cluster that runs no consumer of the service is refused, and A counts it
    const before = (await a.client.request<StatusReply>('peer', { type: 'peer.status' })).tunnels?.refused ?? 0
    const intruder = net.run(B, process.execPath, [...tsNode, `${root}/test/helpers/tunnel-intruder.ts`], {
      timeoutMs: 60_000,
      env: { ...process.env, MONK_INTRUDER: JSON.stringify({ home: join(base, 'intruder'), listen: `/ip4/${B.ip}/tcp/0`, token, peer: aId, consumer: `${ns}/client`, target: `${ns}/web`, service: 'http' }) },
    })
    const verdict = JSON.parse(intruder.out.trim().split('\n').pop() ?? '{}') as { failed?: number, lastError?: string, bytesIn?: number }
    assert.is(verdict.bytesIn, 0, `the intruder got no bytes: ${intruder.out}`)
    assert.match(verdict.lastError ?? '', /refused by peer .*does not run/, intruder.out)
    const after = (await a.client.request<StatusReply>('peer', { type: 'peer.status' })).tunnels?.refused ?? 0
    assert.ok(after > before, `A counted the refusal (${before} → ${after})`)

    // C joins; then A dies with its workload: the server comes up on C, the client follows unchanged
    const c = startMonkd(net, C, join(base, 'c'), 'server', token)
    daemons.push(c)
    await ready(c)
    await until('C is alive on B', async () => (await b.client.request<PeerRow[]>('peer', { type: 'cluster.peers' })).filter(p => p.alive).length === 3, 60_000)
    net.killAll(A)
    const killedAt = Date.now()
    await until('the client on B gets C\'s page at the same address', () => read().endsWith(`ok served by ${C.ip}`), 90_000, 100)
    const moved = Date.now() - killedAt
    const [pid2, url2] = read().split(' ')
    assert.is(pid2, pid, 'the client process was not restarted')
    assert.is(url2, url, 'the client uses the same address')
    const ps = (await b.client.request<PsRow[]>('peer', { type: 'workload.ps' })).find(r => r.instance === `${ns}/web`)
    assert.is(ps?.peerName, 'c')
    console.log(`  the client's fetches reached the server on C ${moved} ms after A was killed`)
    await b.client.request('peer', { type: 'workload.purge', path: `${ns}/client` })
    await b.client.request('peer', { type: 'workload.purge', path: `${ns}/web` })
  } catch (err) {
    for (const d of daemons) console.log(`--- monkd ${d.host.name} output:\n${d.out().slice(-4000)}`)
    throw err
  } finally {
    net.destroy()
    rmSync(base, { recursive: true, force: true })
  }
})

S.run()
