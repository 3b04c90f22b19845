// The raw fast path of tunnels: a tunnel's bytes on a TCP socket of their own, opened to the
// target peer's p2p port (the only port open between machines) and sealed with native AEAD
// (tunnel-seal.ts), instead of pnet + Noise + yamux in JavaScript. libp2p's TCP listener shares
// the port: its 'connection' listener is wrapped by a sniffer that reads the first bytes. A fixed
// 16-byte preamble (MAGIC) marks a tunnel socket, followed by a 16-byte ticket id; anything else
// (a libp2p dialer always speaks first: pnet's 24-byte nonce) is put back and handed to libp2p.
//
// The ticket is the authentication: the consumer asks for it over an authorised `/monk/tunnel/1`
// stream (tunnel.ts), and receives it with fresh per-direction keys inside the Noise-encrypted
// stream. A ticket is single-use and expires in TICKET_TTL_MS; an unknown, used or expired one
// closes the socket and is counted.
import { randomBytes } from 'node:crypto'
import { createConnection, type Server, type Socket } from 'node:net'
import type { MeshNode } from './node.js'
import { KEY_BYTES } from './tunnel-seal.js'

/** The preamble of a raw tunnel socket (16 bytes). */
export const MAGIC = Buffer.from('monk-tunnel-raw/', 'latin1')
export const TICKET_BYTES = 16
/** How long a ticket waits for its socket. */
export const TICKET_TTL_MS = 10_000
/** How long the sniffer waits for the first bytes before handing the socket to libp2p as it is. */
export const SNIFF_MS = 10_000

/** What a consumer receives with a ticket: the id to present and the keys of each direction. */
export interface TicketGrant { id: Buffer, up: Buffer, down: Buffer }

export interface TicketStats { issued: number, used: number, expired: number, bad: number }

/** The tickets a serving peer handed out and not yet redeemed. */
export class Tickets {
  readonly stats: TicketStats = { issued: 0, used: 0, expired: 0, bad: 0 }
  private readonly open = new Map<string, { use: (raw: Socket, grant: TicketGrant) => void, drop: () => void, grant: TicketGrant, timer: NodeJS.Timeout }>()

  constructor (private readonly ttlMs = TICKET_TTL_MS) {}

  /** A new ticket: `use` runs with the socket that presents it, `drop` when it expires unused. */
  issue (use: (raw: Socket, grant: TicketGrant) => void, drop: () => void): TicketGrant {
    const grant = { id: randomBytes(TICKET_BYTES), up: randomBytes(KEY_BYTES), down: randomBytes(KEY_BYTES) }
    const key = grant.id.toString('hex')
    const timer = setTimeout(() => {
      if (this.open.delete(key)) { this.stats.expired++; drop() }
    }, this.ttlMs)
    timer.unref()
    this.open.set(key, { use, drop, grant, timer })
    this.stats.issued++
    return grant
  }

  /** Hands `raw` to its ticket's owner; false (counted, socket destroyed) for an unknown, used or expired id. */
  redeem (id: Buffer, raw: Socket): boolean {
    const key = id.toString('hex')
    const t = this.open.get(key)
    if (t === undefined) {
      this.stats.bad++
      raw.destroy()
      return false
    }
    this.open.delete(key)
    clearTimeout(t.timer)
    this.stats.used++
    t.use(raw, t.grant)
    return true
  }

  /** Drops every open ticket (the peer is stopping). */
  clear (): void {
    for (const t of this.open.values()) { clearTimeout(t.timer); t.drop() }
    this.open.clear()
  }
}

type Listener = (socket: Socket) => void

/**
 * Wraps the 'connection' listeners of this node's TCP listeners with the sniffer. Returns the
 * ports they listen on (empty: no TCP listener, no raw path) and an undo.
 */
