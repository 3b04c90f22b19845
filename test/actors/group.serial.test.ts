// Group actors on an in-process 3-peer cluster (real libp2p on 127.0.0.1, process runtime, real
// control sockets): start order from depends, the group's own aggregated status (pending with what
// it waits for, running, failed naming the member), a group action in the group's scope, and
// describe and logs of the whole group, asked from any peer.
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startTestPeer, until, type TestPeer } from '../helpers/monkd.js'
import type { GroupDescribe, GroupLogItem, GroupRequest, GroupStatus } from '../../actors/messages/group.js'
import { tempDir } from '../helpers/tmp.js'

const Groups = suite('group actors (3 peers, in process)')
const dir = tempDir('monk-groups')
const order = join(dir, 'order.log')
const gate = join(dir, 'db-ready')
let peers: TestPeer[] = []

const kit = `namespace: g
db:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox:1
      bash: echo db >> ${order}; echo "db up"; exec sleep 3600
  checks:
    readiness:
      code: exec("main", "sh", "-c", "test -f ${gate} && echo ok") "ok" contains?
      period: 1
      attempts: 600
api:
  defines: runnable
  depends:
    wait-for:
      runnables: [g/db]
      timeout: 120
  containers:
    main:
      image: monk-test/busybox:1
      bash: echo api >> ${order}; echo "api up"; exec sleep 3600
web:
  defines: runnable
  depends:
    wait-for:
      runnables: [g/api]
      timeout: 120
  variables:
    greeting: from-web
  containers:
    main:
      image: monk-test/busybox:1
      bash: echo web >> ${order}; echo "web up"; exec sleep 3600
stack:
  defines: process-group
  runnable-list: [g/web, g/api, g/db]
  variables:
    greeting: from-group
    size: 3
  actions:
    hello:
      arguments:
        who: {type: string}
        loud: {type: bool, default: no}
      code: '\`\${greeting} to \${args["who"]} x\${size} loud=\${args["loud"]}\`'
    member:
      code: act("g/web/ping")
broken:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox:1
      bash: exit 3
      restart: no
pair:
  defines: group
  members: [g/db, g/broken]
`

/** A typed request to a group path. */
const ask = <R>(p: TestPeer, path: string, msg: GroupRequest): Promise<R> => p.client.request<R>(`group/${path}`, msg)
const status = (p: TestPeer, path: string): Promise<GroupStatus> => ask<GroupStatus>(p, path, { type: 'group.status' })

Groups.before(async () => {
  try {
    const first = await startTestPeer('a')
    const token = (await first.client.request<{ token: string }>('peer', { type: 'cluster.token' })).token
    peers = [first, await startTestPeer('b', { join: token }), await startTestPeer('c', { join: token })]
    await until('3 peers alive everywhere', () => peers.every(p => p.mesh.alive().length === 3), 20_000)
    const load = await first.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files: { '/kit/g.yaml': kit }, paths: ['/kit/g.yaml'] })
    assert.equal(load.errors, [])
  } catch (err) { console.error('setup failed:', err); throw err }
})
Groups.after(async () => { for (const p of peers) await p.stop() })

Groups('the group is pending on the member it waits for, then running once depends are met, in depends order', async () => {
  const [a, b, c] = peers as [TestPeer, TestPeer, TestPeer]
  await a.client.request('peer', { type: 'workload.run', path: 'g/stack' })
  const pending = await until('the group pending on g/db readiness', async () => {
    const s = await status(b, 'g/stack').catch(() => undefined)
    return s?.state === 'pending' && s.pending?.member === 'g/db' && s.pending.waiting === 'readiness' ? s : undefined
  }, 60_000, 200)
  assert.equal(pending.order, ['g/db', 'g/api', 'g/web'], 'start order from depends, not list order')
  assert.match(pending.summary, /^pending: g\/db waits for readiness \(0 of 3 running\)$/)
  const api = pending.members.find(m => m.instance === 'g/api')
  assert.is(api?.waiting, 'depends g/db', 'g/api says it waits for g/db')
  assert.not.ok(existsSync(order) && readFileSync(order, 'utf8').includes('api'), 'g/api has not started')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(gate, 'ok')
  const up = await until('the group running', async () => { const s = await status(c, 'g/stack').catch(() => undefined); return s?.state === 'running' ? s : undefined }, 60_000, 200)
  assert.is(up.summary, 'running (3 of 3)')
  assert.equal(readFileSync(order, 'utf8').trim().split('\n'), ['db', 'api', 'web'])
})

Groups('a group action runs in the group scope from any peer, its arguments coerced like variables', async () => {
  for (const p of peers) {
    const r = await ask<{ output: unknown }>(p, 'g/stack', { type: 'group.action', action: 'hello', args: { who: p.name, loud: 'yes' } })
    assert.is(r.output, `from-group to ${p.name} x3 loud=true`)
  }
  const err = await ask(peers[1] as TestPeer, 'g/stack', { type: 'group.action', action: 'hello', args: {} }).then(() => null, (e: { code: string, message: string }) => e)
  assert.is(err?.code, 'missing-argument')
  const unknown = await ask(peers[2] as TestPeer, 'g/stack', { type: 'group.action', action: 'nope' }).then(() => null, (e: { code: string, message: string }) => e)
  assert.is(unknown?.code, 'unknown-action')
  assert.match(unknown?.message ?? '', /actions: hello, member/)
})

Groups('describe of a group: its status, its members in start order with their peers, its actions', async () => {
  const d = await ask<GroupDescribe>(peers[2] as TestPeer, 'g/stack', { type: 'group.describe' })
  assert.is(d.kind, 'process-group')
  assert.is(d.status.state, 'running')
  assert.equal(d.members.map(m => m.instance), ['g/db', 'g/api', 'g/web'])
  for (const m of d.members) {
    assert.is(m.status, 'running')
    assert.ok(peers.some(p => p.mesh.peerId === m.peer), `${m.instance} runs on a known peer`)
  }
  assert.equal(d.actions.map(x => x.name), ['hello', 'member'])
})

Groups('logs of a group: every member\'s lines, each tagged with its member, from a peer that runs none of them', async () => {
  const lines: GroupLogItem[] = []
  for await (const l of (peers[0] as TestPeer).client.stream<GroupLogItem>('group/g/stack', { type: 'group.logs', tail: 10 } satisfies GroupRequest)) lines.push(l)
  for (const m of ['db', 'api', 'web']) assert.ok(lines.some(l => l.member === `g/${m}` && l.text === `${m} up`), `a line of g/${m}: ${JSON.stringify(lines)}`)
})

Groups('a failed member makes the group failed, naming it', async () => {
  await (peers[0] as TestPeer).client.request('peer', { type: 'workload.run', path: 'g/pair' })
  const s = await until('g/pair failed', async () => { const x = await status(peers[1] as TestPeer, 'g/pair').catch(() => undefined); return x?.state === 'failed' ? x : undefined }, 60_000, 200)
  assert.is(s.failed?.member, 'g/broken')
  assert.match(s.summary, /^failed: g\/broken: /)
})

Groups('a path that is not a group is refused with a clear error', async () => {
  const err = await status(peers[0] as TestPeer, 'g/web').then(() => null, (e: { code: string, message: string }) => e)
  assert.is(err?.code, 'not-group')
  assert.match(err?.message ?? '', /g\/web is a runnable, not a group/)
})

Groups.run()
