// The Arrow host of one runnable: what its scripts (variables, checks, actions) may reach outside
// the interpreter: its permitted secrets, exec into its own containers, other runnables' published
// services and placement (read from the replica), HTTP, `act`, and time (the injected clock).
import { ArrowError, toPlain, type ArrowHost, type ArrowValue } from '../../grammar/arrow/index.js'
import { normalisePath } from '../paths.js'
import { decodeStatus, keys, statusesOf } from '../state.js'
import { secretScope } from '../secrets.js'
import { unitHash } from '../rendezvous.js'
import { entityOperators } from '../entity/arrow-host.js'
import type { InstanceContext, Template } from './context.js'

const HTTP_TIMEOUT_MS = 10_000

/** `opened`: collects every secret value the scripts read through this host (start.ts keeps them out of container configs). */
export function runnableHost (ctx: InstanceContext, t: Template, opened?: Set<string>): ArrowHost {
  const d = ctx.d
  const { spec } = t
  const containers = spec.containers.map(c => c.name)
  const endpoint = async (name: string): Promise<{ host: string, port: number }> => {
    const c = spec.connections[name]
    if (!c) throw new ArrowError('host-error', `${spec.path} has no connection "${name}"`)
    // a scaled target: any live replica, starting from one chosen by this instance (callers spread)
    const all = statusesOf(d.scan, c.target)
    const from = all.length ? Math.floor(unitHash(ctx.instance, c.target) * all.length) % all.length : 0
    for (const e of [...all.slice(from), ...all.slice(0, from)]) {
      const s = decodeStatus(e.value)
      const svc = s?.services[c.service] ?? Object.values(s?.services ?? {})[0]
      if (s?.state !== 'running' || !svc) continue
      // a TCP service goes through the overlay: a local endpoint that stays put when the target
      // moves (DESIGN §10). A `custom` data endpoint or a service with its own `address` is
      // where it says it is; UDP is not carried by the tunnel
      if (svc.protocol === 'udp') throw new ArrowError('host-error', `connection ${name}: ${c.target} service "${c.service || Object.keys(s.services)[0]}" is UDP; the overlay carries TCP only, so a UDP connection cannot be given an address`)
      if (svc.protocol === 'tcp' && d.overlay) {
        try {
          return await d.overlay.endpoint(ctx.instance, c)
        } catch (err) {
          throw new ArrowError('host-error', `connection ${name}: cannot open its local endpoint: ${(err as Error).message}`)
        }
      }
      return svc
    }
    throw new ArrowError('host-error', `connection ${name}: ${c.target} is not running (no published service "${c.service}")`)
  }
  const hostOfRunnable = (runnable: string): string => {
    const claims = d.scan(keys.claimPrefix(normalisePath(runnable)))
    const peer = claims[0]?.key.slice(claims[0].key.lastIndexOf('/') + 1)
    if (!peer) throw new ArrowError('host-error', `${runnable} is not running anywhere`)
    return d.hostOf(peer)
  }
  return {
    ...entityOperators({ get: k => d.get(k), scan: p => d.scan(p) }, ctx.instance, t.tpl.value),
    secret (name: string): string | null {
      if (!spec.permittedSecrets.includes(name)) throw new ArrowError('host-error', `${spec.path} may not read secret "${name}": list it under permitted-secrets`)
      const scope = secretScope(k => d.get(k), spec.path, ctx.instance, name)
      if (scope !== undefined) {
        const value = d.secrets.open(scope, name, d.get(keys.secret(scope, name)))
        if (value !== '') opened?.add(value)
        return value
      }
      throw new ArrowError('host-error', `secret "${name}" does not exist (add it with monk secrets add)`)
    },
    async exec (args: string[]): Promise<string> {
      let cname = args[0] ?? ''
      let cmd = args.slice(1)
      if (!containers.includes(cname) && args.length > 2 && containers.includes(args[1] ?? '')) { cname = args[1] ?? ''; cmd = args.slice(2) }
      if (!containers.includes(cname)) throw new ArrowError('host-error', `exec: ${spec.path} has no container "${cname}" (containers: ${containers.join(', ')})`)
      const c = await ctx.pick(cname)
      return (await d.runtime.exec(c.id, cmd)).stdout
    },
    containerName: (c: string) => ctx.nameOf(c),
    getHostname: (runnable: string) => hostOfRunnable(runnable),
    peerIpAddress: (runnable: string) => hostOfRunnable(runnable),
    localIp: () => d.hostOf(d.peerId),
    connectionHostname: async (name: string) => (await endpoint(name)).host,
    connectionIp: async (name: string) => (await endpoint(name)).host,
    connectionPort: async (name: string) => (await endpoint(name)).port,
    // no DNS is served (README, "Connections: the overlay"): the name is the endpoint's address
    connectionDomainName: async (name: string) => (await endpoint(name)).host,
    servicePort: (runnable: string, service: string) => {
      for (const e of statusesOf(d.scan, normalisePath(runnable))) { const p = decodeStatus(e.value)?.services[service]?.port; if (p !== undefined) return p }
      throw new ArrowError('host-error', `service-port: ${runnable} publishes no service "${service}"`)
    },
    runnablePeers: (runnable: string) => d.scan(keys.claimPrefix(normalisePath(runnable))).map(e => e.key.slice(e.key.lastIndexOf('/') + 1)),
    async httpGet (url: string): Promise<string | null> {
      try { const r = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) }); return await r.text() } catch { return null }
    },
    async httpPost (url: string, body: ArrowValue): Promise<string | null> {
      try { const r = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(toPlain(body)), signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) }); return await r.text() } catch { return null }
    },
    act: (path: string, args) => d.act(path, Object.fromEntries(Object.entries(args))),
    sleep: (ms: number) => new Promise<void>(resolve => { ctx.clock.setTimeout(resolve, ms) }),
  }
}
