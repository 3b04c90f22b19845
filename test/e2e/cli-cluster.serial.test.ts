// The built `monk` binary with three real monkd peers (process runtime): cluster new/join/peers,
// placement by tag and peer, logs/exec/do forwarded to the owner, failover seen through `monk ps`,
// and a peer holding a token of another cluster (right addresses, wrong key) rejected.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerRow, PsRow } from '../../cli/api/messages.js'
import { encodeToken, parseToken } from '../../mesh/cluster.js'
import { cleanup, e2eBase, ensureBuilt, monkJs, peerIn, startPeer, until, type E2ePeer } from '../helpers/cli-e2e.js'

const base = e2eBase('cluster')
const ns = `e2ec${process.pid}`
const kitDir = join(base, 'kit')
mkdirSync(kitDir)
writeFileSync(join(kitDir, 'kit.yaml'), `namespace: ${ns}
worker:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: while true; do echo "worker on $(hostname) $$"; sleep 0.3; done
  actions:
    where:
      code: exec("main", "sh", "-c", "printf %s $PPID")
pinned:
  defines: runnable
  inherits: ./worker
`)

// A group whose web waits for db (readiness takes seconds), and a runnable that cannot start.
const stackNs = `${ns}s`
const stackDir = join(base, 'stack')
mkdirSync(stackDir)
writeFileSync(join(stackDir, 'stack.yaml'), `namespace: ${stackNs}
db:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: exec sleep 3600
  checks:
    readiness:
      code: exec("main", "sh", "-c", "sleep 2; echo ok") "ok" contains?
      period: 1
web:
  defines: runnable
  depends:
    wait-for:
      runnables: [${stackNs}/db]
      timeout: 60
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: exec sleep 3600
stack:
  defines: group
  members: [db, web]
needs:
  defines: runnable
  depends:
    wait-for:
      runnables: [${stackNs}/nowhere]
      timeout: 2
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: exec sleep 3600
`)

const peers: E2ePeer[] = []
/** Peers a test SIGKILLed: later tests ask the live ones. */
const killed = new Set<E2ePeer>()
const loopback = ['--runtime', 'process', '--listen', '/ip4/127.0.0.1/tcp/0']
let token = ''
const C = suite('monk (built) with a 3-peer cluster')
C.before(() => { ensureBuilt() })
C.after(async () => { await cleanup(peers, base) })

C('cluster new on alpha; beta and gamma join with the token', async () => {
  const a = peerIn('alpha', base)
  peers.push(a)
  await startPeer(a)
  token = (await a.json<{ token: string }>('cluster', 'new')).token
  for (const [name, extra] of [['beta', []], ['gamma', ['--tag', 'edge']]] as const) {
    const p = peerIn(name, base)
    peers.push(p)
    const r = await p.monk('cluster', 'join', token, ...loopback, '--name', name, ...extra)
    assert.is(r.code, 0, r.err)
    assert.match(r.err, /Joined cluster [0-9a-f]{16}: \d live peers/)
  }
  const rows = await until('alpha sees 3 live peers', async () => {
    const r = await a.json<PeerRow[]>('cluster', 'peers')
    return r.filter(x => x.alive).length === 3 ? r : undefined
  })
  assert.equal(rows.map(r => r.name).sort(), ['alpha', 'beta', 'gamma'])
  assert.equal(rows.find(r => r.name === 'gamma')?.tags, ['edge'])
  const again = await peers[1]!.monk('cluster', 'join', token)
  assert.is(again.code, 0, again.err)
  assert.match(again.err, /Already a member/)
})

