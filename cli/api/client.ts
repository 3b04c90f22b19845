// The CLI's client of the control API (protocol.ts). Import-light on purpose: node:http and this
// folder's small protocol files only, so `monk` starts fast.
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions as HttpRequestOptions } from 'node:http'
import { REQUEST_TIMEOUT_MS, STREAM_OPEN_TIMEOUT_MS } from './defaults.js'
import { ApiConnectionError, ApiProtocolError, ApiRequestError, ApiTimeoutError, DaemonDownError } from './errors.js'
import { JSON_TYPE, NDJSON_TYPE, PING_PATH, actorUrl, type ApiMessage, type ErrorBody, type PingReply } from './protocol.js'

export type ClientOptions =
  /** The local daemon's socket, `$MONK_HOME/monkd.sock`. */
  | { readonly socketPath: string, readonly timeoutMs?: number }
  /**
   * A TCP listener, e.g. `http://127.0.0.1:7800`, with its bearer token. `connect` opens the
   * connection instead of plain TCP (a pinned TLS socket, tls-pin.ts pinnedConnection).
   */
  | { readonly url: string, readonly token: string, readonly timeoutMs?: number, readonly connect?: CreateConnection }

/** http.request's createConnection, called back with the socket (or the error) once it is ready. */
export type CreateConnection = NonNullable<HttpRequestOptions['createConnection']>

export interface RequestOptions {
  /** Whole-request timeout (default REQUEST_TIMEOUT_MS, or the client's timeoutMs). */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
}

export interface StreamOptions {
  /** Time allowed until the stream starts (default STREAM_OPEN_TIMEOUT_MS); none after that. */
  readonly openTimeoutMs?: number
  readonly signal?: AbortSignal
}

export interface ApiClient {
  /**
   * Sends one message to the actor at `path` (`peer`, `runnable/ns/app#0`) and resolves with its
   * reply. Rejects with DaemonDownError (`daemon-down`), ApiTimeoutError (`timeout`),
   * ApiRequestError (the daemon's error `code`, `status`, `field`) or ApiProtocolError.
   */
  request: <R = unknown>(path: string, message: ApiMessage, opts?: RequestOptions) => Promise<R>
  /**
   * Sends one message whose reply is a stream and yields its items. Leaving the loop early
   * (break, return, throw) closes the connection, which ends the stream on the daemon.
   */
  stream: <T = unknown>(path: string, message: ApiMessage, opts?: StreamOptions) => AsyncGenerator<T, void, undefined>
  /** GET /v1/ping: resolves if a daemon answers. */
  ping: (opts?: RequestOptions) => Promise<PingReply>
}

