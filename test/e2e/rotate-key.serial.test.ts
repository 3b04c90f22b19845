// Key rotation with real monkd processes (process runtime) and the built `monk`: alpha founds,
// beta and gamma join as workers, alpha and beta run instances. `peer-remove gamma` revokes it and
// says to rotate; `cluster rotate-key` gives alpha and beta a new key. gamma's monkd (still
// running, and after a restart) cannot connect nor read new state; alpha and beta see each other,
// their instances keep running (same pids), a new write spreads, and a joiner with a fresh token
// (which carries the new key) joins. An old token admits nobody.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerRow } from '../../cli/api/messages.js'
import { parseToken } from '../../mesh/cluster.js'
import { cleanup, e2eBase, ensureBuilt, monkBin, peerIn, startPeer, until, type E2ePeer, type Ran } from '../helpers/cli-e2e.js'

const base = e2eBase('rekey')
const ns = `e2ek${process.pid}`
const kitDir = join(base, 'kit')
mkdirSync(kitDir)
const pidFile = (name: string): string => join(base, `pid-${name}`)
writeFileSync(join(kitDir, 'kit.yaml'), `namespace: ${ns}
${['on-alpha', 'on-beta'].map(n => `${n}:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: echo $$ > ${pidFile(n)}; exec sleep 3600
`).join('')}`)

const peers: E2ePeer[] = []
let alpha: E2ePeer
let beta: E2ePeer
let gamma: E2ePeer
let oldWorkerToken = ''
const pids: Record<string, number> = {}

const K = suite('cluster key rotation with real monkd peers')
K.before(() => { ensureBuilt() })
K.after(async () => { await cleanup(peers, base) })

function ok (r: Ran, what: string): Ran {
  assert.is(r.code, 0, `${what}: ${r.err}${r.out}`)
  return r
}
const rowsOf = async (p: E2ePeer): Promise<PeerRow[]> => await p.json<PeerRow[]>('cluster', 'peers')
const aliveIn = (rows: PeerRow[], name: string): boolean => rows.some(r => r.name === name && r.alive)
const tagged = (rows: PeerRow[], name: string, tag: string): boolean => rows.some(r => r.name === name && r.tags.includes(tag))
const running = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }

