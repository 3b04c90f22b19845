// Google Compute Engine (@google-cloud/compute, REST transport): instances insert/get/list/delete
// with the bootstrap as `startup-script` metadata, labels, and a firewall rule opening the p2p
// port to instances tagged with the cluster. Authenticates with a service-account key (self-signed
// JWT). The SDK is 144 MB and takes 1-2 s to import, so it is only loaded when a gcp node is driven.
import { createHash, createSign } from 'node:crypto'
import type { protos } from '@google-cloud/compute'
import type { AuthClient, gaxios } from 'google-auth-library'
import { REQUEST_TIMEOUT_MS, UBUNTU } from './defaults.js'
import { clip, CredentialsError, ProviderError, redact, type ProviderErrorCode } from './errors.js'
import { isObj } from '../values.js'
import { LABEL_CLUSTER, LABEL_NODE, type GcpCredentials, type Location, type Machine, type MachineRef, type MachineSpec, type MachineState, type Provider, type ProviderOptions } from './provider.js'

type Instance = protos.google.cloud.compute.v1.IInstance
/** What monk reads of a compute Operation (the SDK's IOperation fits it). */
interface Operation {
  name?: string | null
  status?: unknown
  error?: { errors?: Array<{ code?: string | null, message?: string | null }> | null } | null
}

/**
 * The compute Operation an insert/delete started. The REST transport returns it as the LRO's
 * `latestResponse`, which google-gax types as a longrunning.Operation: read it defensively.
 */
function latestOf (lro: unknown): Operation | undefined {
  const l = isObj(lro) && isObj(lro.latestResponse) ? lro.latestResponse : undefined
  if (l === undefined) return undefined
  const errors = isObj(l.error) && Array.isArray(l.error.errors)
    ? l.error.errors.filter(isObj).map(e => ({ code: typeof e.code === 'string' ? e.code : null, message: typeof e.message === 'string' ? e.message : null }))
    : []
  return { name: typeof l.name === 'string' ? l.name : null, status: l.status, ...(errors.length ? { error: { errors } } : {}) }
}

