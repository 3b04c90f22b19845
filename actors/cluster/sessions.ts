// Operator streams to an instance, wherever it runs: interactive sessions (`monk shell`, `monk
// exec -it`) and port forwards (`monk port-forward`). The CLI's monkd resolves the owner when the
// client connects (a forward re-resolves on each new connection, so it follows a failover); on
// this peer the session runs against the runtime, elsewhere the bytes go over the mesh
// (`/monk/operator/1`, mesh/streams.ts) to the owner, which checks the request the same way.
// A forward reaches only a port the instance declares as a service on that peer.
import { createConnection, type Socket } from 'node:net'
import { once } from 'node:events'
import type { ByteStream, Mesh } from '../../mesh/index.js'
import type { Logger } from '../kit/index.js'
import { normalisePath } from '../paths.js'
import { LABEL_CONTAINER, LABEL_INSTANCE, LABEL_PEER, type ExecSession, type Runtime } from '../runtime/runtime.js'
import { decodeStatus, keys, wantAt } from '../state.js'
import { encodeFrame, frameJson, FrameReader, parseStart, SessionError, type SessionStart } from './session-wire.js'

export const OPERATOR_PROTOCOL = '/monk/operator/1'
/** Where forwarded ports are reached on the owner: its loopback (host networking, published ports). */
const FORWARD_HOST = '127.0.0.1'
/** Output written after a terminal's program exited may still be on its way: wait this long for it. */
const TAIL_MS = 30

export type OperatorRequest =
  | { kind: 'session', instance: string, start: SessionStart }
  | { kind: 'forward', instance: string, port: number }

/** The bytes of one client, whichever way they arrive. */
export interface Transport {
  read: () => AsyncIterable<Uint8Array>
  write: (b: Uint8Array) => void
  end: () => void
}

/** A request that was accepted: `run` carries the client's bytes until the session or forward ends. */
export interface Opened {
  /** The peer that runs the instance. */
  peer: string
  run: (client: Socket) => Promise<void>
}

export class OperatorStreams {
  constructor (private readonly mesh: Mesh, private readonly ownerOf: (instance: string) => string | null, private readonly runtime: Runtime, private readonly log: Logger) {}

  async start (): Promise<void> {
    await this.mesh.serveStreams(OPERATOR_PROTOCOL, async (peer, head) => {
      const req = parseRequest(head)
      if (this.ownerOf(req.instance) !== this.mesh.peerId) throw new SessionError('not-placed', `${req.instance} does not run on peer ${this.mesh.peerId} (any more)`)
      this.log.info({ instance: req.instance, from: peer, kind: req.kind }, `${req.kind === 'session' ? `session (${req.start.cmd[0] ?? ''})` : `port-forward ${req.port}`} in ${req.instance} for peer ${peer}`)
      const local = await this.openLocal(req)
      return { accept: async (s: ByteStream) => { await local.serve(s) } }
    })
  }

  /** Opens a request from a client of this peer's control API; errors before anything was sent. */
  async open (req: OperatorRequest): Promise<Opened> {
    const instance = normalisePath(req.instance)
    if (!wantAt(k => this.mesh.get(k), instance)) throw new SessionError('not-found', `${instance} is not running (run it with monk run ${instance})`, 404)
    const owner = this.ownerOf(instance)
    if (owner === null) throw new SessionError('not-placed', `${instance} has no running owner yet`, 409)
    const r = { ...req, instance }
    if (owner === this.mesh.peerId) {
      const local = await this.openLocal(r)
      return { peer: owner, run: async client => { await local.client(client) } }
    }
    let s: ByteStream
    try {
      s = await this.mesh.openStream(owner, OPERATOR_PROTOCOL, r)
    } catch (err) {
      const e = err as { code?: string, message?: string }
      throw new SessionError(e.code ?? 'peer-unreachable', `peer ${owner} (which runs ${instance}): ${e.message ?? String(err)}`)
    }
    return {
      peer: owner,
      run: async client => {
        const keep = setInterval(() => { this.mesh.touch(owner) }, 5000)
        try { await s.pipeSocket(client, () => { this.mesh.touch(owner) }) } finally { clearInterval(keep) }
      },
    }
  }

  /** A request served on this peer: `client` for a local client socket, `serve` for a mesh stream. */
  private async openLocal (req: OperatorRequest): Promise<{ client: (sock: Socket) => Promise<void>, serve: (s: ByteStream) => Promise<void> }> {
    if (req.kind === 'forward') {
      const upstream = await this.connectService(req.instance, req.port)
      return {
        client: async sock => { await joinSockets(sock, upstream) },
        serve: async s => { await s.pipeSocket(upstream) },
      }
    }
    const session = await this.startSession(req.instance, req.start)
    return {
      client: async sock => { await runSession(session, socketTransport(sock)) },
      serve: async s => { await runSession(session, { read: () => s.read(), write: b => { void s.write(b).catch(() => {}) }, end: () => { void s.close() } }) },
    }
  }

