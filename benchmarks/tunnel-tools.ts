// The processes of `npm run bench -- tunnel`, each started inside a network namespace:
//   server                       sink on :9000 (counts bytes, answers the count after the client's
//                                half-close) and echo on :9001
//   serve HOME                   a mesh peer founding a cluster; tunnels `sink`/`echo` to the servers
//                                above on its loopback; prints {"token": ...}
//   open HOME TOKEN PEER [stream] a mesh peer joining; opens endpoints for `sink` and `echo` to PEER;
//                                prints {"sink": port, "echo": port}; writes the endpoints' stats
//                                to HOME/stats.json on SIGUSR2 (which path the tunnel took);
//                                `stream`: the libp2p stream path only (tunnelRawDialMs 0)
//   load PHASE HOST SINKPORT ECHOPORT BYTES REQUESTS
//                                PHASE upload: throughput of one BYTES upload; requests: latency
//                                of REQUESTS 64-byte round trips on one connection; connects: of
//                                200 new connections (connect + one round trip); prints JSON
import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startMesh, type TunnelEndpoint } from '../mesh/index.js'

const [mode, ...args] = process.argv.slice(2)
const SINK = 9000
const ECHO = 9001
const listen = (host: string): string => `/ip4/${host}/tcp/7946`

async function server (): Promise<void> {
  createServer({ allowHalfOpen: true }, s => {
    let n = 0
    s.on('data', b => { n += b.length })
    s.on('end', () => { s.end(String(n)) })
    s.on('error', () => {})
  }).listen(SINK, '0.0.0.0')
  createServer(s => { s.setNoDelay(true); s.pipe(s); s.on('error', () => {}) }).listen(ECHO, '0.0.0.0')
  console.log(JSON.stringify({ ready: true }))
}

async function serve (home: string, host: string): Promise<void> {
  const { createCluster } = await import('../mesh/index.js')
  const mesh = await startMesh({ home, listen: [listen(host)], cluster: createCluster(), name: 'a' })
  await mesh.serveTunnels((_peer, req) => req.service === 'sink' ? { host: '127.0.0.1', port: SINK } : req.service === 'echo' ? { host: '127.0.0.1', port: ECHO } : { refuse: 'no such service' })
  console.log(JSON.stringify({ token: mesh.token(), peer: mesh.peerId }))
}

async function open (home: string, host: string, token: string, peer: string, only?: string): Promise<void> {
  // the stream-only opener is a second peer in B's namespace: any port (it dials A, A never dials it)
  const mesh = await startMesh({ home, listen: [only === 'stream' ? `/ip4/${host}/tcp/0` : listen(host)], token, name: only === 'stream' ? 'b2' : 'b', ...(only === 'stream' ? { config: { tunnelRawDialMs: 0 } } : {}) })
  const ep = async (service: string): Promise<TunnelEndpoint> => await mesh.openEndpoint({ host: '127.0.0.1', port: 0, route: () => ({ peer, request: { consumer: 'bench/client', target: 'bench/server', service } }) })
  const [sink, echo] = [await ep('sink'), await ep('echo')]
  // on the bench's SIGUSR2 (not on a timer: the writes would count in the peer's CPU); written
  // aside and renamed, so the bench never reads a half-written file
  process.on('SIGUSR2', () => {
    writeFileSync(join(home, 'stats.json.tmp'), JSON.stringify({ sink: sink.stats, echo: echo.stats, raw: mesh.tunnels.raw }))
    renameSync(join(home, 'stats.json.tmp'), join(home, 'stats.json'))
  })
  console.log(JSON.stringify({ sink: sink.port, echo: echo.port }))
}

async function load (phase: string, host: string, sinkPort: number, echoPort: number, bytes: number, requests: number): Promise<void> {
  if (phase === 'upload') {
    // throughput: one upload of `bytes`, timed until the server's count arrives
    const s = connect({ host, port: sinkPort, allowHalfOpen: true })
    await once(s, 'connect')
    const chunk = Buffer.alloc(256 * 1024, 7)
    const t0 = performance.now()
    let reply = ''
    s.on('data', b => { reply += String(b) })
    const ended = once(s, 'end')
    for (let sent = 0; sent < bytes; sent += chunk.length) {
      if (!s.write(sent + chunk.length <= bytes ? chunk : chunk.subarray(0, bytes - sent))) await once(s, 'drain')
    }
    s.end()
    await ended
    const secs = (performance.now() - t0) / 1000
    s.destroy()
    if (Number(reply) !== bytes) throw new Error(`the sink counted ${reply} bytes, not ${bytes}`)
    console.log(JSON.stringify({ throughput_mib_s: bytes / 1024 / 1024 / secs }))
  } else if (phase === 'requests') {
    // latency on one connection: 64-byte request, 64-byte answer
    const e = connect({ host, port: echoPort })
    e.setNoDelay(true)
    await once(e, 'connect')
    const lat = await roundTrips(e, requests)
    e.destroy()
    console.log(JSON.stringify({ latency_ms_p50: pct(lat, 0.5), latency_ms_p99: pct(lat, 0.99) }))
  } else if (phase === 'connects') {
    // latency with a new connection each time (connect + one round trip)
    const fresh: number[] = []
    for (let i = 0; i < 200; i++) {
      const t = performance.now()
      const c = connect({ host, port: echoPort })
      c.setNoDelay(true)
      await once(c, 'connect')
      await roundTrips(c, 1)
      fresh.push(performance.now() - t)
      c.destroy()
    }
    console.log(JSON.stringify({ connect_latency_ms_p50: pct(fresh, 0.5), connect_latency_ms_p99: pct(fresh, 0.99) }))
  } else {
    throw new Error(`unknown load phase ${phase}`)
  }
}

async function roundTrips (s: Socket, n: number): Promise<number[]> {
  const msg = Buffer.alloc(64, 1)
  const out: number[] = []
  let got = 0
  let wake: (() => void) | undefined
  s.on('data', b => { got += b.length; if (got >= 64) wake?.() })
  for (let i = 0; i < n; i++) {
    got = 0
    const t = performance.now()
    const done = new Promise<void>(resolve => { wake = resolve })
    s.write(msg)
    await done
    out.push(performance.now() - t)
  }
  return out
}

function pct (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return +(s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0).toFixed(3)
}

// a profiled peer (the bench's --profile) writes its profile on a clean exit
process.once('SIGTERM', () => { process.exit(0) })

switch (mode) {
  case 'server': await server(); break
  case 'serve': await serve(args[0]!, args[1]!); break
  case 'open': await open(args[0]!, args[1]!, args[2]!, args[3]!, args[4]); break
  case 'load': await load(args[0]!, args[1]!, Number(args[2]), Number(args[3]), Number(args[4]), Number(args[5])); process.exit(0); break
  default: console.error(`unknown mode ${mode ?? ''}`); process.exit(2)
}