C('load on beta, run from alpha: --tag places on gamma, --peer on beta; ps agrees everywhere', async () => {
  const [a, b, g] = peers as [E2ePeer, E2ePeer, E2ePeer]
  assert.is((await b.monk('load', kitDir)).code, 0)
  await until('the templates reached alpha', async () => (await a.json<Array<{ path: string }>>('list', ns)).length === 2)
  const r = await a.monk('run', '--tag', 'edge', `${ns}/pinned`)
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /└─ peer gamma/)
  const r2 = await a.monk('run', '--peer', 'beta', `${ns}/worker`)
  assert.is(r2.code, 0, r2.err)
  assert.match(r2.out, /└─ peer beta/)
  for (const p of [a, b, g]) {
    const rows = await until(`${p.name} sees both running`, async () => {
      const x = await p.json<PsRow[]>('ps')
      return x.filter(y => y.instance.startsWith(ns) && y.status === 'running').length === 2 ? x : undefined
    })
    assert.is(rows.find(x => x.instance === `${ns}/pinned`)?.peerName, 'gamma')
    assert.is(rows.find(x => x.instance === `${ns}/worker`)?.peerName, 'beta')
  }
  assert.match((await a.monk('ps', '--peer', 'gamma')).out, new RegExp(`^${ns}/pinned\\s+running\\s+gamma`, 'm'))
  assert.not.match((await a.monk('ps', '--tag', 'edge')).out, new RegExp(`${ns}/worker`))
})

C('monk run on the cluster: one request; the daemon says what it waits for (depends, readiness) and when it runs or failed', async () => {
  const [a, b] = peers as [E2ePeer, E2ePeer, E2ePeer]
  assert.is((await b.monk('load', stackDir)).code, 0)
  await until('the stack reached alpha', async () => (await a.json<Array<{ path: string }>>('list', stackNs)).length === 4)
  const r = await a.monk('run', `${stackNs}/stack`)
  assert.is(r.code, 0, r.err)
  assert.match(r.err, new RegExp(`${stackNs}/web: waiting for depends ${stackNs}/db`), r.err)
  assert.match(r.err, new RegExp(`${stackNs}/db: waiting for readiness on (alpha|beta|gamma)`), r.err)
  assert.match(r.out, new RegExp(`^${stackNs}/db  running$`, 'm'))
  assert.match(r.out, new RegExp(`^${stackNs}/web  running$`, 'm'))
  const rows = await a.json<PsRow[]>('ps')
  assert.equal(rows.filter(x => x.instance.startsWith(`${stackNs}/`)).map(x => x.status), ['running', 'running'], 'the daemon said running when ps agrees')
  const failed = await a.monk('run', '--timeout', '60', `${stackNs}/needs`)
  assert.is(failed.code, 1, failed.err)
  assert.match(failed.err, new RegExp(`monk: ${stackNs}/needs failed on peer (alpha|beta|gamma): .*${stackNs}/nowhere`), failed.err)
  assert.equal(await a.json('purge', `${stackNs}/stack`), { instances: [`${stackNs}/db`, `${stackNs}/web`] })
  assert.equal(await a.json('purge', `${stackNs}/needs`), { instances: [`${stackNs}/needs`] })
})

C('logs (also --follow), exec and do from alpha are answered by the owner peer', async () => {
  const a = peers[0]!
  const logs = await until('worker logs through alpha', async () => {
    const r = await a.monk('logs', '--last', '2', `${ns}/worker`)
    return r.out.includes('worker on') ? r : undefined
  })
  assert.is(logs.code, 0)
  const ex = await a.monk('exec', `${ns}/pinned`, '--', 'sh', '-c', 'echo $MONK_ROOTFS')
  assert.is(ex.code, 0, ex.err)
  assert.ok(ex.out.startsWith(peers[2]!.home), `runs in gamma's home: ${ex.out}`)
  const d = await a.json<{ output: string }>('do', `${ns}/worker/where`)
  assert.match(d.output, /^\d+$/)
  // logs --follow from alpha of an instance on gamma: pages from the owner, new lines keep coming.
  const child = spawn(process.execPath, [monkJs, '--home', a.home, 'logs', '-f', '--last', '1', `${ns}/pinned`], { env: { ...process.env, NO_COLOR: '1' } })
  const lines: string[] = []
  child.stdout.setEncoding('utf8').on('data', (x: string) => lines.push(...x.split('\n').filter(Boolean)))
  await until('4 lines followed through alpha', () => lines.length >= 4, 20_000, 50)
  const code = await new Promise<number | null>(resolve => { child.once('close', c => resolve(c)); child.kill('SIGINT') })
  assert.is(code, 0)
  assert.ok(lines.every(l => l.startsWith('worker on')), lines.join('\n'))
})

