// The fault-injection endpoint of monkd (cli/fault.ts): refused without --enable-fault-injection,
// and with it a real partition between two monkd processes, a clock offset and replica reads.
// test-deadline-s: 240
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ApiRequestError } from '../../cli/api/errors.js'
import type { PeerMessage } from '../../cli/api/messages.js'
import { secretHash, type FaultRead } from '../../cli/fault.js'
import { root, tsNode } from '../helpers/cli.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'

const Fault = suite('monkd fault injection')
const base = mkdtempSync(join(tmpdir(), 'monk-fault-'))
const started: MonkdProcess[] = []
const fault = <R = unknown>(p: MonkdProcess, msg: { type: string } & Record<string, unknown>): Promise<R> => p.client.request<R>('fault', msg)

Fault.after(() => {
  for (const p of started) p.child.kill('SIGKILL')
  rmSync(base, { recursive: true, force: true })
})

Fault('without --enable-fault-injection every fault message is refused with 403', async () => {
  const p = await spawnMonkd('plain', join(base, 'plain'), ['--runtime', 'process'])
  started.push(p)
  for (const msg of [{ type: 'fault.status' }, { type: 'fault.partition', peers: ['x'] }, { type: 'fault.clock', offsetMs: 1000 }, { type: 'fault.read', prefix: 'secret/' }, { type: 'fault.heal' }]) {
    const err = await fault(p, msg).then(() => undefined, (e: unknown) => e)
    assert.instance(err, ApiRequestError, msg.type)
    assert.is((err as ApiRequestError).status, 403)
    assert.is((err as ApiRequestError).code, 'fault-injection-disabled')
  }
  // the ordinary API is unaffected
  const st = await p.client.request<{ peerId: string }>('peer', { type: 'peer.status' })
  assert.match(st.peerId, /^12D3/)
  p.child.kill('SIGKILL')
})

Fault('test mesh timers need the flag', () => {
  const r = spawnSync(process.execPath, [...tsNode, join(root, 'cli/monkd.ts'), '--home', join(base, 'x'), '--fault-mesh-config', '{"tombstoneMinAgeMs":1000}'], { encoding: 'utf8' })
  assert.is(r.status, 2)
  assert.match(r.stderr, /--fault-mesh-config needs --enable-fault-injection/)
})

Fault('with the flag: a partition cuts two real peers apart and heals; clock offset; reads hash secrets', async () => {
  const a = await spawnMonkd('a', join(base, 'a'), ['--runtime', 'process', '--enable-fault-injection'])
  started.push(a)
  const token = (await a.client.request<{ token: string }>('peer', { type: 'cluster.token' })).token
  const b = await spawnMonkd('b', join(base, 'b'), ['--runtime', 'process', '--enable-fault-injection', '--join', token])
  started.push(b)
  const idOf = async (p: MonkdProcess): Promise<string> => (await p.client.request<{ peerId: string }>('peer', { type: 'peer.status' })).peerId
  const [ida, idb] = [await idOf(a), await idOf(b)]
  await until('both alive', async () => (await fault<FaultRead>(a, { type: 'fault.read', prefix: 'peer/' })).alive.length === 2)
  await fault(a, { type: 'fault.partition', peers: [idb] })
  await fault(b, { type: 'fault.partition', peers: [ida] })
  assert.equal((await fault<{ blocked: string[] }>(a, { type: 'fault.status' })).blocked, [idb])
  await until('a sees b dead', async () => (await fault<FaultRead>(a, { type: 'fault.read', prefix: 'peer/' })).alive.length === 1, 20_000)
  // a write on one side does not cross the partition
  const add: PeerMessage = { type: 'secrets.add', scope: 'global', name: 'cut', value: 'only-a' }
  await a.client.request('peer', add)
  await new Promise(resolve => setTimeout(resolve, 1500))
  assert.is((await fault<FaultRead>(b, { type: 'fault.read', prefix: 'secret/' })).values['secret/global/cut'], undefined)
  await fault(a, { type: 'fault.heal' })
  await fault(b, { type: 'fault.heal' })
  await until('healed: b has the write with the plaintext hash', async () => (await fault<FaultRead>(b, { type: 'fault.read', prefix: 'secret/' })).values['secret/global/cut'] === secretHash('only-a'), 30_000)
  await until('digests equal', async () => (await fault<FaultRead>(a, { type: 'fault.read', prefix: 'x' })).digest === (await fault<FaultRead>(b, { type: 'fault.read', prefix: 'x' })).digest, 30_000)
  assert.equal((await fault<{ offsetMs: number }>(a, { type: 'fault.clock', offsetMs: -5000 })).offsetMs, -5000)
  assert.is((await fault<{ offsetMs: number }>(a, { type: 'fault.status' })).offsetMs, -5000)
  const bad = await fault(a, { type: 'fault.clock', offsetMs: 'soon' }).then(() => undefined, (e: unknown) => e)
  assert.is((bad as ApiRequestError).status, 400)
  assert.is((bad as ApiRequestError).field, 'offsetMs')
})

Fault.run()