export async function openGcp (creds: GcpCredentials, options: ProviderOptions): Promise<Provider> {
  let sa: { client_email?: string, private_key?: string, private_key_id?: string, project_id?: string }
  try { sa = JSON.parse(creds.serviceAccount) as typeof sa } catch { throw new CredentialsError('bad-credentials-input', 'the GCP service account key is not JSON') }
  if (!sa.client_email || !sa.private_key) throw new CredentialsError('bad-credentials-input', 'the GCP service account key has no client_email or private_key')
  const project = options.project ?? sa.project_id
  if (!project) throw new CredentialsError('bad-credentials-input', 'no GCP project: the key has no project_id and no project option was given')
  const secrets = [creds.serviceAccount, sa.private_key, ...(sa.private_key_id ? [sa.private_key_id] : []), ...sa.private_key.split('\n').filter(l => l.length >= 40 && !l.startsWith('-----'))]

  const compute = await import('@google-cloud/compute')
  const endpoint = options.endpoint ? new URL(options.endpoint) : null
  const common = {
    projectId: project,
    authClient: await selfSignedAuth(sa.client_email, sa.private_key, sa.private_key_id),
    fallback: true as const,
    ...(endpoint ? { apiEndpoint: endpoint.hostname, port: Number(endpoint.port || (endpoint.protocol === 'https:' ? 443 : 80)), protocol: endpoint.protocol.replace(':', '') } : {}),
  }
  const instances = new compute.InstancesClient(common)
  const zoneOps = new compute.ZoneOperationsClient(common)
  const firewalls = new compute.FirewallsClient(common)
  const globalOps = new compute.GlobalOperationsClient(common)
  const callOpts = { timeout: REQUEST_TIMEOUT_MS, retry: null }
  const rules = new Map<string, Promise<void>>()

  const call = async <T>(operation: string, what: string, fn: () => Promise<T>): Promise<T> => {
    try { return await fn() } catch (err) { throw mapError(operation, what, err, secrets) }
  }

  /** Waits for a zone operation (wait returns after at most ~2 min; loop until DONE) and turns its error into a ProviderError. */
  const waitZone = async (zone: string, op: Operation | null | undefined, operation: string, what: string): Promise<void> => {
    let cur = op
    for (let i = 0; cur?.status !== 'DONE' && i < 10; i++) {
      if (!cur?.name) break
      const name = cur.name
      ;[cur] = await call(`${operation} (wait)`, what, () => zoneOps.wait({ project, zone, operation: name }, callOpts))
    }
    checkOp(cur, operation, what, secrets)
  }

  const firewall = (cluster: string, port: number): Promise<void> => {
    const name = `monk-${cluster}-p2p`
    let p = rules.get(name)
    if (!p) {
      p = (async () => {
        try {
          await firewalls.get({ project, firewall: name }, callOpts)
          return
        } catch (err) {
          const m = mapError('firewalls.get', `firewall ${name}`, err, secrets)
          if (m.code !== 'not-found') throw m
        }
        try {
          const [op] = await firewalls.insert({ project, firewallResource: { name, network: 'global/networks/default', direction: 'INGRESS', allowed: [{ IPProtocol: 'tcp', ports: [String(port)] }], sourceRanges: ['0.0.0.0/0'], targetTags: [`monk-${cluster}`], description: `monk cluster ${cluster}: p2p port ${port}` } }, callOpts)
          const latest = latestOf(op)
          if (latest?.name && latest.status !== 'DONE') {
            const [done] = await globalOps.wait({ project, operation: latest.name }, callOpts)
            checkOp(done, 'firewalls.insert', `firewall ${name}`, secrets)
          } else checkOp(latest, 'firewalls.insert', `firewall ${name}`, secrets)
        } catch (err) {
          const m = err instanceof ProviderError ? err : mapError('firewalls.insert', `firewall ${name}`, err, secrets)
          if (m.providerCode !== 'alreadyExists') throw m
        }
      })()
      p.catch(() => rules.delete(name))
      rules.set(name, p)
    }
    return p
  }

  const zoneOf = (l: Location): string => l.zone ?? `${l.region}-a`

  const get = async (zone: string, name: string): Promise<Machine | null> => {
    try {
      const [i] = await instances.get({ project, zone, instance: name }, callOpts)
      return toMachine(i, zone)
    } catch (err) {
      const m = mapError('instances.get', `instance ${name} in ${zone}`, err, secrets)
      if (m.code === 'not-found') return null
      throw m
    }
  }

  return {
    kind: 'gcp',
    async create (spec: MachineSpec): Promise<Machine> {
      const zone = zoneOf(spec)
      const what = `${spec.name} in ${zone}`
      await firewall(spec.cluster, spec.p2pPort)
      const resource: protos.google.cloud.compute.v1.IInstance = {
        name: spec.name,
        machineType: `zones/${zone}/machineTypes/${spec.instanceType}`,
        labels: { [LABEL_CLUSTER]: spec.cluster, [LABEL_NODE]: spec.name },
        tags: { items: [`monk-${spec.cluster}`] },
        metadata: { items: [{ key: 'startup-script', value: spec.boot.script }] },
        disks: [{ boot: true, autoDelete: true, initializeParams: { sourceImage: spec.image ?? UBUNTU.gcpImage, diskSizeGb: String(spec.diskGb) } }],
        networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] }],
      }
      try {
        const [op] = await instances.insert({ project, zone, instanceResource: resource, requestId: uuidOf(spec.idempotencyToken) }, callOpts)
        await waitZone(zone, latestOf(op), 'instances.insert', what)
      } catch (err) {
        const m = err instanceof ProviderError ? err : mapError('instances.insert', what, err, secrets)
        if (m.providerCode !== 'alreadyExists') throw m
      }
      const made = await get(zone, spec.name)
      if (!made) throw new ProviderError({ code: 'failed', provider: 'gcp', operation: 'instances.insert', providerCode: 'Vanished', message: `gcp instances.insert for ${what}: the instance is not there after the insert completed` })
      return made
    },
    async describe (ref: MachineRef): Promise<Machine | null> {
      return await get(zoneOf(ref), ref.id)
    },
    async list (cluster: string, where: Location): Promise<Machine[]> {
      const zone = zoneOf(where)
      const [items] = await call('instances.list', `instances of cluster ${cluster} in ${zone}`, () => instances.list({ project, zone, filter: `labels.${LABEL_CLUSTER} = "${cluster}"` }, { ...callOpts, autoPaginate: true }))
      return items.map(i => toMachine(i, zone))
    },
    async destroy (ref: MachineRef): Promise<void> {
      const zone = zoneOf(ref)
      try {
        const [op] = await instances.delete({ project, zone, instance: ref.id }, callOpts)
        await waitZone(zone, latestOf(op), 'instances.delete', `instance ${ref.id} in ${zone}`)
      } catch (err) {
        const m = err instanceof ProviderError ? err : mapError('instances.delete', `instance ${ref.id} in ${zone}`, err, secrets)
        if (m.code !== 'not-found') throw m
      }
    },
    async forgetBoot (ref: MachineRef): Promise<void> {
      const zone = zoneOf(ref)
      const what = `instance ${ref.id} in ${zone}`
      const [i] = await call('instances.get', what, () => instances.get({ project, zone, instance: ref.id }, callOpts))
      const items = i.metadata?.items ?? []
      if (!items.some(x => x.key === 'startup-script')) return
      const [op] = await call('instances.setMetadata', what, () => instances.setMetadata({
        project, zone, instance: ref.id,
        metadataResource: { fingerprint: i.metadata?.fingerprint ?? null, items: items.filter(x => x.key !== 'startup-script') },
      }, callOpts))
      await waitZone(zone, latestOf(op), 'instances.setMetadata', what)
    },
    async close (): Promise<void> {
      await Promise.all([instances.close(), zoneOps.close(), firewalls.close(), globalOps.close()].map(p => p.catch(() => {})))
    },
  }
}