export function hookListeners (node: MeshNode, onRaw: (socket: Socket, id: Buffer) => void, sniffMs = SNIFF_MS): { ports: number[], unhook: () => void } {
  const tm = (node as unknown as { components?: { transportManager?: { getListeners: () => unknown[] } } }).components?.transportManager
  const servers = (tm?.getListeners() ?? []).map(l => (l as { server?: unknown }).server).filter((s): s is Server => typeof (s as Server | undefined)?.address === 'function')
  const undo: Array<() => void> = []
  const ports: number[] = []
  for (const server of servers) {
    const addr = server.address()
    if (addr === null || typeof addr !== 'object') continue
    const orig = server.listeners('connection') as Listener[]
    const sniffer: Listener = socket => {
      sniff(socket, sniffMs, id => {
        // libp2p's server does not allow half-open sockets: a tunnel carries half-closes itself
        socket.allowHalfOpen = true
        onRaw(socket, id)
      }, () => { for (const l of orig) l.call(server, socket) })
    }
    server.removeAllListeners('connection')
    server.on('connection', sniffer)
    ports.push(addr.port)
    undo.push(() => {
      server.off('connection', sniffer)
      for (const l of orig) server.on('connection', l)
    })
  }
  return { ports, unhook: () => { for (const u of undo) u() } }
}

/**
 * Reads the first bytes of an accepted socket: MAGIC + ticket id → `raw(id)` (the bytes after it
 * stay readable); anything else, or nothing within `ms` → the bytes go back and `pass()` runs.
 */
export function sniff (socket: Socket, ms: number, raw: (id: Buffer) => void, pass: () => void): void {
  let buf: Buffer = Buffer.alloc(0)
  let done = false
  const finish = (isRaw: boolean): void => {
    if (done) return
    done = true
    clearTimeout(timer)
    socket.off('readable', onReadable)
    socket.off('error', onError)
    socket.off('end', onEnd)
    if (isRaw) {
      const rest = buf.subarray(MAGIC.length + TICKET_BYTES)
      if (rest.length) socket.unshift(rest)
      raw(Buffer.from(buf.subarray(MAGIC.length, MAGIC.length + TICKET_BYTES)))
      return
    }
    if (buf.length) socket.unshift(buf)
    pass()
  }
  const onReadable = (): void => {
    let c: Buffer | null
    while (!done && (c = socket.read() as Buffer | null) !== null) {
      buf = buf.length ? Buffer.concat([buf, c]) : c
      const n = Math.min(buf.length, MAGIC.length)
      if (!buf.subarray(0, n).equals(MAGIC.subarray(0, n))) { finish(false); return }
      if (buf.length >= MAGIC.length + TICKET_BYTES) { finish(true); return }
    }
  }
  // an error, or an end before the preamble was told apart: neither a libp2p dial nor a tunnel
  const drop = (): void => {
    if (done) return
    done = true
    clearTimeout(timer)
    socket.off('readable', onReadable)
    socket.destroy()
  }
  const onError = drop
  const onEnd = drop
  const timer = setTimeout(() => { finish(false) }, ms)
  socket.on('readable', onReadable)
  socket.on('error', onError)
  socket.on('end', onEnd)
}

/** Opens a raw tunnel socket to `host:port` and presents ticket `id`; rejects when it cannot connect within `ms`. */
export async function dialRaw (host: string, port: number, id: Uint8Array, ms: number): Promise<Socket> {
  const s = createConnection({ host, port, allowHalfOpen: true, noDelay: true })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`raw tunnel dial to ${host}:${port} timed out after ${ms} ms`)) }, ms)
    s.once('connect', () => { clearTimeout(timer); s.off('error', fail); resolve() })
    const fail = (err: Error): void => { clearTimeout(timer); reject(new Error(`raw tunnel dial to ${host}:${port}: ${err.message}`)) }
    s.once('error', fail)
  })
  s.cork()
  s.write(MAGIC)
  s.write(id)
  s.uncork()
  return s
}
