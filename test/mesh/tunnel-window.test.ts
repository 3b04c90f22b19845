// Integration: a tunnel's stream (the stream path: tunnelRawDialMs 0) gets a wide yamux receive window each way (yamux-window.ts
// widenWindow), on real mesh peers on 127.0.0.1. Without it a sender may have only the initial
// 256 KiB in flight per round trip (keep-alive is off, so yamux never measures the RTT to grow it).
// - Before any data, the opener may send 4 MiB: the server granted it when it accepted.
// - A slow reader on the server side holds the sender to that window: bytes in flight stop
//   growing at about 4 MiB plus the pipes' bounded read-ahead, nothing is lost, and the transfer
//   completes intact (the deferred window updates keep flowing).
// - Mesh control streams keep the 256 KiB window.
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { MeshNode } from '../../mesh/node.js'
import { allAlive, startCluster, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const T = suite('tunnel yamux window')
let c: TestCluster
const servers: Server[] = []
const MIB = 1024 * 1024

interface YamuxLike { protocol?: string, sendWindowCapacity?: number, recvWindow?: number }
// the yamux streams under the mesh's libp2p node (its parts are private: read them as the library's objects)
const streamsOf = (mesh: TestCluster['peers'][number], peer: string): YamuxLike[] =>
  (mesh as unknown as { p: { node: MeshNode } }).p.node.getConnections().filter(x => x.remotePeer.toString() === peer).flatMap(x => x.streams as unknown as YamuxLike[])

T.before(async () => {
  // the stream path (the fallback when a raw dial fails): the raw path has no yamux window
  c = await startCluster(2, { config: { tunnelRawDialMs: 0 } })
  await waitFor('2 peers alive', () => allAlive(c.peers), 30_000)
})
T.after(async () => {
  await c.close()
  for (const s of servers) s.close()
})

T('a tunnel stream is granted a 4 MiB window; a slow reader bounds what is in flight; bytes arrive intact', async () => {
  const [a, b] = [c.peers[0]!, c.peers[1]!]
  // the service reads nothing until told to, then hashes everything
  let held: Socket | undefined
  const h = createHash('sha256')
  let got = 0
  const srv = createServer({ allowHalfOpen: true }, s => {
    held = s
    s.pause()
    s.on('data', d => { h.update(d); got += d.length })
    s.on('end', () => { s.end(h.digest('hex')) })
    s.on('error', () => {})
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  servers.push(srv)
  const port = (srv.address() as { port: number }).port
  await a.serveTunnels(() => ({ host: '127.0.0.1', port }))
  const ep = await b.openEndpoint({ host: '127.0.0.1', port: 0, route: () => ({ peer: a.peerId, request: { consumer: 'w/c', target: 'w/s', service: 'x' } }) })

  const s = connect({ host: '127.0.0.1', port: ep.port, allowHalfOpen: true })
  await once(s, 'connect')
  s.write('x')
  await waitFor('the tunnel is up on the server side', () => held !== undefined, 20_000)
  const tunnel = (): YamuxLike | undefined => streamsOf(b, a.peerId).find(x => x.protocol?.includes('tunnel'))
  await waitFor('the opener sees the grant', () => (tunnel()?.sendWindowCapacity ?? 0) > 4 * MIB - 1024, 20_000)
  assert.ok((tunnel()?.recvWindow ?? 0) >= 4 * MIB, 'the opener widened its own receive window too')
  const control = streamsOf(b, a.peerId).filter(x => x.protocol !== undefined && !x.protocol.includes('tunnel'))
  for (const x of control) assert.ok((x.recvWindow ?? 0) <= 256 * 1024, `${x.protocol ?? '?'} keeps the initial window`)

  // 24 MiB into a reader that is paused: the sender stops at the window plus the bounded read-ahead
  const payload = randomBytes(24 * MIB)
  const replied = new Promise<string>(resolve => { let r = ''; s.on('data', d => { r += String(d) }); s.on('end', () => { resolve(r) }) })
  s.end(payload)
  await waitFor('the sender stalls', async () => {
    const before = ep.stats.bytesOut
    await new Promise(resolve => setTimeout(resolve, 500))
    return ep.stats.bytesOut === before && before > 4 * MIB
  }, 30_000)
  console.log(`  in flight when the sender stalled: ${(ep.stats.bytesOut / MIB).toFixed(1)} MiB`)
  assert.ok(ep.stats.bytesOut < 24 * MIB, `the paused reader holds the sender back (${ep.stats.bytesOut} bytes read from the client)`)
  held!.resume()
  const digest = await replied
  assert.is(digest, createHash('sha256').update(Buffer.concat([Buffer.from('x'), payload])).digest('hex'))
  assert.is(got, payload.length + 1)
  s.destroy()
  await b.tunnels.unlisten(ep)
})

T.run()
