// The overlay of one peer (DESIGN §10): `connections` of the instances this peer runs resolve to
// local endpoints on 127.0.0.1, or on the gateway of Docker's per-peer network with monkd
// `--network-name` (mesh/tunnel.ts), one per instance and connection, kept while the
// instance runs here. Each socket accepted on an endpoint goes to whichever peer runs the target
// at that moment (a failover re-routes the next connect; the consumer keeps its address). On the
// serving side, only an opener that runs an instance whose template names the target in its
// `connections` (or any peer, for a service the kit publishes) gets through; others are refused
// and counted. Live figures are published in this peer's record (`peer/<id>`: `tunnels`,
// `connections`) every few seconds when they changed, for `describe` and `cluster peers`.
import type { ConnectionDecl } from '../../grammar/monkscript/runnable-spec.js'
import type { EndpointStats, Mesh, TunnelDecision, TunnelEndpoint, TunnelRequest, TunnelRoute, Value } from '../../mesh/index.js'
import type { Logger, Scheduler, Timer } from '../kit/index.js'
import type { ConnectionInfo } from '../messages/workload.js'
import { unitHash } from '../rendezvous.js'
import { decodeStatus, decodeTpl, keys, specOf, statusesOf, wantAt } from '../state.js'
import { isObj } from '../values.js'
import { isInstanceAddress } from '../runnable/ports.js'

/** Where consumers reach their endpoints: loopback, which processes and host-network containers share with monkd. */
export const ENDPOINT_HOST = '127.0.0.1'
/** How often live figures are published (only when they changed). */
const PUBLISH_MS = 5000
/** A served peer counts as having a live tunnel this long after its last socket. */
const RECENT_MS = 30_000

interface Held { consumer: string, name: string, target: string, service: string, ep: TunnelEndpoint }

/** One connection as `describe` shows it (published by the consumer's peer). */
export type ConnectionRow = Omit<ConnectionInfo, 'peerName'>

export class Overlay {
  private readonly held = new Map<string, Held>()
  private readonly opening = new Map<string, Promise<Held>>()
  private timer: Timer | undefined
  private published = ''
  private stopped = false

  /** `endpointHost`: where endpoints listen (the runtime's endpointHost: a per-peer network's gateway), default loopback. */
  constructor (private readonly mesh: Mesh, private readonly log: Logger, private readonly clock: Scheduler, private readonly endpointHost: string = ENDPOINT_HOST) {}

  async start (): Promise<void> {
    await this.mesh.serveTunnels((peer, req) => this.authorize(peer, req))
    const tick = (): void => {
      if (this.stopped) return
      void this.housekeep().finally(() => { if (!this.stopped) this.timer = this.clock.setTimeout(tick, PUBLISH_MS) })
    }
    this.timer = this.clock.setTimeout(tick, PUBLISH_MS)
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.timer?.cancel()
    for (const h of this.held.values()) await this.mesh.tunnels.unlisten(h.ep).catch(() => {})
    this.held.clear()
  }

  /**
   * The local endpoint of connection `conn` of `consumer` (an instance on this peer): opened on
   * first use, then the same address for as long as the instance runs here.
   */
  async endpoint (consumer: string, conn: ConnectionDecl): Promise<{ host: string, port: number }> {
    const key = `${consumer}\n${conn.name}`
    const have = this.held.get(key)
    if (have && have.target === conn.target && have.service === conn.service) return { host: have.ep.host, port: have.ep.port }
    if (have) { this.held.delete(key); await this.mesh.tunnels.unlisten(have.ep) }
    let p = this.opening.get(key)
    if (!p) {
      p = this.mesh.openEndpoint({ host: this.endpointHost, port: 0, route: () => this.route(consumer, conn) })
        .then(ep => { const h = { consumer, name: conn.name, target: conn.target, service: conn.service, ep }; this.held.set(key, h); return h })
        .finally(() => { this.opening.delete(key) })
      this.opening.set(key, p)
    }
    const h = await p
    this.log.debug({ instance: consumer, connection: conn.name, port: h.ep.port }, `${consumer}: connection ${conn.name} → ${conn.target} on ${h.ep.host}:${h.ep.port}`)
    return { host: h.ep.host, port: h.ep.port }
  }

  /**
   * Peers this peer has live tunnels with: out = endpoints of this peer whose last socket went to
   * that peer and did not fail (they go there next too, unless the target moves); in = sockets
   * served to that peer now, or at least 1 when it had one served within the last RECENT_MS
   * (clients that open a short connection per request are live between them).
   */
  live (): Record<string, { out: number, in: number }> {
    const out: Record<string, { out: number, in: number }> = {}
    for (const h of this.held.values()) {
      const p = h.ep.stats.peer
      if (p === '' || p === this.mesh.peerId || h.ep.stats.failing) continue
      out[p] = { out: (out[p]?.out ?? 0) + 1, in: 0 }
    }
    const srv = this.mesh.tunnels.server
    const now = Date.now()
    for (const [p, at] of srv.lastSeen) {
      const n = srv.byPeer.get(p) ?? 0
      if (n === 0 && now - at > RECENT_MS) { srv.lastSeen.delete(p); continue }
      out[p] = { out: out[p]?.out ?? 0, in: Math.max(1, n) }
    }
    return out
  }

  /** The connections of `consumer` on this peer, with their figures now. */
  rows (consumer: string): ConnectionRow[] {
    return [...this.held.values()].filter(h => h.consumer === consumer).map(h => row(h.name, h.target, h.ep.host, h.ep.port, h.ep.stats))
  }