  private async startSession (instance: string, start: SessionStart): Promise<ExecSession> {
    if (!this.runtime.session) throw new SessionError('not-supported', `the ${this.runtime.kind} runtime of peer ${this.mesh.peerId} has no interactive sessions`)
    const list = await this.runtime.list({ [LABEL_INSTANCE]: instance, [LABEL_PEER]: this.mesh.peerId })
    const c = start.container !== undefined ? list.find(x => x.labels[LABEL_CONTAINER] === start.container) : list[0]
    if (!c) {
      const names = list.map(x => x.labels[LABEL_CONTAINER] ?? x.name).sort()
      throw new SessionError('not-found', start.container !== undefined ? `${instance} has no container "${start.container}" (its containers: ${names.join(', ') || 'none'})` : `${instance} runs no container on peer ${this.mesh.peerId}`, 404)
    }
    return await this.runtime.session(c.id, start.cmd, {
      tty: start.tty,
      ...(start.cols !== undefined ? { cols: start.cols } : {}), ...(start.rows !== undefined ? { rows: start.rows } : {}),
      ...(start.tty ? { env: { TERM: start.term ?? 'xterm' } } : {}),
    })
  }

  /** A connection to a port `instance` declares as a service on this peer. */
  private async connectService (instance: string, port: number): Promise<Socket> {
    const status = decodeStatus(this.mesh.get(keys.status(instance, this.mesh.peerId)))
    const services = Object.entries(status?.services ?? {})
    const declared = services.find(([, s]) => s.port === port && (s.protocol ?? 'tcp') === 'tcp')
    if (!declared) throw new SessionError('not-found', `${instance} declares no TCP service on port ${port} (its services: ${services.map(([n, s]) => `${n} ${s.port}`).join(', ') || 'none'})`, 404)
    const sock = createConnection({ host: FORWARD_HOST, port, allowHalfOpen: true, noDelay: true })
    try {
      await Promise.race([once(sock, 'connect'), once(sock, 'error').then(([e]) => { throw e as Error })])
    } catch (err) {
      sock.destroy()
      throw new SessionError('unreachable', `${instance} service ${declared[0]} is not accepting connections on port ${port} of peer ${this.mesh.peerId}: ${(err as Error).message}`, 502)
    }
    sock.on('error', () => {})
    return sock
  }
}

/** A control API client's socket as a session transport. */
export function socketTransport (sock: Socket): Transport {
  sock.on('error', () => {})
  return {
    read: () => sock.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>,
    write: b => { if (!sock.destroyed) sock.write(b) },
    end: () => { if (!sock.destroyed) sock.end() },
  }
}

/** Carries one session: input, resizes and end of input in; output, then the exit code out. */
export async function runSession (s: ExecSession, t: Transport): Promise<void> {
  let finished = false
  s.onOutput((stream, d) => { t.write(encodeFrame(stream === 'stdout' ? 'o' : 'E', d)) })
  const reading = (async () => {
    const r = new FrameReader()
    for await (const chunk of t.read()) {
      for (const f of r.push(chunk)) {
        if (f.type === 'i') s.write(f.payload)
        else if (f.type === 'e') s.endInput()
        else if (f.type === 'r') {
          const { cols, rows } = frameJson(f)
          if (typeof cols === 'number' && typeof rows === 'number' && cols > 0 && rows > 0) s.resize(Math.floor(cols), Math.floor(rows))
        }
      }
    }
  })()
  // the client went away (or spoke nonsense) before the program ended: end the program
  reading.then(() => { if (!finished) s.kill() }, () => { if (!finished) s.kill() })
  try {
    const exitCode = await s.exited
    await new Promise(resolve => setTimeout(resolve, TAIL_MS))
    t.write(encodeFrame('x', { exitCode }))
  } catch (err) {
    t.write(encodeFrame('f', { code: (err as { code?: string }).code ?? 'internal', message: (err as Error).message }))
  }
  finished = true
  t.end()
}

/** Pipes two local sockets both ways until both are done. */
async function joinSockets (a: Socket, b: Socket): Promise<void> {
  a.on('error', () => { b.destroy() })
  b.on('error', () => { a.destroy() })
  a.pipe(b)
  b.pipe(a)
  await Promise.all([once(a, 'close'), once(b, 'close')].map(async p => { await p.catch(() => {}) }))
}

function parseRequest (head: unknown): OperatorRequest {
  const o = typeof head === 'object' && head !== null ? head as Record<string, unknown> : {}
  if (typeof o.instance !== 'string' || o.instance === '' || o.instance.length > 1024) throw new SessionError('invalid-body', 'instance: a path')
  if (o.kind === 'forward') {
    if (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new SessionError('invalid-body', 'port: 1 to 65535')
    return { kind: 'forward', instance: o.instance, port: o.port }
  }
  if (o.kind === 'session') return { kind: 'session', instance: o.instance, start: parseStart(o.start) }
  throw new SessionError('invalid-body', 'kind: session or forward')
}