C('failover: SIGKILL the owner of the worker; monk ps on a survivor shows it running elsewhere', async () => {
  const [a, b] = peers as [E2ePeer, E2ePeer, E2ePeer]
  assert.equal(await a.json('purge', `${ns}/worker`), { instances: [`${ns}/worker`] })
  const r = await a.monk('run', `${ns}/worker`)
  assert.is(r.code, 0, r.err)
  const owner = (await a.json<PsRow[]>('ps')).find(x => x.instance === `${ns}/worker`)!
  const victim = peers.find(p => p.name === owner.peerName)!
  killed.add(victim)
  const survivor = victim === a ? b : a
  process.kill(victim.pid()!, 'SIGKILL')
  const t0 = Date.now()
  const moved = await until('the worker runs on another peer', async () => {
    const x = (await survivor.json<PsRow[]>('ps')).find(y => y.instance === `${ns}/worker`)
    return x?.status === 'running' && x.peerName !== victim.name ? x : undefined
  }, 30_000, 100)
  console.log(`  worker moved from ${victim.name} to ${moved.peerName} in ${Date.now() - t0} ms (seen through monk ps)`)
  const alive = await until('the survivor sees the victim dead', async () => {
    const x = await survivor.json<PeerRow[]>('cluster', 'peers')
    return x.find(y => y.name === victim.name)?.alive === false || !x.some(y => y.name === victim.name) ? x : undefined
  })
  assert.ok(alive.filter(x => x.alive).length === 2)
})

C('a peer with a token of another cluster (right addresses, wrong key) is rejected', async () => {
  // A live member of the cluster (the failover test above killed one of them).
  const a = peers.find(p => !killed.has(p))!
  const real = parseToken(token)
  const forged = encodeToken({ id: randomBytes(8).toString('hex'), key: new Uint8Array(randomBytes(32)), bootstrap: real.bootstrap })
  const intruder = peerIn('intruder', base)
  peers.push(intruder)
  const r = await intruder.monk('cluster', 'join', forged, ...loopback, '--name', 'intruder', '--timeout', '6')
  assert.is(r.code, 1)
  assert.match(r.err, /^monk: monkd runs but reached no peer of the cluster within 6 s/m)
  assert.equal((await intruder.json<PeerRow[]>('cluster', 'peers')).map(p => p.name), ['intruder'])
  const seen = await a.json<PeerRow[]>('cluster', 'peers')
  assert.not.ok(seen.some(p => p.name === 'intruder'), JSON.stringify(seen))
  // A running peer of its own cluster cannot switch in place; a garbage token is a usage error.
  const other = await intruder.json<{ error: { code: string } }>('cluster', 'join', token)
  assert.is(other.error.code, 'other-cluster')
  assert.is((await intruder.monk('cluster', 'join', 'not-a-token!')).code, 2)
})

C('cluster exit: the peer leaves cleanly, its work moves, it comes back as a new one-peer cluster', async () => {
  const live: E2ePeer[] = []
  for (const p of peers) if (p.name !== 'intruder' && !killed.has(p) && (await p.monk('daemon', 'status')).code === 0) live.push(p)
  assert.ok(live.length >= 2, 'two live members')
  const [leaver, stayer] = live as [E2ePeer, E2ePeer]
  const before = await stayer.json<Array<{ id: string, name: string, alive: boolean }>>('cluster', 'peers')
  const leaverId = before.find(p => p.name === leaver.name)?.id
  assert.ok(leaverId)
  const r = await leaver.json<{ left: string, clusterId: string, token: string, kept: string }>('cluster', 'exit')
  assert.ok(r.left && r.clusterId && r.left !== r.clusterId, JSON.stringify(r))
  assert.is(parseToken(r.token).id, r.left, 'the printed token is the old cluster\'s')
  assert.equal((await leaver.json<PeerRow[]>('cluster', 'peers')).map(p => p.name), [leaver.name])
  await until('the cluster sees it gone', async () => {
    const rows = await stayer.json<Array<{ id: string, alive: boolean }>>('cluster', 'peers')
    return !rows.some(p => p.id === leaverId && p.alive)
  }, 20_000)
  // Its instances moved (or, if pinned to it with --peer, wait unplaced): none is on the leaver.
  await until('nothing is placed on the leaver any more', async () => {
    const ps = await stayer.json<Array<{ peer: string, status: string }>>('ps')
    return ps.length > 0 && ps.every(x => x.peer !== leaverId) && ps.some(x => x.status === 'running')
  }, 30_000)
})

C.run()
