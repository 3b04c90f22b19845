// Local fakes entity tests talk to, all on 127.0.0.1: an HTTP API with state (items by id), an
// S3-style bucket API that checks each request's SigV4 Authorization and x-amz-date headers on its
// own (an independent verifier written from the AWS signing steps), and a webhook endpoint.
import { createHash, createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Seen { method: string, path: string, headers: IncomingMessage['headers'], body: string }

abstract class Fake {
  readonly seen: Seen[] = []
  private server: Server | null = null
  port = 0
  get url (): string { return `http://127.0.0.1:${this.port}` }
  async start (): Promise<this> {
    this.server = createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (c: string) => { body += c })
      req.on('end', () => {
        const s = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body }
        this.seen.push(s)
        Promise.resolve(this.handle(s, res)).catch((err: unknown) => { res.writeHead(500); res.end(String(err)) })
      })
    })
    await new Promise<void>(resolve => this.server!.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    return this
  }
  async stop (): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise<void>(resolve => { if (this.server) this.server.close(() => resolve()); else resolve() })
  }
  protected abstract handle (s: Seen, res: ServerResponse): void | Promise<void>
}

const json = (res: ServerResponse, status: number, v: unknown): void => { res.writeHead(status, { 'content-type': 'application/json', 'x-fake': 'yes' }); res.end(JSON.stringify(v)) }

/**
 * An API of items: POST /items {name} → 201 {id}; GET /items/:id → 200 | 404; PUT /items/:id;
 * DELETE /items/:id. Requests need `Authorization: Bearer <token>` (else 401). GET /items/:id
 * answers 503 for the first `notReadyFor` reads of an item (readiness retries).
 */
export class FakeApi extends Fake {
  /** Requests of `METHOD` on /items (create is POST). */
  count (method: string): number { return this.seen.filter(s => s.method === method && s.path.startsWith('/items')).length }

  readonly items = new Map<string, Record<string, unknown>>()
  notReadyFor = 0
  /** Every GET of an item answers 503 while set (a liveness failure). */
  down = false
  private reads = new Map<string, number>()
  private next = 1
  constructor (readonly token: string) { super() }
  protected handle (s: Seen, res: ServerResponse): void {
    if (s.headers.authorization !== `Bearer ${this.token}`) return json(res, 401, { message: 'bad token' })
    const m = /^\/items(?:\/([^/?]+))?/.exec(s.path)
    if (!m) return json(res, 404, { message: 'no such route' })
    const id = m[1]
    if (s.method === 'POST' && id === undefined) {
      const nid = `it-${this.next++}`
      this.items.set(nid, { id: nid, ...(JSON.parse(s.body || '{}') as Record<string, unknown>) })
      return json(res, 201, { id: nid })
    }
    if (id === undefined) return json(res, 405, { message: 'method' })
    const item = this.items.get(id)
    if (!item) return json(res, 404, { message: `item ${id} not found` })
    if (s.method === 'GET') {
      const n = (this.reads.get(id) ?? 0) + 1
      this.reads.set(id, n)
      if (n <= this.notReadyFor || this.down) return json(res, 503, { message: 'warming up' })
      return json(res, 200, item)
    }
    if (s.method === 'PUT') { this.items.set(id, { ...item, ...(JSON.parse(s.body || '{}') as Record<string, unknown>) }); return json(res, 200, this.items.get(id)) }
    if (s.method === 'DELETE') { this.items.delete(id); return json(res, 204, {}) }
    return json(res, 405, { message: 'method' })
  }
}

