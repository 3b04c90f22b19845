// Integration: `/monk/tunnel/1` between real mesh peers on 127.0.0.1. A TCP service on peer A is
// reached through a local endpoint on peer B: bytes arrive intact both ways (8 MiB, hashed), a
// half-close is carried through, a refused opener is told why and counted, an endpoint re-routes
// to another peer on the next connect, and a target that is down fails the socket, not the endpoint.
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { TunnelRequest } from '../../mesh/index.js'
import { allAlive, startCluster, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const T = suite('mesh tunnels')
let c: TestCluster
const servers: Server[] = []

/** A TCP service on loopback: answers `<tag>:` + sha256 of everything it read, after the client half-closes. */
async function hashService (tag: string): Promise<number> {
  const srv = createServer({ allowHalfOpen: true }, s => {
    const h = createHash('sha256')
    s.on('data', b => { h.update(b) })
    s.on('end', () => { s.end(`${tag}:${h.digest('hex')}`) })
    s.on('error', () => {})
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  servers.push(srv)
  const a = srv.address()
  return typeof a === 'object' && a !== null ? a.port : 0
}

/** Sends `payload`, half-closes, returns what came back. */
async function exchange (port: number, payload: Buffer): Promise<string> {
  const s: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  const chunks: Buffer[] = []
  s.on('data', b => chunks.push(b))
  await once(s, 'connect')
  s.end(payload)
  await new Promise<void>((resolve, reject) => { s.on('end', resolve); s.on('error', reject); s.on('close', () => { resolve() }) })
  s.destroy()
  return Buffer.concat(chunks).toString()
}

T.before(async () => {
  c = await startCluster(3)
  await waitFor('3 peers alive', () => allAlive(c.peers), 30_000)
})
T.after(async () => {
  await c.close()
  for (const s of servers) s.close()
})

T('a service on A is reached from B through the tunnel, intact both ways, with half-close', async () => {
  const [a, b] = [c.peers[0]!, c.peers[1]!]
  const port = await hashService('A')
  const seen: Array<{ peer: string, req: TunnelRequest }> = []
  await a.serveTunnels((peer, req) => {
    seen.push({ peer, req })
    return peer === b.peerId && req.consumer === 'app/client' ? { host: '127.0.0.1', port } : { refuse: `${req.consumer} names no connection to ${req.target}` }
  })
  const request = { consumer: 'app/client', target: 'app/server', service: 'http' }
  const ep = await b.openEndpoint({ host: '127.0.0.1', port: 0, route: () => ({ peer: a.peerId, request }) })
  const payload = randomBytes(8 * 1024 * 1024)
  const got = await exchange(ep.port, payload)
  assert.is(got, `A:${createHash('sha256').update(payload).digest('hex')}`)
  assert.equal(seen[0], { peer: b.peerId, req: request })
  await waitFor('endpoint counters settle', () => ep.stats.active === 0)
  assert.is(ep.stats.bytesOut, payload.length)
  assert.is(ep.stats.bytesIn, got.length)
  assert.is(ep.stats.peer, a.peerId)
  assert.is(a.tunnels.server.served, 1)
  assert.is(a.tunnels.server.bytesIn, payload.length)
  // ten sockets at once share the connection
  const small = await Promise.all(Array.from({ length: 10 }, async (_, i) => await exchange(ep.port, Buffer.from(`n${i}`))))
  small.forEach((r, i) => { assert.is(r, `A:${createHash('sha256').update(`n${i}`).digest('hex')}`) })
  await b.tunnels.unlisten(ep)
})

T('an opener the authoriser does not allow is refused with the reason, and counted', async () => {
  const [a, , third] = [c.peers[0]!, c.peers[1]!, c.peers[2]!]
  const before = a.tunnels.server.refused
  const ep = await third.openEndpoint({ host: '127.0.0.1', port: 0, route: () => ({ peer: a.peerId, request: { consumer: 'app/intruder', target: 'app/server', service: 'http' } }) })
  const got = await exchange(ep.port, Buffer.from('hello'))
  assert.is(got, '', 'the refused client gets no bytes, its socket is closed')
  await waitFor('the refusal is recorded', () => ep.stats.failed === 1)
  assert.match(ep.stats.lastError, /refused by peer .*app\/intruder names no connection to app\/server/)
  assert.is(a.tunnels.server.refused, before + 1)
  await third.tunnels.unlisten(ep)
})

T('an endpoint re-routes on the next connect when the target moves, and a dead route fails only that socket', async () => {
  const [a, b, third] = [c.peers[0]!, c.peers[1]!, c.peers[2]!]
  const portC = await hashService('C')
  await third.serveTunnels((peer, req) => peer === b.peerId ? { host: '127.0.0.1', port: portC } : { refuse: `no ${req.target}` })
  let owner = a.peerId
  const request = { consumer: 'app/client', target: 'app/server', service: 'http' }
  const ep = await b.openEndpoint({ host: '127.0.0.1', port: 0, route: () => ({ peer: owner, request }) })
  assert.match(await exchange(ep.port, Buffer.from('x')), /^A:/)
  owner = third.peerId
  assert.match(await exchange(ep.port, Buffer.from('x')), /^C:/, 'same endpoint, new owner')
  assert.is(ep.stats.peer, third.peerId)
  // a service that stopped listening: the socket closes with a reason, the endpoint stays
  const gone = servers.pop()!
  await new Promise<void>(resolve => { gone.close(() => { resolve() }) })
  assert.is(await exchange(ep.port, Buffer.from('x')), '')
  await waitFor('failure recorded', () => ep.stats.failed === 1)
  assert.match(ep.stats.lastError, /not accepting connections/)
  owner = a.peerId
  assert.match(await exchange(ep.port, Buffer.from('x')), /^A:/, 'the endpoint still works')
  await b.tunnels.unlisten(ep)
})

T('a client that resets mid-transfer resets the tunnel; the serving side frees it', async () => {
  const [a, b] = [c.peers[0]!, c.peers[1]!]
  const ep = await b.openEndpoint({ host: '127.0.0.1', port: 0, route: () => ({ peer: a.peerId, request: { consumer: 'app/client', target: 'app/server', service: 'http' } }) })
  const s = connect({ port: ep.port, host: '127.0.0.1' })
  s.on('error', () => {})
  await once(s, 'connect')
  s.write(randomBytes(1024 * 1024))
  await waitFor('the tunnel is live on A', () => a.tunnels.server.active === 1)
  await waitFor('B counts a live tunnel to A', () => b.tunnels.outgoing.get(a.peerId) === 1)
  s.resetAndDestroy()
  await waitFor('A frees the tunnel', () => a.tunnels.server.active === 0 && !a.tunnels.server.byPeer.has(b.peerId), 10_000)
  await waitFor('B frees the tunnel', () => ep.stats.active === 0 && !b.tunnels.outgoing.has(a.peerId), 10_000)
  await b.tunnels.unlisten(ep)
})

T.run()
