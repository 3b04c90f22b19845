// The cloud host modules. `cloud/aws` signs each request with SigV4 from the cluster's sealed AWS
// credentials; `cloud/digitalocean` and `cloud/gcp` add a bearer token. The credentials stay in
// the daemon: the guest only ever sees the request it asked for and the answer, never a key.
import { createHash, createHmac } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import { EntityError } from '../errors.js'
import type { HostModule } from '../sandbox.js'
import { httpOptions, request, type HttpOptions } from './http.js'

export interface AwsKeys { accessKeyId: string, secretAccessKey: string, sessionToken?: string }

/** Where the cloud modules take credentials from: opened by the daemon at call time, undefined when the cluster has none. */
export interface CloudCredentials {
  aws?: () => AwsKeys | undefined
  /** A GCP OAuth access token and the project, from the sealed service account. */
  gcp?: () => Promise<{ token: string, project: string } | undefined>
  digitalocean?: () => string | undefined
}

type SourceData = string | ArrayBuffer | ArrayBufferView
const bytes = (d: SourceData): string | Uint8Array => typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength)

/** The sha256 the SigV4 signer wants, over node:crypto. */
class NodeHash {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>
  constructor (secret?: SourceData) { this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret)) }
  update (data: SourceData): void { this.h.update(bytes(data)) }
  digest (): Promise<Uint8Array> { return Promise.resolve(new Uint8Array(this.h.digest())) }
}

const missing = (kind: string, fn: string): EntityError => new EntityError('entity-failed', `${kind}.${fn}: the cluster has no ${kind} credentials (add them with monk cloud add)`)

/** `cloud/aws`: get/post/put/delete/do(url, {service, region, method, headers, body}). */
export function awsModule (creds: CloudCredentials, fetchImpl: typeof fetch = fetch): HostModule {
  const send = async (fn: string, method: string | undefined, url: unknown, opts: unknown): Promise<unknown> => {
    const keys = creds.aws?.()
    if (!keys) throw missing('aws', fn)
    const o = (opts !== null && typeof opts === 'object' ? opts : {}) as Record<string, unknown>
    const h: HttpOptions = { ...httpOptions(opts), ...(method !== undefined ? { method } : {}) }
    const u = new URL(String(url))
    const service = typeof o.service === 'string' ? o.service : u.hostname.split('.')[0] ?? 's3'
    const region = typeof o.region === 'string' ? o.region : 'us-east-1'
    const signer = new SignatureV4({ service, region, sha256: NodeHash, credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, ...(keys.sessionToken !== undefined ? { sessionToken: keys.sessionToken } : {}) } })
    const query: Record<string, string> = {}
    u.searchParams.forEach((v, k) => { query[k] = v })
    const signed = await signer.sign({
      method: h.method ?? 'GET', protocol: u.protocol, hostname: u.hostname, ...(u.port !== '' ? { port: Number(u.port) } : {}), path: u.pathname, query,
      headers: { host: u.host, ...(h.headers ?? {}) }, ...(h.body !== undefined ? { body: h.body } : {}),
    })
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') headers[k] = v
    return await request(u.toString(), { ...h, headers }, fetchImpl)
  }
  const verb = (method: string | undefined, fn: string) => (url: unknown, opts: unknown) => send(fn, method, url, opts)
  return { get: verb('GET', 'get'), post: verb('POST', 'post'), put: verb('PUT', 'put'), delete: verb('DELETE', 'delete'), do: verb(undefined, 'do') }
}

/** `cloud/digitalocean`: bearer token from the sealed credentials (or the call's `token`); relative URLs go to `base`. */
export function digitaloceanModule (creds: CloudCredentials, base = 'https://api.digitalocean.com', fetchImpl: typeof fetch = fetch): HostModule {
  const send = async (fn: string, method: string | undefined, url: unknown, opts: unknown): Promise<unknown> => {
    const o = (opts !== null && typeof opts === 'object' ? opts : {}) as Record<string, unknown>
    const token = typeof o.token === 'string' ? o.token : creds.digitalocean?.()
    if (token === undefined) throw missing('digitalocean', fn)
    const h = httpOptions(opts)
    const u = /^https?:\/\//.test(String(url)) ? String(url) : `${base.replace(/\/$/, '')}/${String(url).replace(/^\//, '')}`
    return await request(u, { ...h, ...(method !== undefined ? { method } : {}), headers: { 'Content-Type': 'application/json', ...(h.headers ?? {}), Authorization: `Bearer ${token}` } }, fetchImpl)
  }
  const verb = (method: string | undefined, fn: string) => (url: unknown, opts: unknown) => send(fn, method, url, opts)
  return { get: verb('GET', 'get'), post: verb('POST', 'post'), put: verb('PUT', 'put'), delete: verb('DELETE', 'delete'), do: verb(undefined, 'do') }
}

/** `cloud/gcp`: bearer token of the sealed service account; getProject(). */
export function gcpModule (creds: CloudCredentials, fetchImpl: typeof fetch = fetch): HostModule {
  const auth = async (fn: string): Promise<{ token: string, project: string }> => {
    const a = await creds.gcp?.()
    if (!a) throw missing('gcp', fn)
    return a
  }
  const send = async (fn: string, method: string | undefined, url: unknown, opts: unknown): Promise<unknown> => {
    const { token } = await auth(fn)
    const h = httpOptions(opts)
    return await request(String(url), { ...h, ...(method !== undefined ? { method } : {}), headers: { ...(h.headers ?? {}), Authorization: `Bearer ${token}` } }, fetchImpl)
  }
  const verb = (method: string | undefined, fn: string) => (url: unknown, opts: unknown) => send(fn, method, url, opts)
  return { get: verb('GET', 'get'), post: verb('POST', 'post'), put: verb('PUT', 'put'), delete: verb('DELETE', 'delete'), do: verb(undefined, 'do'), getProject: async () => (await auth('getProject')).project }
}

/** `cloud/azure`: monk has no Azure provider, so every call says so instead of pretending. */
export function azureModule (): HostModule {
  const no = (fn: string) => () => { throw new EntityError('entity-not-supported', `cloud/azure.${fn}: Azure is not supported by monk (no Azure provider credentials can be added)`) }
  return Object.fromEntries(['get', 'post', 'put', 'delete', 'do', 'getSubscription', 'getResourceGroup', 'getTenant'].map(f => [f, no(f)]))
}
