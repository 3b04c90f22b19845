// Tunnels over the mesh (DESIGN §10, `/monk/tunnel/1`): TCP byte streams carried on libp2p streams,
// so they ride the peers' pnet + Noise connections and the only port two machines need open is the
// p2p port. A consumer peer opens a local TCP endpoint; each accepted socket opens one stream to the
// peer that runs the target, which asks its authoriser whether the opener may reach that target
// and, if so, connects to the service's port and pipes both ways.
//
// Wire: the opener sends one frame (varint length + CBOR `[1, consumer, target, service]`), the
// server answers one frame (`[0]` accepted, `[1, reason]` refused), then both sides send raw bytes.
// Half-close is carried by the stream's write close; an error on either side resets the stream.
// Back-pressure: a socket is read only as fast as the stream's sink takes bytes (yamux window),
// and the stream is read only as fast as the socket drains.
//
// Raw fast path (tunnel-raw.ts): the opener asks with `[3, consumer, target, service, ciphers]`
// (the AEADs it takes, preferred first); a server that can take raw sockets on its p2p port picks
// the first of those it has and answers `[3, ticket, key up, key down, port, cipher]`, and the
// stream ends; the opener then connects to that port on the address it reaches the peer at, and
// the bytes go sealed with native AEAD (tunnel-seal.ts). The first raw path's request
// `[2, consumer, target, service]` is still served (answer `[2, ticket, up, down, port]`,
// ChaCha20-Poly1305). When that dial fails (a NAT or firewall in
// between), the opener falls back to the stream path, and skips the raw path to that peer for
// RAW_RETRY_MS. A server without a TCP listener answers `[0]` and serves on the stream.
import { once } from 'node:events'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { decode, encode } from 'cborg'
import type { Stream } from '@libp2p/interface'
import { frame } from './framing.js'
import { openHead, pipe, pipeSockets, readFrame, writer, type Chunk, type StreamWithWriter } from './tunnel-pipe.js'
import { openStream, type MeshNode } from './node.js'
import { dialRaw, hookListeners, Tickets, type TicketGrant } from './tunnel-raw.js'
import { CIPHERS, LEGACY_CIPHER, pipeSealed, type TunnelCipher } from './tunnel-seal.js'
import { peerIdFromString } from '@libp2p/peer-id'
import { widenWindow } from './yamux-window.js'

/** What an opener asks for: consumer instance, target instance and the target's service name. */
export interface TunnelRequest { consumer: string, target: string, service: string }

/** How a tunnel's bytes travel: sealed on a raw socket to the p2p port, or on a libp2p stream. */
export type TunnelPath = 'raw' | 'stream' | 'local'

/** The authoriser's answer on the serving peer: where to connect, or why not. */
export type TunnelDecision = { host: string, port: number } | { refuse: string }

export type TunnelAuthorizer = (peer: string, request: TunnelRequest) => TunnelDecision

/** Where an endpoint sends a new socket now: over a stream to `peer`, or to a local address. */
export type TunnelRoute = { peer: string, request: TunnelRequest } | { local: { host: string, port: number }, request: TunnelRequest }

/** What one endpoint (consumer side) did since it opened. */
export interface EndpointStats {
  /** Bytes from the local client into the tunnel. */
  bytesOut: number
  /** Bytes from the tunnel to the local client. */
  bytesIn: number
  /** Sockets piped now. */
  active: number
  /** Sockets accepted since the endpoint opened. */
  accepted: number
  /** Sockets that could not be routed or were refused. */
  failed: number
  /** The peer the last socket went to ('' before the first; the own peer id for a local target). */
  peer: string
  /** Why the last failed socket failed. */
  lastError: string
  /** The last socket failed (no route, refused, unreachable). */
  failing: boolean
  /** How the last socket's bytes went ('' before the first). */
  path: TunnelPath | ''
  /** Sockets that fell back to the stream path because the raw dial failed. */
  fallbacks: number
  /** The AEAD of the last raw socket ('' before the first raw one). */
  cipher: TunnelCipher | ''
}

/** The raw path on this peer: tunnels served and opened on it, fallbacks, and what it refused. */
export interface RawStats {
  served: number
  opened: number
  fallbacks: number
  /** Sockets that presented an unknown, used or expired ticket (closed). */
  badTickets: number
  /** Frames that failed authentication or were malformed (the tunnel closed). */
  badFrames: number
  /** Tickets handed out and never redeemed (their service connection closed). */
  expired: number
}

