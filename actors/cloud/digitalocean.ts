// DigitalOcean (dots-wrapper, API v2): droplets create/get/list/delete with cloud-init user_data and
// tags (`monk-cluster:<id>`, `monk-node:<name>`), and a cloud firewall applied by the cluster tag
// that opens the p2p port. dots-wrapper answers raw axios responses and throws raw axios errors;
// the errors are turned into ProviderErrors at once because they carry the Authorization header.
import { isObj } from '../values.js'
import { REQUEST_TIMEOUT_MS, UBUNTU } from './defaults.js'
import { clip, ProviderError, redact, type ProviderErrorCode } from './errors.js'
import { LABEL_CLUSTER, LABEL_NODE, type DigitalOceanCredentials, type Location, type Machine, type MachineRef, type MachineSpec, type MachineState, type Provider, type ProviderOptions } from './provider.js'


export async function openDigitalOcean (creds: DigitalOceanCredentials, options: ProviderOptions): Promise<Provider> {
  const { createApiClient } = await import('dots-wrapper')
  const secrets = [creds.token]
  const endpoint = options.endpoint ? options.endpoint.replace(/\/+$/, '').replace(/(?<!\/v2)$/, '/v2') : undefined
  const dots = createApiClient({ token: creds.token, requestTimeoutInMs: REQUEST_TIMEOUT_MS, ...(endpoint ? { endpoint } : {}) })
  const walls = new Map<string, Promise<void>>()

  const call = async <T>(operation: string, what: string, fn: () => Promise<T>): Promise<T> => {
    try { return await fn() } catch (err) { throw mapError(operation, what, err, secrets) }
  }

  const firewall = (cluster: string, port: number): Promise<void> => {
    const name = `monk-${cluster}-p2p`
    let p = walls.get(name)
    if (!p) {
      p = (async () => {
        for (let page = 1; ; page++) {
          const r = await call('listFirewalls', `firewall ${name}`, () => dots.firewall.listFirewalls({ page, per_page: 200 }))
          if (r.data.firewalls.some(f => f.name === name)) return
          if (!(r.data.links as { pages?: { next?: string } } | undefined)?.pages?.next) break
        }
        const everywhere = { addresses: ['0.0.0.0/0', '::/0'] }
        try {
          await dots.firewall.createFirewall({
            name,
            tags: [`${LABEL_CLUSTER}:${cluster}`],
            inbound_rules: [{ protocol: 'tcp', ports: String(port), sources: everywhere }],
            outbound_rules: [{ protocol: 'tcp', ports: 'all', destinations: everywhere }, { protocol: 'udp', ports: 'all', destinations: everywhere }, { protocol: 'icmp', ports: 'all', destinations: everywhere }],
          })
        } catch (err) {
          const m = mapError('createFirewall', `firewall ${name}`, err, secrets)
          if (m.providerCode !== 'conflict') throw m
        }
      })()
      p.catch(() => walls.delete(name))
      walls.set(name, p)
    }
    return p
  }

  return {
    kind: 'digitalocean',
    async create (spec: MachineSpec): Promise<Machine> {
      const what = `${spec.name} in ${spec.region}`
      await firewall(spec.cluster, spec.p2pPort)
      const r = await call('createDroplet', what, () => dots.droplet.createDroplet({
        name: spec.name,
        region: spec.region,
        size: spec.instanceType,
        image: spec.image ?? UBUNTU.digitalocean,
        tags: [`${LABEL_CLUSTER}:${spec.cluster}`, `${LABEL_NODE}:${spec.name}`],
        user_data: spec.boot.cloudConfig,
        ...(spec.keyPair ? { ssh_keys: [spec.keyPair] } : {}),
        monitoring: false,
      }))
      return toMachine(r.data.droplet)
    },
    async describe (ref: MachineRef): Promise<Machine | null> {
      const id = Number(ref.id)
      if (!Number.isSafeInteger(id)) return null
      try {
        const r = await call('getDroplet', `droplet ${ref.id}`, () => dots.droplet.getDroplet({ droplet_id: id }))
        return toMachine(r.data.droplet)
      } catch (err) {
        if (err instanceof ProviderError && err.code === 'not-found') return null
        throw err
      }
    },
    async list (cluster: string, _where: Location): Promise<Machine[]> {
      const out: Machine[] = []
      for (let page = 1; ; page++) {
        const r = await call('listDroplets', `droplets of cluster ${cluster}`, () => dots.droplet.listDroplets({ page, per_page: 200, tag_name: `${LABEL_CLUSTER}:${cluster}` }))
        out.push(...r.data.droplets.map(d => toMachine(d)))
        if (!(r.data.links as { pages?: { next?: string } } | undefined)?.pages?.next) break
      }
      return out
    },
    async destroy (ref: MachineRef): Promise<void> {
      const id = Number(ref.id)
      if (!Number.isSafeInteger(id)) return
      try {
        await call('deleteDroplet', `droplet ${ref.id}`, () => dots.droplet.deleteDroplet({ droplet_id: id }))
      } catch (err) {
        if (err instanceof ProviderError && err.code === 'not-found') return
        throw err
      }
    },
    async close (): Promise<void> {},
  }
}