const hmac = (k: string | Buffer, s: string): Buffer => createHmac('sha256', k).update(s).digest()
const sha = (s: string): string => createHash('sha256').update(s).digest('hex')
const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/** Verifies a SigV4-signed request from the AWS steps; the reason when it does not verify, null when it does. */
export function sigv4Problem (s: Seen, keys: { accessKeyId: string, secretAccessKey: string }, now = Date.now()): string | null {
  const auth = s.headers.authorization
  const date = s.headers['x-amz-date']
  if (typeof auth !== 'string') return 'no Authorization header'
  if (typeof date !== 'string' || !/^\d{8}T\d{6}Z$/.test(date)) return 'no x-amz-date header'
  const when = Date.UTC(+date.slice(0, 4), +date.slice(4, 6) - 1, +date.slice(6, 8), +date.slice(9, 11), +date.slice(11, 13), +date.slice(13, 15))
  if (Math.abs(now - when) > 15 * 60_000) return 'x-amz-date is more than 15 minutes off'
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth)
  if (!m) return `malformed Authorization: ${auth}`
  const [, akid, day, region, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string, string]
  if (akid !== keys.accessKeyId) return `unknown access key ${akid}`
  if (day !== date.slice(0, 8)) return 'credential scope date differs from x-amz-date'
  const u = new URL(s.path, 'http://x')
  const query = [...u.searchParams].map(([k, v]) => [enc(k), enc(v)] as const).sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1).map(([k, v]) => `${k}=${v}`).join('&')
  const names = signedHeaders.split(';')
  if (!names.includes('host') || !names.includes('x-amz-date')) return 'host and x-amz-date must be signed'
  const canonHeaders = names.map(n => `${n}:${String(s.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('')
  const payload = typeof s.headers['x-amz-content-sha256'] === 'string' ? s.headers['x-amz-content-sha256'] : sha(s.body)
  if (payload !== 'UNSIGNED-PAYLOAD' && payload !== sha(s.body)) return 'x-amz-content-sha256 does not match the body'
  const path = u.pathname.split('/').map(p => enc(decodeURIComponent(p))).join('/')
  const creq = [s.method, path, query, canonHeaders, signedHeaders, payload].join('\n')
  const sts = ['AWS4-HMAC-SHA256', date, `${day}/${region}/${service}/aws4_request`, sha(creq)].join('\n')
  const key = hmac(hmac(hmac(hmac(`AWS4${keys.secretAccessKey}`, day), region), service), 'aws4_request')
  return hmac(key, sts).toString('hex') === signature ? null : 'signature does not match'
}

/** S3-style buckets: PUT /:bucket creates, HEAD/GET /:bucket, DELETE /:bucket; 403 SignatureDoesNotMatch otherwise. */
export class FakeS3 extends Fake {
  readonly buckets = new Map<string, { region: string, createdAt: number }>()
  readonly rejected: string[] = []
  constructor (readonly keys: { accessKeyId: string, secretAccessKey: string }) { super() }
  protected handle (s: Seen, res: ServerResponse): void {
    const problem = sigv4Problem(s, this.keys)
    if (problem !== null) {
      this.rejected.push(problem)
      res.writeHead(403, { 'content-type': 'application/xml' })
      res.end(`<Error><Code>SignatureDoesNotMatch</Code><Message>${problem}</Message></Error>`)
      return
    }
    const bucket = new URL(s.path, 'http://x').pathname.split('/')[1] ?? ''
    const b = this.buckets.get(bucket)
    const xml = (status: number, body: string): void => { res.writeHead(status, { 'content-type': 'application/xml' }); res.end(body) }
    if (s.method === 'PUT') {
      if (b) return xml(409, '<Error><Code>BucketAlreadyOwnedByYou</Code></Error>')
      this.buckets.set(bucket, { region: /<LocationConstraint>([^<]+)</.exec(s.body)?.[1] ?? 'us-east-1', createdAt: Date.now() })
      res.writeHead(200, { location: `/${bucket}` }); res.end(); return
    }
    if (!b) return xml(404, '<Error><Code>NoSuchBucket</Code></Error>')
    if (s.method === 'GET' || s.method === 'HEAD') return xml(200, `<ListBucketResult><Name>${bucket}</Name><Region>${b.region}</Region></ListBucketResult>`)
    if (s.method === 'DELETE') { this.buckets.delete(bucket); res.writeHead(204); res.end(); return }
    return xml(405, '<Error><Code>MethodNotAllowed</Code></Error>')
  }
}

/** A webhook lifecycle: keeps a counter per action in the state and echoes the definition's name. */
export class FakeWebhook extends Fake {
  failNext = false
  protected handle (s: Seen, res: ServerResponse): void {
    const { definition, state, context } = JSON.parse(s.body) as { definition: { name?: string }, state: Record<string, number>, context: { action: string } }
    if (this.failNext) { this.failNext = false; return json(res, 500, { message: 'webhook broke' }) }
    const key = `n_${context.action}`
    json(res, 200, { state: { ...state, [key]: (state[key] ?? 0) + 1, name: definition.name }, output: [`webhook ${context.action} for ${definition.name ?? '?'}`] })
  }
}
