// An in-process 3-peer cluster (real libp2p on 127.0.0.1, process runtime, real control sockets):
// depends + readiness order, actions answered from any peer, variable order, secrets gating.
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { decode as decodeCbor, encode as encodeCbor } from 'cborg'
import { ACTOR_PROTOCOL } from '../../actors/cluster/remote.js'
import { startTestPeer, until, type TestPeer } from '../helpers/monkd.js'
import type { Describe, PeerMessage, PsRow, RunnableMessage } from '../../cli/api/messages.js'
import { tempDir } from '../helpers/tmp.js'

/** A typed request: the message is checked against the protocol at compile time. */
const send = <R = unknown>(p: TestPeer, path: string, msg: PeerMessage | RunnableMessage): Promise<R> => p.client.request<R>(path, msg)

const Cluster = suite('3-peer cluster (in process)')
const dir = tempDir('monk-cluster')
const order = join(dir, 'order.log')
let peers: TestPeer[] = []

const kit = `namespace: t
common:
  containers:
    main:
      image: monk-test/busybox:1
  variables:
    inherited: from-common
db:
  defines: runnable
  inherits: ./common
  containers:
    main:
      bash: echo db >> ${order}; exec sleep 3600
  checks:
    readiness:
      code: exec("main", "sh", "-c", "sleep 1; echo ok") "ok" contains?
      period: 1
cache:
  defines: runnable
  inherits: ./common
  depends:
    wait-for:
      runnables: [t/db]
      timeout: 60
  containers:
    main:
      bash: echo cache >> ${order}; exec sleep 3600
  checks:
    readiness:
      code: exec("main", "sh", "-c", "sleep 1; echo ok") "ok" contains?
      period: 1
  actions:
    peek:
      code: secret("token")
web:
  defines: runnable
  inherits: ./common
  permitted-secrets:
    token: true
  depends:
    wait-for:
      runnables: [t/cache, t/db]
      timeout: 60
  variables:
    own: mine
    shared: web-wins
    overridden: from-template
  containers:
    main:
      bash: echo web >> ${order}; echo "web says $(echo hi)"; exec sleep 3600
      hooks:
        container-started: mark
  actions:
    mark:
      code: exec("main", "sh", "-c", "echo hooked > ${join(dir, 'hook.txt')}")
    vars:
      code: '\`\${own}|\${shared}|\${group-only}|\${overridden}|\${inherited}|\${nowhere}\`'
    greet:
      arguments:
        who: {type: string}
        times: {type: int, default: 2}
      code: '\`hello \${args["who"]} x\${args["times"]}\`'
    peek:
      code: secret("token")
needy:
  defines: runnable
  inherits: ./common
  variables:
    must: {type: string, required: true}
  containers:
    main:
      bash: exec sleep 3600
stack:
  defines: process-group
  runnable-list: [t/web, t/cache, t/db]
  variables:
    shared: group-loses
    group-only: from-group
  actions:
    hello:
      code: '\`group says \${group-only}\`'
`

Cluster.before(async () => {
  try { await setup() } catch (err) { console.error('setup failed:', err); throw err }
})

async function setup (): Promise<void> {
  const first = await startTestPeer('a')
  const token = (await send<{ token: string }>(first, 'peer', { type: 'cluster.token' })).token
  peers = [first, await startTestPeer('b', { join: token }), await startTestPeer('c', { join: token })]
  await until('3 peers alive everywhere', () => peers.every(p => p.mesh.alive().length === 3), 20_000)
}

Cluster.after(async () => { for (const p of peers) await p.stop() })

Cluster('a group starts in depends order, members may land on different peers', async () => {
  const a = peers[0] as TestPeer
  const load = await send<{ errors: unknown[], loaded: string[] }>(a, 'peer', { type: 'templates.load', files: { '/kit/t.yaml': kit }, paths: ['/kit/t.yaml'] })
  assert.equal(load.errors, [])
  assert.ok(load.loaded.includes('t/stack'))
  const run = await send<{ instances: string[] }>(a, 'peer', { type: 'workload.run', path: 't/stack', set: { 't/web/overridden': 'from-set' } })
  assert.equal(run.instances.sort(), ['t/cache', 't/db', 't/web'])
  const rows = await until('all three running', async () => {
    const ps = await send<PsRow[]>((peers[2] as TestPeer), 'peer', { type: 'workload.ps' })
    return ps.length === 3 && ps.every(r => r.status === 'running') ? ps : undefined
  }, 60_000, 200)
  assert.ok(existsSync(order))
  assert.equal(readFileSync(order, 'utf8').trim().split('\n'), ['db', 'cache', 'web'])
  for (const r of rows) assert.ok(peers.some(p => p.peer.id === r.peer), `${r.instance} runs on a known peer`)
})