/**
 * Google's "self-signed JWT" authentication for service accounts: an RS256 JWT with the API as
 * audience, signed with the key and sent as the bearer token; no token exchange, so no call to
 * oauth2.googleapis.com. A subclass of the library's own AuthClient, so the SDK takes it as its
 * `authClient`; google-gax's REST transport sends through its `fetch`, which the base class routes
 * to `request`. The library is loaded with the SDK (it is the SDK's, pinned by google-gax).
 */
async function selfSignedAuth (email: string, key: string, keyId: string | undefined): Promise<AuthClient> {
  const { AuthClient } = await import('google-auth-library')
  let cached: { token: string, exp: number } | null = null
  const token = (): string => {
    const now = Math.floor(Date.now() / 1000)
    if (cached && cached.exp - 300 > now) return cached.token
    const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
    const head = b64({ alg: 'RS256', typ: 'JWT', ...(keyId ? { kid: keyId } : {}) })
    const body = b64({ iss: email, sub: email, aud: 'https://compute.googleapis.com/', iat: now, exp: now + 3600 })
    const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key).toString('base64url')
    cached = { token: `${head}.${body}.${sig}`, exp: now + 3600 }
    return cached.token
  }
  class SelfSignedJwt extends AuthClient {
    async getRequestHeaders (): Promise<Headers> {
      return new Headers({ authorization: `Bearer ${token()}` })
    }

    async getAccessToken (): Promise<{ token: string }> {
      return { token: token() }
    }

    async request<T> (opts: gaxios.GaxiosOptions): gaxios.GaxiosPromise<T> {
      const headers = new Headers(opts.headers)
      headers.set('authorization', `Bearer ${token()}`)
      return await this.transporter.request<T>({ ...opts, headers })
    }
  }
  return new SelfSignedJwt()
}

function toMachine (i: Instance, zone: string): Machine {
  const nic = i.networkInterfaces?.[0]
  return {
    id: i.name ?? '',
    name: i.labels?.[LABEL_NODE] ?? '',
    state: stateOf(i.status),
    address: nic?.accessConfigs?.[0]?.natIP ?? nic?.networkIP ?? null,
    region: zone.replace(/-[a-z]$/, ''),
    zone,
  }
}

