// Integration: the raw fast path of tunnels (mesh/tunnel-raw.ts) between real mesh peers on
// 127.0.0.1, on the peers' own p2p port.
// - A tunnel takes the raw path: bytes intact, counted on both sides; libp2p dials to the same
//   port still pass the sniffer (a peer joining afterwards becomes alive).
// - A socket with an unknown ticket, a replayed ticket, or a tampered frame is closed and counted;
//   the service behind a tampered tunnel is disconnected.
// - A raw tunnel closes when the libp2p connection between its peers is gone (a peer cut off by a
//   key rotation keeps no tunnel).
// - When the raw dial fails, the tunnel falls back to the libp2p stream, intact, and later sockets
//   to that peer go straight to the stream.
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { protocols } from '../../mesh/defaults.js'
import { openStream, type MeshNode } from '../../mesh/node.js'
import { openHead } from '../../mesh/tunnel-pipe.js'
import { parseGrant } from '../../mesh/tunnel.js'
import { dialRaw } from '../../mesh/tunnel-raw.js'
import { Opener, Sealer } from '../../mesh/tunnel-seal.js'
import { allAlive, startCluster, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const T = suite('tunnel raw path')
let c: TestCluster
const servers: Server[] = []
let port = 0
let closes = 0
const request = { consumer: 'raw/client', target: 'raw/server', service: 'x' }

/** Answers `A:` + sha256 of what it read, after the client half-closes; counts closed sockets. */
async function hashService (): Promise<number> {
  const srv = createServer({ allowHalfOpen: true }, s => {
    const h = createHash('sha256')
    s.on('data', b => { h.update(b) })
    s.on('end', () => { s.end(`A:${h.digest('hex')}`) })
    s.on('error', () => {})
    s.on('close', () => { closes++ })
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  servers.push(srv)
  return (srv.address() as { port: number }).port
}

async function exchange (p: number, payload: Buffer): Promise<string> {
  const s: Socket = connect({ port: p, host: '127.0.0.1', allowHalfOpen: true })
  const chunks: Buffer[] = []
  s.on('data', b => chunks.push(b))
  await once(s, 'connect')
  s.end(payload)
  await new Promise<void>(resolve => { s.on('close', () => { resolve() }); s.on('error', () => {}) })
  return Buffer.concat(chunks).toString()
}

const nodeOf = (m: TestCluster['peers'][number]): MeshNode => (m as unknown as { p: { node: MeshNode } }).p.node
const portOf = (m: TestCluster['peers'][number]): number => Number(/\/tcp\/(\d+)/.exec(m.addresses()[0] ?? '')?.[1])

/** Asks A for a ticket the way an opener does, over `/monk/tunnel/1`. */
async function ticket (): Promise<{ id: Uint8Array, up: Uint8Array, down: Uint8Array, port: number }> {
  const [a, b] = [c.peers[0]!, c.peers[1]!]
  const stream = await openStream(nodeOf(b), a.peerId, protocols.tunnel, { signal: AbortSignal.timeout(10_000) })
  const head = await openHead(stream, request, AbortSignal.timeout(10_000), 2)
  await stream.close().catch(() => {})
  assert.is(head[0], 2, `A hands out a ticket: ${JSON.stringify(head)}`)
  return { id: head[1] as Uint8Array, up: head[2] as Uint8Array, down: head[3] as Uint8Array, port: head[4] as number }
}

/** Asks A for a ticket with request version 3 and the given ciphers; returns A's answer. */
async function ask3 (ciphers: unknown): Promise<unknown[]> {
  const [a, b] = [c.peers[0]!, c.peers[1]!]
  const stream = await openStream(nodeOf(b), a.peerId, protocols.tunnel, { signal: AbortSignal.timeout(10_000) })
  const head = await openHead(stream, request, AbortSignal.timeout(10_000), 3, [ciphers])
  stream.abort(new Error('done asking'))
  return head
}

/** A closes the socket: its end (a FIN; the raw socket is half-open) or its close arrives. */
async function closed (s: Socket): Promise<void> {
  if (!s.destroyed) await new Promise(resolve => { s.once('end', resolve); s.once('close', resolve); s.resume() })
}

T.before(async () => {
  c = await startCluster(2)
  await waitFor('2 peers alive', () => allAlive(c.peers), 30_000)
  port = await hashService()
  await c.peers[0]!.serveTunnels(() => ({ host: '127.0.0.1', port }))
})
T.after(async () => {
  await c.close()
  for (const s of servers) s.close()
})

T('a tunnel takes the raw path on the p2p port; libp2p dials still pass the sniffer', async () => {
  const [a, b] = [c.peers[0]!, c.peers[1]!]
  const ep = await b.openEndpoint({ host: '127.0.0.1', port: 0, route: () => ({ peer: a.peerId, request }) })
  const payload = randomBytes(4 * 1024 * 1024)
  const got = await exchange(ep.port, payload)
  assert.is(got, `A:${createHash('sha256').update(payload).digest('hex')}`)
  await waitFor('counters settle', () => ep.stats.active === 0 && a.tunnels.server.active === 0)
  assert.is(ep.stats.path, 'raw')
  assert.is(ep.stats.cipher, 'aes-256-gcm', 'both peers offer AES-256-GCM first')
  assert.is(ep.stats.bytesOut, payload.length)
  assert.is(ep.stats.bytesIn, got.length)
  assert.is(a.tunnels.raw.served, 1)
  assert.is(b.tunnels.raw.opened, 1)
  assert.is(a.tunnels.server.bytesIn, payload.length)
  assert.is(b.tunnels.raw.fallbacks, 0)
  // the ticket's port is A's p2p port (the only one a firewall needs to open)
  assert.is((await ticket()).port, portOf(a))
  // a peer that joins now dials A's hooked port through libp2p
  const third = await c.add()
  await waitFor('3 peers alive', () => allAlive(c.peers), 30_000)
  assert.ok(third.alive().includes(a.peerId))
  await b.tunnels.unlisten(ep)
})

T('a server of an older monk (no request 3) aborts the raw request; the opener asks again on the stream', async () => {
  const [a, third] = [c.peers[0]!, c.peers[2]!]
  const malformed = a.tunnels.server.malformed
  a.tunnels.maxRequestVersion = 2
  try {
    const ep = await third.openEndpoint({ host: '127.0.0.1', port: 0, route: () => ({ peer: a.peerId, request }) })
    const payload = randomBytes(512 * 1024)
    const got = await exchange(ep.port, payload)
    assert.is(got, `A:${createHash('sha256').update(payload).digest('hex')}`, 'the bytes arrive through the stream path')
    assert.is(ep.stats.path, 'stream')
    assert.is(ep.stats.fallbacks, 1)
    assert.match(ep.stats.lastError ?? '', /older monk/)
    assert.is(a.tunnels.server.malformed, malformed + 1, 'A counted the request it could not parse')
    await third.tunnels.unlisten(ep)
  } finally {
    a.tunnels.maxRequestVersion = 3
  }
})

T('the cipher is negotiated in the ticket exchange: the first of the opener\'s that A has; none in common serves on the stream', async () => {
  const aes = await ask3(['aes-256-gcm', 'chacha20-poly1305'])
  assert.is(aes[0], 3)
  assert.is(parseGrant(aes).cipher, 'aes-256-gcm')
  const chacha = await ask3(['rot13', 'chacha20-poly1305'])
  assert.is(parseGrant(chacha).cipher, 'chacha20-poly1305', 'an unknown name is skipped')
  assert.equal(await ask3(['rot13']), [0], 'no cipher in common: the stream path')
  const legacy = await ticket()
  assert.is(legacy.port, portOf(c.peers[0]!), 'a version 2 request still gets a ticket (ChaCha20-Poly1305)')
  assert.is(parseGrant([2, legacy.id, legacy.up, legacy.down, legacy.port]).cipher, 'chacha20-poly1305')
  assert.throws(() => parseGrant([3, legacy.id, legacy.up, legacy.down, legacy.port, 'rot13']), /cipher this peer does not offer/)
  const before = c.peers[0]!.tunnels.server.malformed
  await ask3('aes-256-gcm').catch(() => undefined)
  await waitFor('a cipher list that is not a list is malformed', () => c.peers[0]!.tunnels.server.malformed === before + 1)
})

T('an unknown ticket and a replayed ticket close the socket and are counted', async () => {
  const a = c.peers[0]!
  const before = a.tunnels.raw.badTickets
  const s = await dialRaw('127.0.0.1', portOf(a), randomBytes(16), 5000)
  s.on('error', () => {})
  await closed(s)
  await waitFor('the unknown ticket is counted', () => a.tunnels.raw.badTickets === before + 1)

  const t = await ticket()
  const first = await dialRaw('127.0.0.1', t.port, t.id, 5000)
  first.on('error', () => {})
  const replay = await dialRaw('127.0.0.1', t.port, t.id, 5000)
  replay.on('error', () => {})
  await closed(replay)
  await waitFor('the replay is counted', () => a.tunnels.raw.badTickets === before + 2)
  // the first holder's tunnel works: one sealed frame up, the end, and A's answer comes back sealed
  const up = new Sealer(t.up)
  first.write(Buffer.concat([...up.seal(Buffer.from('hello')), ...up.seal(new Uint8Array(0))]))
  const answer: Buffer[] = []
  let ended = false
  const down = new Opener(t.down, { data: p => answer.push(...p), end: () => { ended = true }, bad: why => { assert.unreachable(why) } })
  first.on('data', b => { down.push(b) })
  await waitFor('A answers through the raw socket', () => ended)
  assert.is(Buffer.concat(answer).toString(), `A:${createHash('sha256').update('hello').digest('hex')}`)
  first.destroy()
})

T('a tampered frame closes the tunnel, disconnects the service and is counted', async () => {
  const a = c.peers[0]!
  const before = a.tunnels.raw.badFrames
  const closesBefore = closes
  const t = await ticket()
  const s = await dialRaw('127.0.0.1', t.port, t.id, 5000)
  s.on('error', () => {})
  const frame = Buffer.concat(new Sealer(t.up).seal(Buffer.from('tampered with')))
  frame[6]! ^= 0x40
  s.write(frame)
  await closed(s)
  await waitFor('the bad frame is counted', () => a.tunnels.raw.badFrames === before + 1)
  await waitFor('the service socket is closed', () => closes > closesBefore)
})

T('a raw tunnel closes when the libp2p connection between the peers is gone, as a stream tunnel would', async () => {
  const [a, b] = [c.peers[0]!, c.peers[1]!]
  const ep = await b.openEndpoint({ host: '127.0.0.1', port: 0, route: () => ({ peer: a.peerId, request }) })
  const s = connect({ port: ep.port, host: '127.0.0.1', allowHalfOpen: true })
  s.on('error', () => {})
  await once(s, 'connect')
  s.write('held open')
  await waitFor('the raw tunnel is live on A', () => a.tunnels.server.active === 1 && ep.stats.path === 'raw')
  const gone = new Promise(resolve => { s.once('end', resolve); s.once('close', resolve) })
  await nodeOf(b).hangUp(nodeOf(a).peerId)
  await gone
  await waitFor('A frees the tunnel', () => a.tunnels.server.active === 0, 10_000)
  await waitFor('B frees the tunnel', () => ep.stats.active === 0, 10_000)
  await b.tunnels.unlisten(ep)
})

T('when the raw dial fails the tunnel falls back to the stream; later sockets skip the raw path', async () => {
  const [a, b] = [c.peers[0]!, c.peers[1]!]
  // A advertises a port nobody listens on: the raw dial is refused, as behind a NAT
  const dead = createServer()
  dead.listen(0, '127.0.0.1')
  await once(dead, 'listening')
  const deadPort = (dead.address() as { port: number }).port
  await new Promise(resolve => { dead.close(resolve) })
  const hook = (a.tunnels as unknown as { hook: { ports: number[] } }).hook
  const real = hook.ports
  hook.ports = [deadPort]
  try {
    const ep = await b.openEndpoint({ host: '127.0.0.1', port: 0, route: () => ({ peer: a.peerId, request }) })
    const payload = randomBytes(256 * 1024)
    const want = `A:${createHash('sha256').update(payload).digest('hex')}`
    assert.is(await exchange(ep.port, payload), want)
    assert.is(ep.stats.path, 'stream')
    assert.is(ep.stats.fallbacks, 1)
    assert.match(ep.stats.lastError, /raw path to peer .* failed, using the stream/)
    assert.is(b.tunnels.raw.fallbacks, 1)
    assert.is(await exchange(ep.port, Buffer.from('again')), `A:${createHash('sha256').update('again').digest('hex')}`)
    assert.is(ep.stats.fallbacks, 1, 'the second socket did not try the raw path again')
    assert.is(ep.stats.path, 'stream')
    await b.tunnels.unlisten(ep)
  } finally {
    hook.ports = real
  }
})

T.run()