/** A droplet of the API (read defensively: the SDK's typings and the API disagree on some fields). */
function toMachine (raw: unknown): Machine {
  const d = isObj(raw) ? raw : {}
  const region = typeof d.region === 'string' ? d.region : isObj(d.region) && typeof d.region.slug === 'string' ? d.region.slug : ''
  const tags = Array.isArray(d.tags) ? d.tags.filter((t): t is string => typeof t === 'string') : []
  const nodeTag = tags.find(t => t.startsWith(`${LABEL_NODE}:`))
  const v4 = isObj(d.networks) && Array.isArray(d.networks.v4) ? d.networks.v4.filter(isObj) : []
  const ip = (v4.find(n => n.type === 'public') ?? v4[0])?.ip_address
  return {
    id: String(d.id),
    name: nodeTag ? nodeTag.slice(LABEL_NODE.length + 1) : '',
    state: stateOf(typeof d.status === 'string' ? d.status : ''),
    address: typeof ip === 'string' ? ip : null,
    region,
    zone: null,
  }
}

function stateOf (s: string): MachineState {
  switch (s) {
    case 'active': return 'running'
    case 'off': return 'stopping'
    case 'archive': return 'terminated'
    default: return 'pending'
  }
}

/** An axios error as a ProviderError: DigitalOcean's `{id, message}`, never the request config (it holds the token). */
function mapError (operation: string, what: string, err: unknown, secrets: string[]): ProviderError {
  if (err instanceof ProviderError) return err
  const e = err as { response?: { status?: number, data?: { id?: string, message?: string } }, code?: string, message?: string }
  const status = e.response?.status ?? 0
  const id = e.response?.data?.id ?? (e.code !== undefined ? String(e.code) : 'Error')
  const text = clip(redact(e.response?.data?.message ?? String(e.message ?? err), secrets))
  let code: ProviderErrorCode = 'failed'
  if (status === 401 || status === 403) code = 'bad-credentials'
  else if (status === 404) code = 'not-found'
  else if (status === 422 && /limit/i.test(text)) code = 'quota'
  else if (status === 422 && /region/i.test(text)) code = 'bad-region'
  else if (status === 422 || status === 400) code = 'invalid-spec'
  else if (status === 429 || status >= 500) code = 'unavailable'
  else if (status === 0 && /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ECONNABORTED|EAI_AGAIN|ENOTFOUND|timeout|socket hang up/i.test(`${String(e.code)} ${text}`)) code = 'unavailable'
  return new ProviderError({ code, provider: 'digitalocean', operation, providerCode: id, message: `digitalocean ${operation} for ${what} failed: ${status > 0 ? `${status} ` : ''}${id}: ${text}` })
}