/** Serving-side counters (tunnels this peer served to others). */
export interface TunnelServerStats {
  served: number
  refused: number
  malformed: number
  active: number
  bytesIn: number
  bytesOut: number
  /** Live served tunnels per opener peer. */
  byPeer: Map<string, number>
  /** When each opener peer last had a tunnel served (Date.now() at open or close). */
  lastSeen: Map<string, number>
}

export interface TunnelInit {
  node: MeshNode
  self: string
  protocol: string
  /** Ensures a connection to `peer` (the pool's need()). */
  connect: (peer: string, signal: AbortSignal) => Promise<void>
  /** Marks the connection to `peer` as in use (a long-lived tunnel keeps its connection). */
  touch: (peer: string) => void
  /** How long opening a stream and getting the answer may take. */
  openTimeoutMs: number
  /** How long a raw dial may take (tunnel-raw.ts); 0: no raw path, offered or used. */
  rawDialMs: number
}

/** How often a live tunnel marks its connection as used. */
const TOUCH_EVERY_MS = 5000
/** Receive window of a tunnel's stream, each way (yamux-window.ts widenWindow). */
const TUNNEL_WINDOW = 4 * 1024 * 1024
/** After a failed raw dial to a peer, how long its tunnels use the stream path without trying. */
const RAW_RETRY_MS = 60_000

/** A local TCP endpoint on the consumer's peer. */
export class TunnelEndpoint {
  readonly stats: EndpointStats = { bytesOut: 0, bytesIn: 0, active: 0, accepted: 0, failed: 0, peer: '', lastError: '', failing: false, path: '', fallbacks: 0, cipher: '' }
  private readonly sockets = new Set<Socket>()

  constructor (readonly host: string, readonly port: number, private readonly server: Server) {}

  /** Stops accepting and drops the sockets it pipes. */
  async close (): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>(resolve => { this.server.close(() => { resolve() }) })
  }

  /** Tracks a socket until it closes. */
  hold (s: Socket): void {
    this.sockets.add(s)
    s.once('close', () => { this.sockets.delete(s) })
  }
}

export class Tunnels {
  readonly server: TunnelServerStats = { served: 0, refused: 0, malformed: 0, active: 0, bytesIn: 0, bytesOut: 0, byPeer: new Map(), lastSeen: new Map() }
  /** Live outgoing tunnels per target peer. */
  readonly outgoing = new Map<string, number>()
  private readonly endpoints = new Set<TunnelEndpoint>()
  readonly raw: RawStats = { served: 0, opened: 0, fallbacks: 0, badTickets: 0, badFrames: 0, expired: 0 }
  private readonly live = new Set<Stream>()
  /** Raw tunnel sockets (either side) per other peer: they close when the libp2p connection to that peer is gone, as a stream tunnel would (a peer cut off by a key rotation keeps no tunnel). */
  private readonly liveRaw = new Map<string, Set<Socket>>()
  private readonly onDisconnect = (e: CustomEvent<{ toString: () => string }>): void => {
    for (const s of this.liveRaw.get(e.detail.toString()) ?? []) s.destroy()
  }
  private readonly tickets = new Tickets()
  /** The raw listeners' hook (serve()), when this peer takes raw sockets. */
  private hook: { ports: number[], unhook: () => void } | undefined
  /** Peers whose raw port did not answer, until when. */
  private readonly rawDown = new Map<string, number>()
  private serving = false
  /**
   * The newest request version this server parses. A server of an older monk parses only up to 2 and
   * aborts a request 3 as malformed; tests lower this to act as one (mixed versions in a rolling upgrade).
   */
  maxRequestVersion = 3
  /** Keeps the connections of idle live tunnels (a quiet database session) from the pool's idle close. */
  private readonly keepTimer: NodeJS.Timeout

  constructor (private readonly init: TunnelInit) {
    this.keepTimer = setInterval(() => {
      for (const peer of new Set([...this.outgoing.keys(), ...this.server.byPeer.keys()])) init.touch(peer)
    }, TOUCH_EVERY_MS)
    this.keepTimer.unref()
    init.node.addEventListener('peer:disconnect', this.onDisconnect)
  }

  /** Serves the protocol; `authorize` decides each request (synchronously, from local state). */
  async serve (authorize: TunnelAuthorizer): Promise<void> {
    await this.init.node.handle(this.init.protocol, ({ stream, connection }) => {
      void this.accept(stream, connection.remotePeer.toString(), authorize)
    }, { maxInboundStreams: 1024 })
    this.serving = true
    if (this.init.rawDialMs > 0 && this.hook === undefined) {
      this.hook = hookListeners(this.init.node, (socket, id) => {
        socket.on('error', () => {})
        if (!this.tickets.redeem(id, socket)) this.raw.badTickets++
      })
    }
  }