function stateOf (s: string | null | undefined): MachineState {
  switch (s) {
    case 'RUNNING': return 'running'
    case 'STOPPING': case 'SUSPENDING': case 'SUSPENDED': case 'STOPPED': return 'stopping'
    case 'TERMINATED': return 'terminated'
    default: return 'pending'
  }
}

/** A request id GCE accepts (a UUID) derived from our idempotency token: retries of one create dedupe. */
function uuidOf (token: string): string {
  const h = createHash('sha256').update(token).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

function checkOp (op: Operation | null | undefined, operation: string, what: string, secrets: string[]): void {
  const e = op?.error?.errors?.[0]
  if (!e) return
  const providerCode = e.code ?? 'OperationError'
  const text = clip(redact(e.message ?? '', secrets))
  let code: ProviderErrorCode = 'failed'
  if (/QUOTA/.test(providerCode)) code = 'quota'
  else if (/RESOURCE_POOL_EXHAUSTED|UNAVAILABLE|INTERNAL/.test(providerCode)) code = 'unavailable'
  else if (/NOT_FOUND/.test(providerCode)) code = /zones?\//.test(text) && !/instances\//.test(text) ? 'bad-region' : 'not-found'
  else if (/INVALID|BAD_REQUEST/.test(providerCode)) code = 'invalid-spec'
  else if (/PERMISSION|FORBIDDEN/.test(providerCode)) code = 'bad-credentials'
  throw new ProviderError({ code, provider: 'gcp', operation, providerCode, message: `gcp ${operation} for ${what} failed: ${providerCode}: ${text}` })
}

/** A google-gax error (REST fallback) as a ProviderError; the error object itself is dropped (it holds the request). */
function mapError (operation: string, what: string, err: unknown, secrets: string[]): ProviderError {
  if (err instanceof ProviderError) return err
  const e = err as { code?: unknown, message?: unknown, status?: unknown }
  let status = typeof e.code === 'number' ? e.code : 0
  let text = String(e.message ?? err)
  let reason = ''
  try {
    const j = JSON.parse(text) as { error?: { code?: number, message?: string, errors?: Array<{ reason?: string }> } }
    if (j.error) {
      status = j.error.code ?? status
      text = j.error.message ?? text
      reason = j.error.errors?.[0]?.reason ?? ''
    }
  } catch { /* not JSON */ }
  // google-gax maps HTTP to gRPC codes in some paths: 5 NOT_FOUND, 16 UNAUTHENTICATED, 7 PERMISSION_DENIED, 14 UNAVAILABLE, 8 RESOURCE_EXHAUSTED, 6 ALREADY_EXISTS
  const grpc: Record<number, number> = { 5: 404, 16: 401, 7: 403, 14: 503, 8: 429, 6: 409, 10: 409, 3: 400, 9: 400, 13: 500, 4: 504, 2: 500 }
  if (status > 0 && status < 20) status = grpc[status] ?? status
  text = clip(redact(text, secrets))
  const networkDown = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up|fetch failed|network/i.test(text)
  let code: ProviderErrorCode = 'failed'
  if (status === 404) code = /zones\/[^/']+'? was not found|zones\/[^/']+$/.test(text) && !/instances\//.test(text) ? 'bad-region' : 'not-found'
  else if (status === 401) code = 'bad-credentials'
  else if (status === 403) code = /quota/i.test(text) || /quota/i.test(reason) ? 'quota' : 'bad-credentials'
  else if (status === 409) code = 'invalid-spec'
  else if (status === 429 || status >= 500 || networkDown) code = 'unavailable'
  else if (status === 400) code = 'invalid-spec'
  if (reason === '' && status === 409 && /already exists/i.test(text)) reason = 'alreadyExists'
  const providerCode = reason !== '' ? reason : status > 0 ? `HTTP ${status}` : 'Error'
  return new ProviderError({ code, provider: 'gcp', operation, providerCode, message: `gcp ${operation} for ${what} failed: ${providerCode}: ${text}` })
}
