// Published services (spec §2.7.3) on this peer: each service's container port, the host port it is
// reached on (`host-port`, default the port), its protocol (tcp, udp; `custom` binds nothing) and
// whether it is published to every address (`publish: true`) or only to loopback: other peers'
// consumers reach an unpublished service through the overlay (DESIGN §10), which connects to it on
// the owner's loopback, so only the p2p port has to be open between machines.
// Before anything starts, the host ports are checked against the other instances of this peer, so
// two instances of one kit either get distinct host ports or a clear conflict error.
// Isolation (process runtime, and Docker containers on the host network): a TCP service that is
// neither published nor given a `host-port` is reached only through connections, so it gets an
// address of its instance's own on loopback (127.x.y.z from the instance's name, in the workload's
// MONK_SERVICE_HOST). Instances of one kit then listen on the same port side by side, each on its
// own address, without a conflict. A workload that listens on every address (0.0.0.0) instead holds
// the port on all of them: the next instance's start is refused with `port-taken` (probePorts)
// rather than its server failing to bind.
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { toPlain, truthy, type ArrowValue } from '../../grammar/arrow/index.js'
import type { ServiceDecl } from '../../grammar/monkscript/runnable-spec.js'
import type { ScopeVars } from '../../grammar/monkscript/variables.js'
import type { PortMapping, RuntimeKind } from '../runtime/runtime.js'
import { decodeStatus } from '../state.js'
import { RunnableError } from './errors.js'

export interface Binding {
  service: string
  container: string
  /** Port the workload listens on. */
  port: number
  /** Port on the peer the service is reached on. */
  hostPort: number
  protocol: 'tcp' | 'udp'
  publish: boolean
  /** The instance's own loopback address the service is reached on (isolation, see above); undefined: the peer's. */
  host?: string
}

/** Evaluates the services of a runnable into host bindings; `warn` gets what cannot be honoured. */
export async function bindings (services: readonly ServiceDecl[], firstContainer: string, vars: ScopeVars, evaluate: (v: unknown, vars: ScopeVars) => Promise<unknown>, kind: RuntimeKind, warn: (field: string, message: string) => void, instance?: string): Promise<Binding[]> {
  const out: Binding[] = []
  for (const s of services) {
    const field = `services.${s.name}`
    if (s.address !== undefined && s.address !== null) continue // lives outside containers: nothing binds here
    const protoV = await evaluate(s.protocol, vars)
    const protocol = protoV === null || protoV === undefined || protoV === '' ? 'tcp' : String(protoV).toLowerCase()
    if (protocol === 'custom') continue // a data endpoint: nothing listens
    if (protocol !== 'tcp' && protocol !== 'udp') throw new RunnableError('bad-service', `${field}.protocol must be tcp, udp or custom, got ${JSON.stringify(protoV)}`)
    const portV = await evaluate(s.port, vars)
    if (portV === null || portV === undefined || portV === '') continue // no port: nothing to bind (an address-only service)
    const port = portNumber(portV, `${field}.port`)
    const hpV = await evaluate(s.hostPort, vars)
    let hostPort = hpV === null || hpV === undefined || hpV === '' ? port : portNumber(hpV, `${field}.host-port`)
    const pubV = await evaluate(s.publish, vars)
    const publish = pubV !== null && pubV !== undefined && truthy(toPlain(pubV as ArrowValue) as ArrowValue)
    if (kind === 'process' && hostPort !== port) {
      warn(`${field}.host-port`, `host port ${hostPort} cannot be mapped to port ${port} by the process runtime (a process listens on its own port): the service is reached on ${port}`)
      hostPort = port
    }
    const own = instance !== undefined && (kind === 'process' || kind === 'docker') && protocol === 'tcp' && !publish && (hpV === null || hpV === undefined || hpV === '')
    out.push({ service: s.name, container: s.container ?? firstContainer, port, hostPort, protocol, publish, ...(own ? { host: instanceAddress(instance) } : {}) })
  }
  if (kind === 'docker') {
    // a container with a mapped port runs on a bridge network (dockerMappings): its services are
    // reached through the mapping on the peer's loopback, not on an address of its own
    const bridged = new Set(out.filter(b => b.hostPort !== b.port).map(b => b.container))
    for (const b of out) if (bridged.has(b.container)) delete b.host
  }
  return out
}

/** How long probePorts waits for a port to be let go before it calls it taken. */
const PROBE_WAIT_MS = 2000

/** Whether a TCP server can listen on host:port now (false only for EADDRINUSE). */
async function canListen (host: string, port: number): Promise<boolean> {
  const srv = createServer()
  srv.listen({ host, port, exclusive: true })
  const [err] = await Promise.race([once(srv, 'listening').then(() => [undefined]), once(srv, 'error')]) as [NodeJS.ErrnoException | undefined]
  if (err === undefined) await new Promise(resolve => { srv.close(resolve) })
  return err?.code !== 'EADDRINUSE'
}

/**
 * Checks that the own-address bindings of `container` (isolation) can be listened on now: a
 * workload on this peer that listens on every address (0.0.0.0) on that port holds it on the
 * instance's address too, and the new server would fail with EADDRINUSE. Throws `port-taken`
 * naming the service, port and address; call it after the instance's own old container is gone.
 */