  /**
   * Opens a local endpoint on `host:port` (port 0: any free one). Each accepted socket asks `route`
   * where to go at that moment, so a target that moved is reached on the next connect.
   */
  async listen (opts: { host: string, port: number, route: () => TunnelRoute }): Promise<TunnelEndpoint> {
    const server = createServer({ allowHalfOpen: true, noDelay: true })
    server.listen(opts.port, opts.host)
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => { throw e })])
    const addr = server.address()
    const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port
    const ep = new TunnelEndpoint(opts.host, port, server)
    server.on('connection', socket => { void this.forward(ep, socket, opts.route) })
    this.endpoints.add(ep)
    return ep
  }

  /** Closes an endpoint opened here. */
  async unlisten (ep: TunnelEndpoint): Promise<void> {
    this.endpoints.delete(ep)
    await ep.close()
  }

  async stop (): Promise<void> {
    clearInterval(this.keepTimer)
    for (const s of this.live) s.abort(new Error('the mesh is stopping'))
    this.init.node.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const set of this.liveRaw.values()) for (const s of set) s.destroy()
    this.hook?.unhook()
    this.tickets.clear()
    await Promise.all([...this.endpoints].map(async ep => { await ep.close() }))
    this.endpoints.clear()
    if (this.serving) await this.init.node.unhandle(this.init.protocol).catch(() => {})
  }

  private async forward (ep: TunnelEndpoint, socket: Socket, route: () => TunnelRoute): Promise<void> {
    ep.hold(socket)
    ep.stats.accepted++
    socket.on('error', () => {})
    let r: TunnelRoute
    try {
      r = route()
    } catch (err) {
      fail(ep, socket, (err as Error).message)
      return
    }
    if ('local' in r) {
      ep.stats.peer = this.init.self
      ep.stats.path = 'local'
      const upstream = createConnection({ host: r.local.host, port: r.local.port, allowHalfOpen: true, noDelay: true })
      upstream.on('error', err => { fail(ep, socket, `${r.local.host}:${r.local.port}: ${err.message}`); upstream.destroy() })
      upstream.once('connect', () => {
        ep.stats.failing = false
        ep.stats.active++
        socket.once('close', () => { ep.stats.active-- })
        pipeSockets(socket, upstream, ep.stats)
      })
      return
    }
    const peer = r.peer
    ep.stats.peer = peer
    let raw = this.init.rawDialMs > 0 && (this.rawDown.get(peer) ?? 0) < Date.now()
    for (;;) {
      let stream: Stream | undefined
      let head: unknown[]
      let refused = false
      const signal = AbortSignal.timeout(this.init.openTimeoutMs)
      try {
        await this.init.connect(peer, signal)
        stream = await openStream(this.init.node, peer, this.init.protocol, { signal })
        widenWindow(stream, TUNNEL_WINDOW)
        head = await openHead(stream, r.request, signal, raw ? 3 : 1, raw ? [[...CIPHERS]] : [])
        if (head[0] !== 0 && head[0] !== 2 && head[0] !== 3) {
          refused = true
          throw new Error(`refused by peer ${peer}: ${String(head[1] ?? 'no reason')}`)
        }
      } catch (err) {
        stream?.abort(err as Error)
        if (raw && stream !== undefined && !refused && !socket.destroyed) {
          // The peer took the stream but answered no head: a monk older than request 3 aborts it
          // as malformed. Ask again with request 1 (the stream path), which every version serves.
          this.rawDown.set(peer, Date.now() + RAW_RETRY_MS)
          this.raw.fallbacks++
          ep.stats.fallbacks++
          ep.stats.lastError = `peer ${peer} gave no answer to a raw tunnel request (an older monk?), using the stream: ${(err as Error).message}`
          raw = false
          continue
        }
        fail(ep, socket, (err as Error).message)
        return
      }
      if (head[0] === 2 || head[0] === 3) {
        const s = stream as StreamWithWriter
        s.monkWriter?.end()
        void stream.close().catch(() => {})
        let sealed: Socket
        try {
          const grant = parseGrant(head)
          const host = this.hostOf(peer)
          if (host === undefined) throw new Error(`no open connection to peer ${peer} to take its address from`)
          sealed = await dialRaw(host, grant.port, grant.id, this.init.rawDialMs)
          if (socket.destroyed) { sealed.destroy(); return }
          await this.pipeRaw(ep, socket, sealed, grant, peer)
          return
        } catch (err) {
          this.rawDown.set(peer, Date.now() + RAW_RETRY_MS)
          this.raw.fallbacks++
          ep.stats.fallbacks++
          ep.stats.lastError = `raw path to peer ${peer} failed, using the stream: ${(err as Error).message}`
          raw = false
          continue
        }
      }
      if (socket.destroyed) { stream.abort(new Error('the client went away')); return }
      ep.stats.failing = false
      ep.stats.path = 'stream'
      ep.stats.active++
      this.count(this.outgoing, peer, 1)
      this.live.add(stream)
      const st = stream
      await pipe(socket, st, { out: n => { ep.stats.bytesOut += n }, in: n => { ep.stats.bytesIn += n } }, () => { this.init.touch(peer) })
      this.live.delete(st)
      ep.stats.active--
      this.count(this.outgoing, peer, -1)
      return
    }
  }

  /** Consumer side of a raw tunnel: `socket` (the local client) and `sealed` (to the serving peer). */
  private async pipeRaw (ep: TunnelEndpoint, socket: Socket, sealed: Socket, grant: TicketGrant & { port: number, cipher: TunnelCipher }, peer: string): Promise<void> {
    sealed.on('error', () => {})
    ep.stats.failing = false
    ep.stats.path = 'raw'
    ep.stats.cipher = grant.cipher
    ep.stats.active++
    this.raw.opened++
    this.count(this.outgoing, peer, 1)
    this.holdRaw(peer, sealed)
    await pipeSealed(socket, sealed, grant.up, grant.down, {
      out: n => { ep.stats.bytesOut += n },
      in: n => { ep.stats.bytesIn += n },
      bad: why => { this.raw.badFrames++; ep.stats.lastError = `peer ${peer}: ${why}` },
    }, grant.cipher)
    this.dropRaw(peer, sealed)
    ep.stats.active--
    this.count(this.outgoing, peer, -1)
  }

  /** Serving side of a raw tunnel: `upstream` (the service) and `sealed` (the opener's raw socket). */
  private async serveRaw (upstream: Socket, sealed: Socket, grant: TicketGrant, peer: string, cipher: TunnelCipher): Promise<void> {
    this.server.served++
    this.server.active++
    this.raw.served++
    this.count(this.server.byPeer, peer, 1)
    this.server.lastSeen.set(peer, Date.now())
    this.holdRaw(peer, sealed)
    await pipeSealed(upstream, sealed, grant.down, grant.up, {
      out: n => { this.server.bytesOut += n },
      in: n => { this.server.bytesIn += n },
      bad: () => { this.raw.badFrames++ },
    }, cipher)
    this.dropRaw(peer, sealed)
    this.server.active--
    this.count(this.server.byPeer, peer, -1)
    this.server.lastSeen.set(peer, Date.now())
  }

  private holdRaw (peer: string, s: Socket): void {
    let set = this.liveRaw.get(peer)
    if (set === undefined) this.liveRaw.set(peer, set = new Set())
    set.add(s)
  }

  private dropRaw (peer: string, s: Socket): void {
    const set = this.liveRaw.get(peer)
    set?.delete(s)
    if (set?.size === 0) this.liveRaw.delete(peer)
  }

  /** The address this peer reaches `peer` at (its open connection's remote address). */
  private hostOf (peer: string): string | undefined {
    const c = this.init.node.getConnections(peerIdFromString(peer)).find(c => c.status === 'open')
    try { return c?.remoteAddr.toOptions().host } catch { return undefined }
  }

  private async accept (stream: Stream, peer: string, authorize: TunnelAuthorizer): Promise<void> {
    const src = stream.source[Symbol.asyncIterator]()
    let request: TunnelRequest & { version: number, ciphers: string[] }
    let rest: Uint8Array
    try {
      const got = await readFrame(src, AbortSignal.timeout(this.init.openTimeoutMs))
      rest = got.rest
      request = parseRequest(got.frame, this.maxRequestVersion)
    } catch (err) {
      this.server.malformed++
      stream.abort(err as Error)
      return
    }
    const decision = authorize(peer, { consumer: request.consumer, target: request.target, service: request.service })
    const write = writer(stream)
    if ('refuse' in decision) {
      this.server.refused++
      write.push(frame(encode([1, decision.refuse.slice(0, 1000)])))
      write.end()
      await write.done.catch(() => {})
      await stream.close().catch(() => {})
      return
    }
    const upstream = createConnection({ host: decision.host, port: decision.port, allowHalfOpen: true, noDelay: true })
    try {
      await Promise.race([once(upstream, 'connect'), once(upstream, 'error').then(([e]) => { throw e })])
    } catch (err) {
      this.server.refused++
      write.push(frame(encode([1, `${request.target} service ${request.service} is not accepting connections on peer ${this.init.self}: ${(err as Error).message}`])))
      write.end()
      await write.done.catch(() => {})
      await stream.close().catch(() => {})
      return
    }
    upstream.on('error', () => {})
    const cipher = request.version === 3 ? request.ciphers.find(c => (CIPHERS as readonly string[]).includes(c)) as TunnelCipher | undefined : LEGACY_CIPHER
    if (request.version >= 2 && cipher !== undefined && this.hook !== undefined && this.hook.ports.length > 0) {
      // the raw path: the service's bytes wait (paused) until the ticket's socket arrives
      upstream.pause()
      const grant = this.tickets.issue((sealed, g) => { void this.serveRaw(upstream, sealed, g, peer, cipher) }, () => { this.raw.expired++; upstream.destroy() })
      const port = this.hook.ports[0]!
      write.push(frame(encode(request.version === 3 ? [3, grant.id, grant.up, grant.down, port, cipher] : [2, grant.id, grant.up, grant.down, port])))
      write.end()
      await write.done.catch(() => {})
      await stream.close().catch(() => {})
      return
    }
    widenWindow(stream, TUNNEL_WINDOW)
    write.push(frame(encode([0])))
    this.server.served++
    this.server.active++
    this.count(this.server.byPeer, peer, 1)
    this.server.lastSeen.set(peer, Date.now())
    this.live.add(stream)
    await pipe(upstream, stream, { out: n => { this.server.bytesOut += n }, in: n => { this.server.bytesIn += n } }, () => { this.init.touch(peer) }, { write, first: rest, src })
    this.live.delete(stream)
    this.server.active--
    this.count(this.server.byPeer, peer, -1)
    this.server.lastSeen.set(peer, Date.now())
  }

  private count (m: Map<string, number>, peer: string, d: number): void {
    const n = (m.get(peer) ?? 0) + d
    if (n > 0) m.set(peer, n)
    else m.delete(peer)
  }
}