/** `monk cluster join` with the token in MONK_JOIN_TOKEN (never in argv). */
async function joinWith (p: E2ePeer, token: string): Promise<void> {
  ok(await monkBin(['--home', p.home, 'cluster', 'join', '--runtime', 'process', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', p.name, '--timeout', '60'], { env: { MONK_JOIN_TOKEN: token } }), `${p.name} joins`)
}

K('three peers: alpha founds, beta and gamma join as workers; alpha and beta run instances', async () => {
  alpha = peerIn('alpha', base)
  beta = peerIn('beta', base)
  gamma = peerIn('gamma', base)
  peers.push(alpha, beta, gamma)
  await startPeer(alpha)
  ok(await alpha.monk('cluster', 'new'), 'cluster new')
  oldWorkerToken = ok(await alpha.monk('cluster', 'token', '--role', 'worker'), 'token').out.trim()
  for (const p of [beta, gamma]) await joinWith(p, oldWorkerToken)
  await until('every peer knows the others alive and admitted', async () => {
    for (const p of [alpha, beta, gamma]) {
      const rows = await rowsOf(p)
      if (!['alpha', 'beta', 'gamma'].every(n => aliveIn(rows, n) && rows.find(r => r.name === n)?.role !== 'not admitted')) return false
    }
    return true
  }, 60_000)
  ok(await alpha.monk('load', kitDir), 'load')
  ok(await alpha.monk('run', '--peer', 'alpha', `${ns}/on-alpha`), 'run on alpha')
  ok(await alpha.monk('run', '--peer', 'beta', `${ns}/on-beta`), 'run on beta')
  for (const n of ['on-alpha', 'on-beta']) {
    pids[n] = await until(`${n} runs`, () => existsSync(pidFile(n)) ? Number(readFileSync(pidFile(n), 'utf8').trim()) : undefined)
    assert.ok(running(pids[n]!))
  }
})

K('peer-remove revokes gamma and says to rotate; rotate-key gives alpha and beta a new key and cuts gamma off', async () => {
  const removed = ok(await alpha.monk('cluster', 'peer-remove', 'gamma'), 'peer-remove')
  assert.match(removed.err, /Revoked the admission of .*monk cluster rotate-key/)
  await until('beta holds gamma removed', async () => (await rowsOf(beta)).find(r => r.name === 'gamma')?.role === 'not admitted')
  // a worker may not rotate
  const refused = await beta.monk('cluster', 'rotate-key')
  assert.is.not(refused.code, 0)
  assert.match(refused.err, /is a worker: .* needs the operator role/)
  const rotated = ok(await alpha.monk('cluster', 'rotate-key'), 'rotate-key')
  assert.match(rotated.err, /Rotated the cluster key \(epoch 1\): sealed for 2 admitted peers/)
  // after the switch: alpha and beta on the new key, gamma dropped by both
  await until('alpha and beta no longer see gamma alive, and still see each other', async () => {
    const a = await rowsOf(alpha)
    const b = await rowsOf(beta)
    return !aliveIn(a, 'gamma') && !aliveIn(b, 'gamma') && aliveIn(a, 'beta') && aliveIn(b, 'alpha')
  }, 45_000)
  const newToken = ok(await alpha.monk('cluster', 'token', '--role', 'worker', '--uses', '1'), 'new token').out.trim()
  assert.is.not(Buffer.from(parseToken(newToken).key).toString('hex'), Buffer.from(parseToken(oldWorkerToken).key).toString('hex'), 'new tokens carry the new key')
  // a new write spreads to beta, not to gamma
  ok(await alpha.monk('cluster', 'peer-tags', 'after-rotation'), 'peer-tags')
  await until('alpha\'s new tag reaches beta', async () => tagged(await rowsOf(beta), 'alpha', 'after-rotation'))
  const end = Date.now() + 3000
  while (Date.now() < end) {
    const g = await rowsOf(gamma)
    assert.not.ok(tagged(g, 'alpha', 'after-rotation'), 'gamma read state written after the rotation')
    assert.not.ok(aliveIn(await rowsOf(alpha), 'gamma'), 'gamma reconnected to alpha')
    await new Promise(resolve => setTimeout(resolve, 300))
  }
  // the work carried on: same processes
  for (const n of ['on-alpha', 'on-beta']) {
    assert.ok(running(pids[n]!), `${n} was stopped`)
    assert.is(Number(readFileSync(pidFile(n), 'utf8').trim()), pids[n], `${n} was restarted`)
  }
  // gamma restarted from its home still holds the old key; meanwhile a joiner with the fresh token
  // joins, and one with a token from before the rotation cannot connect
  ok(await gamma.monk('daemon', 'stop'), 'gamma stop')
  const delta = peerIn('delta', base)
  const stale = peerIn('stale', base)
  peers.push(delta, stale)
  await Promise.all([startPeer(gamma), startPeer(stale, ['--join', oldWorkerToken]), joinWith(delta, newToken)])
  await until('delta joins with the fresh token', async () => {
    const rows = await rowsOf(alpha)
    return aliveIn(rows, 'delta') && rows.find(r => r.name === 'delta')?.role === 'worker' && tagged(await rowsOf(delta), 'alpha', 'after-rotation')
  }, 45_000)
  // gamma and stale started before delta joined: they had as long to connect
  for (const p of [gamma, stale]) {
    assert.not.ok(tagged(await rowsOf(p), 'alpha', 'after-rotation'), `${p.name} read state written after the rotation`)
    assert.not.ok(aliveIn(await rowsOf(alpha), p.name), `${p.name} connected to alpha`)
    assert.not.ok(aliveIn(await rowsOf(delta), p.name), `${p.name} connected to delta`)
  }
})

K.run()
