// Integration: real libp2p peers on 127.0.0.1 converge on 1,000 writes, agree on the winner of
// concurrent writes, replicate deletes, serve request/response and see a clean leave at once.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { compareHlc, type Hlc } from '../../mesh/hlc.js'
import { RequestError } from '../../mesh/errors.js'
import { allAlive, converged, startCluster, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const Converge = suite('mesh convergence (3 peers)')
let c: TestCluster

Converge.before(async () => {
  c = await startCluster(3)
  await waitFor('3 peers alive everywhere', () => allAlive(c.peers))
  await waitFor('all synced', () => c.peers.every(p => p.synced))
})
Converge.after(async () => { await c.close() })

Converge('1,000 writes spread over 3 peers are visible everywhere, with identical replicas', async () => {
  const writes: Array<Promise<unknown>> = []
  for (let i = 0; i < 1000; i++) writes.push(c.peers[i % 3]!.put(`want/bulk/${i}`, { i, by: i % 3 }))
  await Promise.all(writes)
  await waitFor('every peer holds 1,000 keys', () => c.peers.every(p => p.scan('want/bulk/').length === 1000))
  await waitFor('identical digests', () => converged(c.peers))
  for (const p of c.peers) {
    assert.equal(p.get('want/bulk/999'), { i: 999, by: 0 })
    assert.equal(p.get('want/bulk/500'), { i: 500, by: 2 })
  }
})

Converge('concurrent writes of one key end with the same winner (the greatest HLC) everywhere', async () => {
  for (let round = 0; round < 20; round++) {
    const key = `want/contested/${round}`
    // each peer's own write with the HLC it was stamped with (a write that a newer one overtook on
    // its way to disk is not applied locally, but it was still a contender)
    const hlcs = await Promise.all(c.peers.map(async (p, i) => await p.put(key, `peer${i}`)))
    const stamps: Array<{ hlc: Hlc; value: string }> = hlcs.map((hlc, i) => {
      assert.ok(hlc, `peer${i}'s write has an HLC`)
      return { hlc, value: `peer${i}` }
    })
    const winner = stamps.sort((a, b) => compareHlc(b.hlc, a.hlc))[0]!
    await waitFor(`every peer holds the winner of ${key}`, () => c.peers.every(p => p.get(key) === winner.value))
  }
  await waitFor('identical digests', () => converged(c.peers))
})

Converge('deletes replicate as tombstones and a later write resurrects the key everywhere', async () => {
  const [a, b, d] = c.peers as [typeof c.peers[0], typeof c.peers[0], typeof c.peers[0]]
  await a.put('want/temp', 1)
  await waitFor('write visible', () => d.get('want/temp') === 1)
  await b.delete('want/temp')
  await waitFor('delete visible', () => c.peers.every(p => p.get('want/temp') === undefined && p.entry('want/temp') !== undefined))
  await d.put('want/temp', 2)
  await waitFor('rewrite visible', () => c.peers.every(p => p.get('want/temp') === 2))
})

Converge('onChange delivers remote changes under a prefix with their origin', async () => {
  const [a, b] = c.peers as [typeof c.peers[0], typeof c.peers[0]]
  const seen: string[] = []
  const off = b.onChange('tpl/', ch => { seen.push(`${ch.key}=${String(ch.value)}:${ch.origin}`) })
  await a.put('tpl/ns/app', 'v1')
  await a.put('want/unrelated', 'x')
  await waitFor('change seen', () => seen.length >= 1)
  await waitFor('unrelated write arrived', () => b.get('want/unrelated') === 'x')
  off()
  assert.equal(seen, ['tpl/ns/app=v1:remote'])
})

Converge('owner rules hold across peers: a peer cannot write another peer\'s record', async () => {
  const [a, b] = c.peers as [typeof c.peers[0], typeof c.peers[0]]
  try {
    await a.put(`status/ns/app/${b.peerId}`, { state: 'forged' })
    assert.unreachable('accepted')
  } catch (err) {
    assert.is((err as { code?: string }).code, 'MESH_NOT_OWNER')
  }
  await b.put(`status/ns/app/${b.peerId}`, { state: 'running' })
  await waitFor('owned status visible', () => (a.get(`status/ns/app/${b.peerId}`) as { state?: string } | undefined)?.state === 'running')
})

Converge('announce() merges fields into the peer record; addresses and start time stay the mesh\'s', async () => {
  const [a, b] = c.peers as [typeof c.peers[0], typeof c.peers[0]]
  const before = b.get(`peer/${a.peerId}`) as { addrs: string[]; startedAt: number; name: string }
  await a.announce({ tags: ['gpu'], region: 'eu', addrs: ['/ip4/10.9.9.9/tcp/1'] })
  await a.announce({ resources: { cpu: 4 } })
  await waitFor('record replicated', () => (b.get(`peer/${a.peerId}`) as { resources?: unknown } | undefined)?.resources !== undefined)
  const rec = b.get(`peer/${a.peerId}`) as Record<string, unknown>
  assert.equal(rec.tags, ['gpu'])
  assert.is(rec.region, 'eu')
  assert.equal(rec.resources, { cpu: 4 })
  assert.equal(rec.addrs, before.addrs)
  assert.is(rec.startedAt, before.startedAt)
  assert.is(rec.name, before.name)
})

Converge('request/response on an extra protocol, with remote errors and unknown protocols reported', async () => {
  const [a, b] = c.peers as [typeof c.peers[0], typeof c.peers[0]]
  await b.handle('/monk/test-echo/1', (req, ctx) => {
    const text = new TextDecoder().decode(req)
    if (text === 'fail') throw new Error('handler says no')
    return new TextEncoder().encode(`${text} from ${ctx.peer === a.peerId ? 'a' : '?'}`)
  })
  const res = await a.request(b.peerId, '/monk/test-echo/1', new TextEncoder().encode('hello'))
  assert.is(new TextDecoder().decode(res), 'hello from a')
  for (const [proto, body, msg] of [['/monk/test-echo/1', 'fail', /handler says no/], ['/monk/nobody/1', 'x', /failed/]] as const) {
    try {
      await a.request(b.peerId, proto, new TextEncoder().encode(body), { timeoutMs: 3000 })
      assert.unreachable('resolved')
    } catch (err) {
      assert.instance(err, RequestError)
      assert.match((err as Error).message, msg)
    }
  }
  try { await b.handle('/monk/sync/1', () => new Uint8Array()); assert.unreachable('took over a mesh protocol') } catch (err) { assert.instance(err, RequestError) }
})

Converge('a clean leave is seen at once as left, and the peer record says so', async () => {
  const extra = await c.add()
  await waitFor('4 peers alive', () => allAlive(c.peers))
  const downs: string[] = []
  c.peers[0]!.onPeerDown((p, reason) => downs.push(`${p}:${reason}`))
  const t0 = Date.now()
  await extra.leave()
  await waitFor('leave seen by every peer', () => c.peers.slice(0, 3).every(p => !p.alive().includes(extra.peerId)), 3000)
  assert.ok(Date.now() - t0 < 1500, `leave took ${Date.now() - t0} ms to be seen`)
  assert.equal(downs, [`${extra.peerId}:left`])
  await waitFor('record marked left', () => typeof (c.peers[0]!.get(`peer/${extra.peerId}`) as { leftAt?: number } | undefined)?.leftAt === 'number')
})

Converge.run()
