// `monk port-forward` with three real monkd peers (process runtime): an HTTP server (node) in an
// instance that runs on beta or gamma is fetched through a local port of alpha's CLI; then the
// owner's monkd is SIGKILLed (and its workload with it, as when a machine dies), and after the
// failover the same local port reaches the new owner. A port the instance does not declare is
// refused with the ports it does.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerRow, PsRow } from '../../cli/api/messages.js'
import { cleanup, e2eBase, ensureBuilt, monkJs, peerIn, startPeer, until, type E2ePeer } from '../helpers/cli-e2e.js'

const base = e2eBase('pf')
const ns = `pf${process.pid}`
const kitDir = join(base, 'kit')
mkdirSync(kitDir)
writeFileSync(join(kitDir, 'server.js'), `require('http').createServer((q, r) => r.end('served from ' + process.cwd())).listen(Number(process.env.PORT), '127.0.0.1')\n`)

function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0)) })
  })
}

function get (port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const q = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000 }, r => { let b = ''; r.on('data', d => { b += String(d) }); r.on('end', () => { resolve(b) }) })
    q.on('timeout', () => q.destroy(new Error('timeout')))
    q.on('error', reject)
    q.end()
  })
}

/** Process groups of the workloads the process runtime recorded in a home. */
function workloadPids (home: string): number[] {
  const dir = join(home, 'runtime', 'process')
  const pids: number[] = []
  const walk = (d: string): void => {
    if (!existsSync(d)) return
    for (const n of readdirSync(d)) {
      const p = join(d, n)
      if (statSync(p).isDirectory()) walk(p)
      else if (n.endsWith('.json')) { try { const pid = (JSON.parse(readFileSync(p, 'utf8')) as { pid?: unknown }).pid; if (typeof pid === 'number') pids.push(pid) } catch { /* not a record */ } }
    }
  }
  walk(dir)
  return pids
}

const peers: E2ePeer[] = []
let forward: ChildProcess | undefined
let port = 0

const S = suite('monk port-forward across a failover')
S.before(async () => {
  ensureBuilt()
  port = await freePort()
  writeFileSync(join(kitDir, 'kit.yaml'), `namespace: ${ns}
web:
  defines: runnable
  affinity: {tag: web}
  variables:
    port: {type: int, value: ${port}, env: PORT}
  services:
    http: {protocol: tcp, port: <- $port}
  containers:
    main:
      bash: exec ${process.execPath} ${join(kitDir, 'server.js')}
`)
  const a = peerIn('alpha', base)
  peers.push(a)
  await startPeer(a)
  const token = (await a.json<{ token: string }>('cluster', 'new')).token
  for (const name of ['beta', 'gamma']) {
    const p = peerIn(name, base)
    peers.push(p)
    const j = await p.monk('cluster', 'join', token, '--runtime', 'process', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', name, '--tag', 'web')
    if (j.code !== 0) throw new Error(`join ${name}: ${j.err}`)
  }
  await until('3 live peers', async () => (await a.json<PeerRow[]>('cluster', 'peers')).filter(r => r.alive).length === 3)
  const l = await a.monk('load', kitDir)
  if (l.code !== 0) throw new Error(`load: ${l.err}`)
  const r = await a.monk('run', '--timeout', '120', `${ns}/web`)
  if (r.code !== 0) throw new Error(`run: ${r.err}${r.out}`)
})
S.after(async () => {
  forward?.kill('SIGKILL')
  await peers[0]?.monk('purge', `${ns}/web`).catch(() => undefined)
  for (const p of peers) for (const w of workloadPids(p.home)) { try { process.kill(-w, 'SIGKILL') } catch { /* gone */ } }
  await cleanup(peers, base)
})

S('an undeclared port is refused, naming the declared ones; a wrong path fails at once', async () => {
  const a = peers[0]!
  const bad = await a.monk('port-forward', `${ns}/nope`, '0:80')
  assert.is(bad.code, 1)
  assert.match(bad.err, /nope is not running/)
  const usage = await a.monk('port-forward', `${ns}/web`, 'x:80')
  assert.is(usage.code, 2)
})

S('alpha\'s local port reaches the server on its owner, and the new owner after a SIGKILL', async () => {
  const a = peers[0]!
  forward = spawn(process.execPath, [monkJs, '--home', a.home, 'port-forward', `${ns}/web`, `0:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  forward.stdout!.on('data', d => { out += String(d) })
  forward.stderr!.on('data', d => { err += String(d) })
  const local = Number(await until('the forward to listen', () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1], 30_000))
  assert.ok(local > 0 && local !== port, out)
  const rows = await a.json<PsRow[]>('ps')
  const ownerName = rows.find(r => r.instance === `${ns}/web`)?.peerName
  const owner = peers.find(p => p.name === ownerName)
  assert.ok(owner && owner.name !== 'alpha', `owner ${String(ownerName)}`)
  const first = await get(local)
  assert.ok(first.startsWith('served from ' + owner.home), first)
  // the owner's machine dies: monkd and its workload
  process.kill(owner.pid()!, 'SIGKILL')
  for (const w of workloadPids(owner.home)) { try { process.kill(-w, 'SIGKILL') } catch { /* gone */ } }
  const other = peers.find(p => p.name !== 'alpha' && p !== owner)!
  const after = await until('the same local port to reach the new owner', async () => {
    const body = await get(local).catch(() => '')
    return body.startsWith('served from ' + other.home) ? body : undefined
  }, 90_000, 500)
  assert.ok(after.includes(other.home))
  assert.ok(forward.exitCode === null, `port-forward still runs: ${err}`)
})

S('a port the instance does not declare: the connection is closed and monk says which ports it has', async () => {
  const a = peers[0]!
  const pf = spawn(process.execPath, [monkJs, '--home', a.home, 'port-forward', `${ns}/web`, '0:1'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  pf.stdout!.on('data', d => { out += String(d) })
  pf.stderr!.on('data', d => { err += String(d) })
  try {
    const local = Number(await until('the forward to listen', () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1], 30_000))
    const r = await get(local).then(b => `body ${b}`, (e: Error) => `error ${e.message}`)
    assert.match(r, /^error/)
    await until('the reason on stderr', () => /declares no TCP service on port 1 \(its services: http \d+\)/.test(err), 10_000)
    assert.is(pf.exitCode, null, 'it keeps running')
  } finally { pf.kill('SIGKILL') }
})

S.run()