  /** Where a new socket of `consumer`'s connection goes now: a running replica of the target. */
  route (consumer: string, conn: ConnectionDecl): TunnelRoute {
    const all = statusesOf(k => this.mesh.scan(k), conn.target)
    const from = all.length ? Math.floor(unitHash(consumer, conn.target) * all.length) % all.length : 0
    const alive = new Set(this.mesh.alive())
    for (const e of [...all.slice(from), ...all.slice(0, from)]) {
      const s = decodeStatus(e.value)
      if (s?.state !== 'running') continue
      const service = conn.service !== '' && conn.service in s.services ? conn.service : conn.service === '' ? Object.keys(s.services)[0] : undefined
      const svc = service !== undefined ? s.services[service] : undefined
      if (service === undefined || !svc) continue
      const cut = e.key.lastIndexOf('/')
      const peer = e.key.slice(cut + 1)
      const target = e.key.slice('status/'.length, cut)
      if (peer !== this.mesh.peerId && !alive.has(peer)) continue
      const request: TunnelRequest = { consumer, target, service }
      if (peer === this.mesh.peerId) return { local: { host: reachAt(svc.host), port: svc.port }, request }
      return { peer, request }
    }
    throw new Error(`connection ${conn.name} of ${consumer}: ${conn.target} is not running${conn.service ? ` with service "${conn.service}"` : ''} on any live peer`)
  }

  /** Serving side: may `peer` open `req`? Decided from the replica only. */
  authorize (peer: string, req: TunnelRequest): TunnelDecision {
    const me = this.mesh.peerId
    const st = decodeStatus(this.mesh.get(keys.status(req.target, me)))
    const svc = st?.state === 'running' ? st.services[req.service] : undefined
    if (!svc) return { refuse: `${req.target} does not run service "${req.service}" on peer ${me}` }
    if (svc.published === true) return { host: reachAt(svc.host), port: svc.port }
    // the opener must run the consumer: its claim key can only be written by that peer
    if (this.mesh.get(keys.claim(req.consumer, peer)) === undefined) return { refuse: `peer ${peer} does not run ${req.consumer}` }
    const want = wantAt(k => this.mesh.get(k), req.consumer)
    const tpl = want ? decodeTpl(this.mesh.get(keys.tpl(want.template))) : undefined
    const conns = tpl ? Object.values(specOf(tpl).connections) : []
    const named = conns.some(c => (c.target === req.target || req.target.startsWith(`${c.target}#`)) && (c.service === '' || c.service === req.service))
    if (!named) return { refuse: `${req.consumer} has no connection to ${req.target} service "${req.service}"` }
    return { host: reachAt(svc.host), port: svc.port }
  }

  /** Closes endpoints of instances no longer here; publishes figures when they changed. */
  private async housekeep (): Promise<void> {
    const me = this.mesh.peerId
    for (const [key, h] of this.held) {
      if (this.mesh.get(keys.claim(h.consumer, me)) !== undefined) continue
      this.held.delete(key)
      await this.mesh.tunnels.unlisten(h.ep).catch(() => {})
    }
    const connections: Record<string, Value> = {}
    for (const h of this.held.values()) {
      const list = (connections[h.consumer] ?? []) as Value[]
      list.push({ ...row(h.name, h.target, h.ep.host, h.ep.port, h.ep.stats) })
      connections[h.consumer] = list
    }
    const tunnels: Record<string, Value> = {}
    for (const [p, v] of Object.entries(this.live())) tunnels[p] = { ...v }
    const text = JSON.stringify({ connections, tunnels })
    if (text === this.published) return
    this.published = text
    await this.mesh.announce({ connections, tunnels }).catch(err => { this.log.warn({ err }, 'could not publish tunnel figures') })
  }
}

/** Where this peer connects to a service of its own: the instance's own loopback address (isolation, runnable/ports.ts), else the peer's loopback. */
function reachAt (host: string | undefined): string {
  return isInstanceAddress(host) ? host! : ENDPOINT_HOST
}

function row (name: string, target: string, host: string, port: number, s: EndpointStats): ConnectionRow {
  const state = s.active > 0 ? 'open' : s.failing ? 'failing' : 'idle'
  return { name, endpoint: `${host}:${port}`, target, peer: s.peer, state, bytesIn: s.bytesIn, bytesOut: s.bytesOut, active: s.active, ...(s.path !== '' ? { path: s.path } : {}), ...(s.lastError ? { lastError: s.lastError } : {}) }
}

/** The connections of `instance` as its peer published them in its record (`connections`). */
export function publishedConnections (record: unknown, instance: string): ConnectionRow[] {
  const all = isObj(record) && isObj(record.connections) ? record.connections[instance] : undefined
  if (!Array.isArray(all)) return []
  const out: ConnectionRow[] = []
  for (const r of all) {
    if (!isObj(r) || typeof r.name !== 'string' || typeof r.endpoint !== 'string' || typeof r.target !== 'string') continue
    const state = r.state === 'open' || r.state === 'failing' ? r.state : 'idle'
    out.push({ name: r.name, endpoint: r.endpoint, target: r.target, peer: typeof r.peer === 'string' ? r.peer : '', state, bytesIn: count(r.bytesIn), bytesOut: count(r.bytesOut), active: count(r.active), ...(r.path === 'raw' || r.path === 'stream' || r.path === 'local' ? { path: r.path } : {}), ...(typeof r.lastError === 'string' ? { lastError: r.lastError } : {}) })
  }
  return out
}

/** The peers a peer has live tunnels with, as it published them in its record (`tunnels`). */
export function publishedTunnels (record: unknown): Array<{ peer: string, out: number, in: number }> {
  const t = isObj(record) && isObj(record.tunnels) ? record.tunnels : {}
  return Object.entries(t).filter(([, v]) => isObj(v)).map(([peer, v]) => ({ peer, out: count((v as Record<string, unknown>).out), in: count((v as Record<string, unknown>).in) }))
}

const count = (v: unknown): number => typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0