Cluster('an action returns its output through the API from any peer', async () => {
  for (const p of peers) {
    const r = await send<{ output: unknown }>(p, 'runnable/t/web', { type: 'runnable.action', action: 'greet', args: { who: p.name } })
    assert.is(r.output, `hello ${p.name} x2`)
  }
  const err = await send((peers[1] as TestPeer), 'runnable/t/web', { type: 'runnable.action', action: 'greet', args: {} }).then(() => null, e => e as { code: string, message: string })
  assert.is(err?.code, 'missing-argument')
  assert.match(err?.message ?? '', /needs argument "who"/)
})

Cluster('a group path works where an instance does: do, actions, describe and logs answer through the group actor', async () => {
  const c = peers[2] as TestPeer
  assert.equal(await send(c, 'runnable/t/stack', { type: 'runnable.action', action: 'hello' }), { output: 'group says from-group' })
  const acts = await send<Array<{ name: string }>>(c, 'runnable/t/stack', { type: 'runnable.actions' })
  assert.ok(acts.some(x => x.name === 'hello'), JSON.stringify(acts))
  const d = await send<{ path: string, members: Describe[], status: { state: string } }>(c, 'runnable/t/stack', { type: 'runnable.describe' })
  assert.is(d.path, 't/stack')
  assert.equal(d.members.map(m => m.instance).sort(), ['t/cache', 't/db', 't/web'])
  const lines: Array<{ member: string, text: string }> = []
  for await (const item of c.client.stream<{ member: string, text: string }>('runnable/t/stack', { type: 'runnable.logs', tail: 5 })) lines.push(item)
  assert.ok(lines.some(l => l.member === 't/web' && l.text === 'web says hi'), JSON.stringify(lines))
})

Cluster('variables resolve in the documented order (set, own, inherited, group, nil)', async () => {
  const r = await send<{ output: unknown }>((peers[2] as TestPeer), 'runnable/t/web', { type: 'runnable.action', action: 'vars' })
  assert.is(r.output, 'mine|web-wins|from-group|from-set|from-common|')
})

Cluster('secrets are readable only where permitted and never listed with their value', async () => {
  const b = peers[1] as TestPeer
  await send(b, 'peer', { type: 'secrets.add', scope: 'global', name: 'token', value: 's3cret-value' })
  const ok = await until('the secret replicated to the owner of t/web', async () => {
    const r = await send<{ output: unknown }>((peers[0] as TestPeer), 'runnable/t/web', { type: 'runnable.action', action: 'peek' }).catch(() => undefined)
    return r?.output === 's3cret-value' ? r : undefined
  }, 10_000)
  assert.is(ok.output, 's3cret-value')
  const denied = await send(b, 'runnable/t/cache', { type: 'runnable.action', action: 'peek' }).then(() => null, e => e as { message: string })
  assert.ok(denied)
  assert.match(denied.message, /may not read secret "token".*permitted-secrets/)
  const list = await send<unknown[]>(b, 'peer', { type: 'secrets.list' })
  assert.equal(list, [{ scope: 'global', name: 'token' }])
  assert.not.match(JSON.stringify(list), /s3cret/)
  // Sealed in the replica: the raw replicated value does not contain the secret.
  const raw = b.mesh.get('secret/global/token')
  assert.ok(raw)
  assert.not.ok(Buffer.from(JSON.stringify(raw, (_k, v: unknown) => v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)).includes('s3cret-value'))
})

Cluster('a required variable without a value fails the run before anything starts', async () => {
  const a = peers[0] as TestPeer
  const err = await send(a, 'peer', { type: 'workload.run', path: 't/needy' }).then(() => null, e => e as { code: string, message: string })
  assert.is(err?.code, 'required-variable')
  assert.match(err?.message ?? '', /required variable must has no value/)
  const ps = await send<PsRow[]>(a, 'peer', { type: 'workload.ps', all: true })
  assert.not.ok(ps.some(r => r.instance === 't/needy'))
})