export function createClient (options: ClientOptions): ApiClient {
  const target = 'socketPath' in options
    ? { socketPath: options.socketPath, address: options.socketPath, headers: {} as Record<string, string> }
    : { ...tcpTarget(options.url, options.token), connect: options.connect }
  const defaultTimeout = options.timeoutMs ?? REQUEST_TIMEOUT_MS

  /** Opens a request and resolves with the response head; `timeoutMs` covers only until then. */
  function open (method: 'GET' | 'POST', urlPath: string, body: string | undefined, accept: string, timeoutMs: number, signal: AbortSignal | undefined, what: string): { req: ClientRequest, response: Promise<IncomingMessage>, timer: { clear: () => void, readonly timedOut: boolean } } {
    const headers: Record<string, string | number> = { ...target.headers, accept }
    if (body !== undefined) { headers['content-type'] = JSON_TYPE; headers['content-length'] = Buffer.byteLength(body) }
    const req = httpRequest({
      // an own connection (the pinned TLS socket) goes without an agent: with one, node ignores createConnection
      ...('socketPath' in target ? { socketPath: target.socketPath, agent: false } : { host: target.host, port: target.port, ...(target.connect ? { createConnection: target.connect } : { agent: false }) }),
      path: urlPath,
      method,
      headers,
    })
    let timedOut = false
    const t = setTimeout(() => { timedOut = true; req.destroy() }, timeoutMs)
    const onAbort = (): void => { req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('request aborted')) }
    signal?.addEventListener('abort', onAbort, { once: true })
    const timer = { clear: () => { clearTimeout(t); signal?.removeEventListener('abort', onAbort) }, get timedOut () { return timedOut } }
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve)
      req.once('error', (e: NodeJS.ErrnoException) => {
        timer.clear()
        if (timedOut) reject(new ApiTimeoutError(what, timeoutMs))
        else if (e.code === 'cert-changed') reject(e)
        else if (signal?.aborted === true) reject(signal.reason instanceof Error ? signal.reason : e)
        else if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') reject(new DaemonDownError(target.address, { cause: e }))
        else reject(new ApiConnectionError(target.address, { cause: e }))
      })
    })
    if (signal?.aborted === true) onAbort()
    req.end(body)
    return { req, response, timer }
  }

  async function call<R> (method: 'GET' | 'POST', urlPath: string, body: string | undefined, opts: RequestOptions, what: string): Promise<R> {
    const timeoutMs = opts.timeoutMs ?? defaultTimeout
    const { response, timer } = open(method, urlPath, body, JSON_TYPE, timeoutMs, opts.signal, what)
    try {
      const res = await response
      const text = await readAll(res)
      const status = res.statusCode ?? 0
      if (status >= 200 && status < 300) {
        if (!isType(res, JSON_TYPE)) throw new ApiProtocolError('bad-response', `${what}: expected a JSON reply, got ${res.headers['content-type'] ?? 'no content type'} (is this a stream? use stream())`)
        return parseJson(text, what) as R
      }
      throw errorFrom(status, text, what)
    } catch (e) {
      if (timer.timedOut) throw new ApiTimeoutError(what, timeoutMs) // our timer cut the reply short
      if ((e as NodeJS.ErrnoException).code === 'ECONNRESET') throw new ApiProtocolError('stream-interrupted', `${what}: monkd closed the connection before the reply was complete`, { cause: e })
      throw e
    } finally {
      timer.clear()
    }
  }

  return {
    request: <R>(path: string, message: ApiMessage, opts: RequestOptions = {}) =>
      call<R>('POST', actorUrl(path), JSON.stringify(message), opts, `${message.type} to ${path}`),

    ping: (opts: RequestOptions = {}) => call<PingReply>('GET', PING_PATH, undefined, opts, 'ping'),

    stream: async function * <T>(path: string, message: ApiMessage, opts: StreamOptions = {}): AsyncGenerator<T, void, undefined> {
      const what = `${message.type} to ${path}`
      const { req, response, timer } = open('POST', actorUrl(path), JSON.stringify(message), NDJSON_TYPE, opts.openTimeoutMs ?? STREAM_OPEN_TIMEOUT_MS, opts.signal, what)
      // The open timeout ends when the stream starts; the caller's signal must keep working after that.
      const onAbort = (): void => { req.destroy() }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      try {
        const res = await response
        timer.clear()
        const status = res.statusCode ?? 0
        if (status < 200 || status >= 300) throw errorFrom(status, await readAll(res), what)
        if (!isType(res, NDJSON_TYPE)) throw new ApiProtocolError('bad-response', `${what}: expected a stream, got ${res.headers['content-type'] ?? 'no content type'} (use request() for single replies)`)
        res.setEncoding('utf8')
        let buffered = ''
        for await (const chunk of interruptible(res, what)) {
          buffered += chunk
          let nl: number
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl)
            buffered = buffered.slice(nl + 1)
            if (line.trim() === '') continue
            const frame = parseJson(line, what) as { item?: unknown, end?: unknown, error?: ErrorBody }
            if (frame.end === true) return
            if (frame.error !== undefined) throw new ApiRequestError(frame.error.code, 200, frame.error.message, frame.error.field)
            if (!('item' in frame)) throw new ApiProtocolError('bad-response', `${what}: unknown stream frame ${line.slice(0, 80)}`)
            yield frame.item as T
          }
        }
        if (opts.signal?.aborted === true) return
        throw new ApiProtocolError('stream-interrupted', `${what}: the stream ended without its end frame (did monkd stop?)`)
      } catch (err) {
        if (opts.signal?.aborted === true) return // the caller stopped the stream: end quietly
        throw err
      } finally {
        opts.signal?.removeEventListener('abort', onAbort)
        timer.clear()
        req.destroy()
      }
    },
  }
}

/** The response body as text chunks; a connection lost mid-stream becomes `stream-interrupted`. */
async function * interruptible (res: IncomingMessage, what: string): AsyncGenerator<string> {
  try {
    for await (const chunk of res as AsyncIterable<string>) yield chunk
  } catch (e) {
    throw new ApiProtocolError('stream-interrupted', `${what}: the connection to monkd was lost mid-stream`, { cause: e })
  }
}

function tcpTarget (url: string, token: string): { host: string, port: number, address: string, headers: Record<string, string> } {
  const u = new URL(url)
  if (u.protocol !== 'http:') throw new TypeError(`control API URL must be http://host:port, got ${url}`)
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), address: url, headers: { authorization: `Bearer ${token}` } }
}

function readAll (res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    res.once('error', reject)
    res.once('aborted', () => reject(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })))
  })
}

function isType (res: IncomingMessage, type: string): boolean {
  return (res.headers['content-type'] ?? '').split(';')[0]!.trim() === type
}

function parseJson (text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new ApiProtocolError('bad-response', `${what}: the reply is not valid JSON`, { cause: e })
  }
}

function errorFrom (status: number, text: string, what: string): Error {
  let body: unknown
  try { body = JSON.parse(text) } catch { body = undefined }
  const err = (body as { error?: Partial<ErrorBody> } | undefined)?.error
  if (err && typeof err.code === 'string' && typeof err.message === 'string') {
    return new ApiRequestError(err.code, status, err.message, typeof err.field === 'string' ? err.field : undefined)
  }
  return new ApiProtocolError('bad-response', `${what}: HTTP ${status} without an error body`)
}