function fail (ep: TunnelEndpoint, socket: Socket, why: string): void {
  ep.stats.failed++
  ep.stats.failing = true
  ep.stats.lastError = why
  socket.destroy()
}

/** A request: version 1 (stream), 2 (raw, ChaCha20-Poly1305) or 3 (raw, with the opener's ciphers). */
function parseRequest (bytes: Uint8Array, maxVersion = 3): TunnelRequest & { version: number, ciphers: string[] } {
  const v: unknown = decode(bytes)
  if (Array.isArray(v) && typeof v[0] === 'number' && v[0] > maxVersion) throw new Error('malformed tunnel request')
  const str = (x: unknown, max: number): boolean => typeof x === 'string' && x.length > 0 && x.length <= max
  if (!Array.isArray(v) || !(v[0] === 1 || v[0] === 2 || v[0] === 3) || v.length !== (v[0] === 3 ? 5 : 4) || !v.slice(1, 4).every(x => str(x, 1024))) {
    throw new Error('malformed tunnel request')
  }
  const ciphers: unknown = v[0] === 3 ? v[4] : []
  if (!Array.isArray(ciphers) || ciphers.length > 16 || !ciphers.every(c => str(c, 64))) throw new Error('malformed tunnel request: ciphers')
  return { version: v[0] as number, consumer: v[1] as string, target: v[2] as string, service: v[3] as string, ciphers: ciphers as string[] }
}

/** A raw ticket answer: `[2, id, up, down, port]` (ChaCha20-Poly1305) or `[3, id, up, down, port, cipher]`. */
export function parseGrant (v: unknown[]): TicketGrant & { port: number, cipher: TunnelCipher } {
  const [version, id, up, down, port, cipher] = v
  const bytes = (x: unknown, n: number): x is Uint8Array => x instanceof Uint8Array && x.length === n
  if (!bytes(id, 16) || !bytes(up, 32) || !bytes(down, 32) || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error('malformed raw tunnel ticket')
  if (version === 3 && !(CIPHERS as readonly unknown[]).includes(cipher)) throw new Error(`raw tunnel ticket names a cipher this peer does not offer: ${String(cipher)}`)
  return { id: Buffer.from(id), up: Buffer.from(up), down: Buffer.from(down), port, cipher: version === 3 ? cipher as TunnelCipher : LEGACY_CIPHER }
}