Cluster('logs, exec and describe answer from a peer that does not run the instance; hooks ran', async () => {
  const ps = await send<PsRow[]>(peers[0] as TestPeer, 'peer', { type: 'workload.ps' })
  const web = ps.find(r => r.instance === 't/web')
  assert.ok(web)
  const other = peers.find(p => p.peer.id !== web.peer) as TestPeer
  const lines: Array<{ text: string, container: string }> = []
  for await (const item of other.client.stream<{ text: string, container: string }>('runnable/t/web', { type: 'runnable.logs', tail: 10 } satisfies RunnableMessage as RunnableMessage)) lines.push(item)
  assert.ok(lines.some(l => l.text === 'web says hi' && l.container === 'main'), JSON.stringify(lines))
  const ex = await send<{ exitCode: number, stdout: string }>(other, 'runnable/t/web', { type: 'runnable.exec', cmd: ['sh', '-c', 'echo from-$((40+2)); exit 3'] })
  assert.equal([ex.exitCode, ex.stdout], [3, 'from-42\n'])
  // describe answers from the asking peer's replica: the owner serves no request for it
  const owner = peers.find(p => p.peer.id === web.peer) as TestPeer
  const served = owner.peer.remoteStats.served
  const d = await send<Describe>(other, 'runnable/t/web', { type: 'runnable.describe' })
  assert.is(d.peer, web.peer)
  assert.is(d.status, 'running')
  assert.ok(d.containers.some(c => c.name === 'main' && c.status === 'running'), JSON.stringify(d))
  assert.is(owner.peer.remoteStats.served, served, 'describe took no hop to the owner')
  await until('the container-started hook ran its action', () => existsSync(join(dir, 'hook.txt')) && readFileSync(join(dir, 'hook.txt'), 'utf8') === 'hooked\n', 10_000)
})

Cluster('a malformed /monk/actor/1 request is answered with a typed error and counted; the peer keeps serving', async () => {
  const [a, b] = peers as [TestPeer, TestPeer]
  const before = b.peer.remoteStats.malformed
  const garbage = [new Uint8Array([0xff, 0x00, 0x13]), encodeCbor({ v: 1, instance: 't/web', msg: { type: 'runnable.exec', cmd: 'not-a-list' } }), encodeCbor({ v: 2, instance: 't/web', msg: { type: 'runnable.action', action: 'x' } }), encodeCbor('just a string')]
  for (const bytes of garbage) {
    const reply = decodeCbor(await a.mesh.request(b.peer.id, ACTOR_PROTOCOL, bytes, { timeoutMs: 10_000 })) as { ok: boolean, error?: { code: string, message: string } }
    assert.is(reply.ok, false)
    assert.is(reply.error?.code, 'bad-request')
    assert.match(reply.error?.message ?? '', /malformed actor request/)
  }
  assert.is(b.peer.remoteStats.malformed, before + garbage.length)
  const st = await send<{ peerId: string }>(b, 'peer', { type: 'peer.status' })
  assert.is(st.peerId, b.peer.id)
})

Cluster('a peer that joins moves nothing that runs', async () => {
  const a = peers[0] as TestPeer
  const before = new Map((await send<PsRow[]>(a, 'peer', { type: 'workload.ps' })).map(r => [r.instance, r.peer]))
  assert.is(before.size, 3)
  const token = (await send<{ token: string }>(a, 'peer', { type: 'cluster.token' })).token
  const d = await startTestPeer('d', { join: token })
  peers.push(d)
  await until('d sees everyone alive', () => d.mesh.alive().length === 4, 20_000)
  // Longer than the joiner's grace for unheard peers plus a few placement rounds.
  await new Promise(resolve => setTimeout(resolve, 5000))
  const after = await send<PsRow[]>(d, 'peer', { type: 'workload.ps' })
  assert.equal(new Map(after.map(r => [r.instance, r.peer])), before)
  assert.ok(after.every(r => r.status === 'running'))
  assert.equal(await d.runtime.list({}), [], 'the joiner runs nothing')
})

Cluster('stop keeps the workload listed as stopped; purge removes it everywhere', async () => {
  const c = peers[2] as TestPeer
  await send(c, 'peer', { type: 'workload.stop', path: 't/stack' })
  await until('stopped', async () => {
    const ps = await send<PsRow[]>(c, 'peer', { type: 'workload.ps', all: true })
    return ps.length === 3 && ps.every(r => r.status === 'stopped')
  }, 20_000)
  // a stop keeps the containers, stopped, so their logs stay readable until purge
  await until('no container running', async () => { for (const p of peers) if ((await p.runtime.list({ 'monk.instance': 't/web' })).some(x => x.running)) return false; return true })
  await send(c, 'peer', { type: 'workload.purge', path: 't/stack' })
  await until('purged', async () => (await send<PsRow[]>(c, 'peer', { type: 'workload.ps', all: true })).length === 0)
  await until('no container left', async () => { for (const p of peers) if ((await p.runtime.list({ 'monk.instance': 't/web' })).length) return false; return true })
})

Cluster.run()
