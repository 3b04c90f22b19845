// The `http` host module: blocking-looking requests for the guest, answered in the shape entity
// code expects: {status: "200 OK", statusCode, headers (canonical names), body, contentLength,
// error?}. A 4xx/5xx is an ordinary answer; only a transport failure (refused, timeout, DNS) sets
// `error`.
import { STATUS_CODES } from 'node:http'
import { HTTP_BODY_MAX_BYTES, HTTP_TIMEOUT_MS, HTTP_TIMEOUT_SECONDS_MAX } from '../defaults.js'
import type { HostModule } from '../sandbox.js'

export interface HttpOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  /** Seconds when at most HTTP_TIMEOUT_SECONDS_MAX, otherwise milliseconds (both readings occur in the wild). */
  timeout?: number
}

export interface HttpResponse {
  status: string
  statusCode: number
  headers: Record<string, string>
  body: string
  contentLength: number
  error?: string
}

/** `content-type` → `Content-Type`, the way Go's net/http hands header names to entity code. */
export function canonicalHeader (name: string): string {
  return name.split('-').map(p => p.charAt(0).toUpperCase() + p.slice(1).toLowerCase()).join('-')
}

/** The options a guest passed, checked (a guest can pass anything). */
export function httpOptions (v: unknown): HttpOptions {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object') throw new TypeError('http: the options must be an object {method, headers, body, timeout}')
  const o = v as Record<string, unknown>
  const out: HttpOptions = {}
  if (typeof o.method === 'string') out.method = o.method.toUpperCase()
  if (o.headers !== undefined && o.headers !== null) {
    if (typeof o.headers !== 'object') throw new TypeError('http: headers must be an object of strings')
    out.headers = Object.fromEntries(Object.entries(o.headers as Record<string, unknown>).map(([k, x]) => [k, Array.isArray(x) ? x.map(String).join(', ') : String(x)]))
  }
  if (o.body !== undefined && o.body !== null) out.body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body)
  if (typeof o.timeout === 'number' && o.timeout > 0) out.timeout = o.timeout
  return out
}

function timeoutMs (t: number | undefined): number {
  if (t === undefined) return HTTP_TIMEOUT_MS
  return t <= HTTP_TIMEOUT_SECONDS_MAX ? t * 1000 : t
}

/** One request; never throws for a transport failure (it is the answer's `error`). */
export async function request (url: string, o: HttpOptions, fetchImpl: typeof fetch = fetch): Promise<HttpResponse> {
  const method = o.method ?? 'GET'
  try {
    const r = await fetchImpl(url, { method, ...(o.headers ? { headers: o.headers } : {}), ...(o.body !== undefined && method !== 'GET' && method !== 'HEAD' ? { body: o.body } : {}), signal: AbortSignal.timeout(timeoutMs(o.timeout)), redirect: 'follow' })
    const buf = Buffer.from(await r.arrayBuffer())
    const headers: Record<string, string> = {}
    r.headers.forEach((v, k) => { headers[canonicalHeader(k)] = v })
    const cut = buf.length > HTTP_BODY_MAX_BYTES
    return {
      status: `${r.status} ${r.statusText || STATUS_CODES[r.status] || ''}`.trim(),
      statusCode: r.status,
      headers,
      body: buf.subarray(0, HTTP_BODY_MAX_BYTES).toString('utf8'),
      contentLength: buf.length,
      ...(cut ? { error: `response body of ${buf.length} bytes cut at ${HTTP_BODY_MAX_BYTES}` } : {}),
    }
  } catch (err) {
    const e = err as Error & { cause?: { code?: string, message?: string } }
    const why = e.name === 'TimeoutError' ? `timed out after ${timeoutMs(o.timeout)} ms` : e.cause?.code ?? e.cause?.message ?? e.message
    return { status: '', statusCode: 0, headers: {}, body: '', contentLength: 0, error: `${method} ${url}: ${why}` }
  }
}

/** The module: get/post/put/delete/do(url, opts). */
export function httpModule (fetchImpl: typeof fetch = fetch): HostModule {
  const verb = (method: string) => (url: unknown, opts: unknown) => request(String(url), { ...httpOptions(opts), method }, fetchImpl)
  return {
    get: verb('GET'), post: verb('POST'), put: verb('PUT'), delete: verb('DELETE'), patch: verb('PATCH'), head: verb('HEAD'),
    do: (url: unknown, opts: unknown) => request(String(url), httpOptions(opts), fetchImpl),
  }
}