export async function probePorts (instance: string, container: string, list: readonly Binding[], waitMs = PROBE_WAIT_MS): Promise<void> {
  for (const b of list) {
    if (b.container !== container || b.host === undefined || b.protocol !== 'tcp') continue
    // the instance's own old process may still be closing its socket: taken means taken for waitMs
    const until = Date.now() + waitMs
    while (!await canListen(b.host, b.port) && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 100))
    if (!await canListen(b.host, b.port)) {
      throw new RunnableError('port-taken', `${instance}: service ${b.service} needs port ${b.port}/tcp on its own address ${b.host}, but something on this peer already listens on that port, there or on every address (0.0.0.0), e.g. another instance of this kit whose server ignores $MONK_SERVICE_HOST; make the server listen on $MONK_SERVICE_HOST, or give the service a host-port`)
    }
  }
}

/**
 * The loopback address of an instance's own (process runtime, isolation): 127.a.b.c from a hash of
 * its name, outside 127.0.0.0/16 (127.0.0.1 is the peer's) and never a .0 or .255 last octet.
 * Linux routes all of 127.0.0.0/8 to the loopback interface, so nothing has to be configured.
 */
export function instanceAddress (instance: string): string {
  const h = createHash('sha256').update(instance).digest()
  return `127.${1 + (h[0]! % 254)}.${h[1]!}.${1 + (h[2]! % 254)}`
}

/** An address of an instance's own (see instanceAddress), not the peer's loopback or cluster address. */
export function isInstanceAddress (host: string | undefined): boolean {
  return host !== undefined && host.startsWith('127.') && !host.startsWith('127.0.')
}

/** Two bindings of one port clash unless each is on an address of its own instance, and they differ. */
function clash (a: string | undefined, b: string | undefined): boolean {
  return !(isInstanceAddress(a) && isInstanceAddress(b) && a !== b)
}

function portNumber (v: unknown, field: string): number {
  const n = typeof v === 'number' ? v : Number(String(v).trim())
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new RunnableError('bad-service', `${field} must be a port number 1-65535, got ${JSON.stringify(v)}`)
  return n
}

/**
 * Port mappings a Docker container needs for the bindings of `container`: only those reached on
 * another host port than the workload's (the others use the host network, where the workload's own
 * port is the host's). Bound to every address when published, else to loopback (the overlay
 * reaches it there for consumers on other peers).
 */
export function dockerMappings (list: readonly Binding[], container: string): PortMapping[] {
  return list.filter(b => b.container === container && b.hostPort !== b.port)
    .map(b => ({ hostIp: b.publish ? '0.0.0.0' : LOOPBACK, hostPort: b.hostPort, containerPort: b.port, protocol: b.protocol }))
}

/** Where an unpublished service is bound and reached on its own peer. */
export const LOOPBACK = '127.0.0.1'

/** Host ports held on this peer while instances start (the replica catches up after). */
export class HostPorts {
  private readonly held = new Map<string, Array<{ instance: string, service: string, host?: string }>>()

  /** Holds `list` for `instance` (replacing what it held); throws when another instance holds one. */
  claim (instance: string, list: readonly Binding[]): void {
    for (const b of list) {
      const h = this.held.get(`${b.protocol}/${b.hostPort}`)?.find(x => x.instance !== instance && clash(x.host, b.host))
      if (h) throw conflict(instance, b, h.instance, h.service)
    }
    this.release(instance)
    for (const b of list) {
      const k = `${b.protocol}/${b.hostPort}`
      this.held.set(k, [...this.held.get(k) ?? [], { instance, service: b.service, ...(b.host !== undefined ? { host: b.host } : {}) }])
    }
  }

  release (instance: string): void {
    for (const [k, hs] of this.held) {
      const left = hs.filter(h => h.instance !== instance)
      if (left.length) this.held.set(k, left)
      else this.held.delete(k)
    }
  }
}

function conflict (instance: string, b: Binding, other: string, service: string): RunnableError {
  return new RunnableError('port-conflict', `${instance}: service ${b.service} needs host port ${b.hostPort}/${b.protocol}, which ${other} (service ${service}) already uses on this peer; give one of them another host-port (e.g. --set with a variable the kit reads for host-port)`)
}

/** Checks `list` against the services the other instances of this peer publish in the replica. */
export function checkReplica (instance: string, me: string, list: readonly Binding[], scan: (prefix: string) => Array<{ key: string, value: unknown }>): void {
  for (const e of scan('status/')) {
    if (!e.key.endsWith(`/${me}`)) continue
    const other = e.key.slice('status/'.length, -(me.length + 1))
    if (other === instance) continue
    const st = decodeStatus(e.value)
    if (!st || st.state === 'stopped') continue
    for (const [service, svc] of Object.entries(st.services)) {
      const b = list.find(x => x.hostPort === svc.port && (svc.protocol === undefined || svc.protocol === x.protocol) && clash(svc.host, x.host))
      if (b) throw conflict(instance, b, other, service)
    }
  }
}
