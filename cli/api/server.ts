// The control API server (protocol.ts): HTTP/JSON on the unix socket (mode 0600) and optionally
// on a TCP port that needs a bearer token: plain on loopback, TLS only on any other address (the
// certificate monkd made, tls-home.ts; clients pin it). Each request is decoded against its route's
// schema and handed to `dispatch`, which the daemon wires to the actor system; a reply that is an
// async iterable is streamed as NDJSON until it ends or the client goes away.
import { createHash, timingSafeEqual } from 'node:crypto'
import { chmod, stat, unlink } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { isIP } from 'node:net'
import type { Logger } from '../../actors/kit/log.js'
import { CLOSE_GRACE_MS, MAX_BODY_BYTES, TCP_HOST } from './defaults.js'
import { ApiConfigError, DaemonRunningError } from './errors.js'
import { MessageError, UnknownMessageError } from '../../actors/messages/decode.js'
import { isObj } from '../../actors/values.js'
import { ACTORS_PREFIX, API_VERSION, JSON_TYPE, NDJSON_TYPE, PING_PATH, UPGRADE_PROTOCOL, actorPathOf, type ApiMessage, type ErrorBody, type StreamFrame } from './protocol.js'
import { RouteTable, type Route } from './routes.js'
import { claimSocketPath } from './socket.js'

export interface DispatchContext {
  /** `runnable` for `runnable/ns/app#0`. */
  readonly kind: string
  /** `ns/app#0` for `runnable/ns/app#0`; undefined for `peer`. */
  readonly target: string | undefined
  /** Aborted when the client disconnects (or the server closes): streams must stop then. */
  readonly signal: AbortSignal
  readonly transport: 'unix' | 'tcp'
}

/**
 * Delivers one decoded message to the actor at `path`. Resolve with the reply, or return (or
 * resolve with) an AsyncIterable to stream. Throw an error with a string `code` (and optionally
 * a numeric `status`) to answer with that error.
 */
export type Dispatch<M extends ApiMessage = ApiMessage> = (path: string, message: M, ctx: DispatchContext) => Promise<unknown> | AsyncIterable<unknown>

export interface ApiServerOptions<M extends ApiMessage = ApiMessage> {
  /** `$MONK_HOME/monkd.sock`; a stale file is removed, a live one refuses the start. */
  readonly socketPath: string
  /** Optional TCP listener; needs a token, and TLS (`tls`, PEM key and certificate) unless the host is loopback. */
  readonly tcp?: { readonly port: number, readonly token: string, readonly host?: string, readonly tls?: { readonly key: string, readonly cert: string } }
  readonly routes: readonly Route<M>[]
  readonly dispatch: Dispatch<M>
  readonly logger?: Logger
  readonly maxBodyBytes?: number
  /** Extra fields of the GET /v1/ping answer (version, peer id...). */
  readonly info?: Readonly<Record<string, unknown>>
  /**
   * Takes over an HTTP upgrade (`Upgrade: monk-stream`) once it is authorised like any request;
   * without it upgrades get a 404. The handler owns the socket (answer, stream, close).
   */
  readonly upgrade?: (req: IncomingMessage, socket: Socket, transport: 'unix' | 'tcp') => void
  /** HTTP status for a handler error code; falls back to the built-in table (see statusForError). */
  readonly statusForCode?: (code: string) => number | undefined
  /**
   * Endpoints beside the actor API (the web UI, gui.ts): called first with whether the request
   * carries the token (always true on the unix socket); resolves true when it answered.
   */
  readonly extra?: (req: IncomingMessage, res: ServerResponse, ctx: { readonly transport: 'unix' | 'tcp', readonly authorised: boolean }) => boolean | Promise<boolean>
}

export interface ApiServer {
  readonly socketPath: string
  /** The TCP address when a TCP listener runs (port resolved if 0 was asked), and whether it is TLS. */
  readonly tcp: { readonly host: string, readonly port: number, readonly tls: boolean } | undefined
  /** Stops listening, ends open streams, closes connections and removes the socket file. */
  close: () => Promise<void>
}

/** Status for handler errors whose code is known here; others with a code get 422, without one 500. */
const codeStatus: Readonly<Record<string, number>> = {
  'not-found': 404,
  'invalid-body': 400,
  'unknown-type': 400,
  'actor-stopped': 503,
  'actor-crashed': 500,
  'ask-timeout': 504,
}

export async function startApiServer<M extends ApiMessage = ApiMessage> (opts: ApiServerOptions<M>): Promise<ApiServer> {
  const routes = new RouteTable<M>(opts.routes)
  const maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES
  const log = opts.logger
  if (opts.tcp) {
    if (opts.tcp.token.length < 16) throw new ApiConfigError('the TCP control listener needs a bearer token of at least 16 characters')
    const host = opts.tcp.host ?? TCP_HOST
    if (opts.tcp.tls === undefined && !isLoopback(host)) throw new ApiConfigError(`the TCP control listener on ${host} (not loopback) serves TLS only: it needs a key and certificate`)
  }
  const tokenDigest = opts.tcp ? digest(opts.tcp.token) : undefined
  const live = new Set<AbortController>()
  const sockets = new Set<Socket>()
  /** Open streams: resolve once their response is finished or closed. */
  const streams = new Set<Promise<void>>()
  let stopping = false

  const handler = (transport: 'unix' | 'tcp') => (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res, transport).catch((e: unknown) => {
      log?.error({ err: e, url: req.url }, 'control API: request handling failed')
      if (!res.headersSent) sendError(res, 500, { code: 'internal', message: 'internal error in the control API' })
      else res.destroy()
    })
  }

  async function handle (req: IncomingMessage, res: ServerResponse, transport: 'unix' | 'tcp'): Promise<void> {
    const authed = transport === 'unix' || authorised(req.headers.authorization, tokenDigest!)
    if (opts.extra && await opts.extra(req, res, { transport, authorised: authed })) return
    if (!authed) {
      res.setHeader('www-authenticate', 'Bearer')
      return sendError(res, 401, { code: 'unauthorized', message: 'the TCP control API needs header Authorization: Bearer <token>' })
    }
    const urlPath = (req.url ?? '/').split('?')[0]!
    if (urlPath === PING_PATH) {
      if (req.method !== 'GET') return sendMethodNotAllowed(res, 'GET')
      return sendJson(res, 200, { ...opts.info, ok: true, api: API_VERSION })
    }
    if (!urlPath.startsWith(ACTORS_PREFIX)) {
      return sendError(res, 404, { code: 'not-found', message: `no endpoint ${urlPath}: the control API is POST ${ACTORS_PREFIX}<actor path> and GET ${PING_PATH}` })
    }
    if (req.method !== 'POST') return sendMethodNotAllowed(res, 'POST')
    const path = actorPathOf(urlPath)
    if (path === undefined) return sendError(res, 404, { code: 'not-found', message: `malformed actor path in ${urlPath}` })
    const resolution = routes.resolve(path)
    if (!resolution.ok) return sendError(res, 404, { code: 'not-found', message: resolution.message })
    const { route, kind, target } = resolution.resolved

    const body = await readBody(req, maxBody)
    if (body.kind === 'too-large') return sendError(res, 413, { code: 'body-too-large', message: `request body is larger than ${maxBody} bytes` })
    if (body.kind === 'aborted') return
    let parsed: unknown
    try {
      parsed = JSON.parse(body.text)
    } catch (e) {
      return sendError(res, 400, { code: 'invalid-json', message: `request body is not valid JSON: ${(e as Error).message}` })
    }
    if (!isObj(parsed)) return sendError(res, 400, { code: 'invalid-body', message: 'the request body must be a JSON object {type, ...}', field: '' })
    let message: M
    try {
      message = RouteTable.decode(route, parsed)
    } catch (e) {
      if (e instanceof MessageError || e instanceof UnknownMessageError) return sendError(res, 400, { code: e.code, message: `${path}: ${e.message}`, field: e.field })
      throw e
    }

    const abort = new AbortController()
    live.add(abort)
    res.once('close', () => { abort.abort(); live.delete(abort) })
    let out: unknown
    try {
      out = await opts.dispatch(path, message, { kind, target, signal: abort.signal, transport })
    } catch (e) {
      live.delete(abort)
      const { status, body: errBody } = errorReply(e, opts.statusForCode)
      if (status >= 500) log?.error({ err: e, path, type: message.type }, `control API: ${message.type} to ${path} failed`)
      else log?.debug({ path, type: message.type, code: errBody.code }, `control API: ${message.type} to ${path} refused`)
      return sendError(res, status, errBody)
    }
    if (isAsyncIterable(out)) return stream(res, out, abort, path, message.type)
    live.delete(abort)
    let text: string
    try {
      text = JSON.stringify(out ?? null)
    } catch (e) {
      log?.error({ err: e, path, type: message.type }, 'control API: reply is not JSON-serialisable')
      return sendError(res, 500, { code: 'bad-reply', message: `the reply of ${path} to ${message.type} cannot be encoded as JSON` })
    }
    sendText(res, 200, JSON_TYPE, text)
  }

  function stream (res: ServerResponse, source: AsyncIterable<unknown>, abort: AbortController, path: string, type: string): Promise<void> {
    const done = new Promise<void>(resolve => res.once('close', resolve))
    streams.add(done)
    void done.then(() => streams.delete(done))
    return pump(res, source, abort, path, type)
  }

  async function pump (res: ServerResponse, source: AsyncIterable<unknown>, abort: AbortController, path: string, type: string): Promise<void> {
    res.writeHead(200, { 'content-type': NDJSON_TYPE, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
    res.flushHeaders()
    const it = source[Symbol.asyncIterator]()
    const aborted = new Promise<'aborted'>(resolve => {
      if (abort.signal.aborted) resolve('aborted')
      abort.signal.addEventListener('abort', () => resolve('aborted'), { once: true })
    })
    let finished = false
    try {
      for (;;) {
        const next = await Promise.race([it.next(), aborted])
        if (next === 'aborted') break
        if (next.done === true) { finished = true; writeFrame(res, { end: true }); break }
        if (!writeFrame(res, { item: next.value })) {
          const drained = await Promise.race([new Promise<'drain'>(resolve => res.once('drain', () => resolve('drain'))), aborted])
          if (drained === 'aborted') break
        }
      }
    } catch (e) {
      finished = true
      const { body } = errorReply(e, opts.statusForCode)
      log?.warn({ err: e, path, type }, `control API: stream ${type} of ${path} failed`)
      if (!abort.signal.aborted) writeFrame(res, { error: body })
    } finally {
      if (stopping && !finished && !res.destroyed) writeFrame(res, { error: { code: 'daemon-stopping', message: 'monkd is stopping; the stream ended early' } })
      live.delete(abort)
      // The source may be parked in an await that only its signal can end; don't wait on it.
      if (!finished) it.return?.()?.catch(() => {})
      if (!res.destroyed) res.end()
    }
  }

  const unixServer = createServer(handler('unix'))
  const tcpServer = opts.tcp ? (opts.tcp.tls ? createHttpsServer({ key: opts.tcp.tls.key, cert: opts.tcp.tls.cert }, handler('tcp')) : createServer(handler('tcp'))) : undefined
  for (const s of [unixServer, tcpServer]) {
    s?.on('connection', (sock: Socket) => { sockets.add(sock); sock.once('close', () => sockets.delete(sock)) })
  }
  const onUpgrade = (transport: 'unix' | 'tcp') => (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    socket.on('error', () => {})
    const refuse = (status: number, error: ErrorBody): void => {
      const body = JSON.stringify({ error })
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 503 ? 'Service Unavailable' : 'Not Found'}\r\ncontent-type: ${JSON_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
    }
    if (transport === 'tcp' && !authorised(req.headers.authorization, tokenDigest!)) return refuse(401, { code: 'unauthorized', message: 'the TCP control API needs header Authorization: Bearer <token>' })
    if (stopping) return refuse(503, { code: 'daemon-stopping', message: 'monkd is stopping' })
    if (!opts.upgrade || String(req.headers.upgrade ?? '').toLowerCase() !== UPGRADE_PROTOCOL) return refuse(404, { code: 'not-found', message: `no upgrade to ${String(req.headers.upgrade ?? '')} at ${(req.url ?? '/').split('?')[0]!}` })
    if (head.length) socket.unshift(head)
    opts.upgrade(req, socket, transport)
  }
  unixServer.on('upgrade', onUpgrade('unix'))
  tcpServer?.on('upgrade', onUpgrade('tcp'))

  await claimSocketPath(opts.socketPath)
  await listenUnix(unixServer, opts.socketPath)
  const socketIno = (await stat(opts.socketPath)).ino
  let tcp: ApiServer['tcp']
  if (tcpServer && opts.tcp) {
    try {
      const address = await listenTcp(tcpServer, opts.tcp.host ?? TCP_HOST, opts.tcp.port)
      tcp = { host: address.address, port: address.port, tls: opts.tcp.tls !== undefined }
    } catch (e) {
      await closeServer(unixServer)
      await unlink(opts.socketPath).catch(() => {})
      throw e
    }
  }
  log?.info({ socket: opts.socketPath, tcp }, 'control API listening')

  let closing: Promise<void> | undefined
  return {
    socketPath: opts.socketPath,
    tcp,
    close: () => {
      closing ??= (async () => {
        stopping = true
        const closed = Promise.all([closeServer(unixServer), tcpServer ? closeServer(tcpServer) : undefined])
        for (const a of live) a.abort()
        // Let streams write their last frame before the connections go (bounded: a stuck client cannot hold us).
        await Promise.race([Promise.all(streams), new Promise(resolve => setTimeout(resolve, CLOSE_GRACE_MS).unref())])
        for (const s of sockets) s.destroy()
        await closed
        // Remove the socket file only if it is still ours (a successor may have replaced it).
        const now = await stat(opts.socketPath).catch(() => undefined)
        if (now?.ino === socketIno) await unlink(opts.socketPath).catch(() => {})
      })()
      return closing
    },
  }
}

// ---------------------------------------------------------------------------------------------

/** Listens on a unix socket created with mode 0600 (umask during bind), then chmods to be sure. */
async function listenUnix (server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      reject(e.code === 'EADDRINUSE' ? new DaemonRunningError(path, { cause: e }) : e)
    }
    server.once('error', onError)
    const previous = process.umask(0o177)
    try {
      server.listen(path, () => { server.off('error', onError); resolve() })
    } finally {
      process.umask(previous)
    }
  })
  await chmod(path, 0o600)
}

function listenTcp (server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve(server.address() as AddressInfo) })
  })
}

function closeServer (server: Server): Promise<void> {
  return new Promise(resolve => server.close(() => resolve()))
}

type Body = { kind: 'ok', text: string } | { kind: 'too-large' } | { kind: 'aborted' }

function readBody (req: IncomingMessage, max: number): Promise<Body> {
  return new Promise(resolve => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const finish = (b: Body): void => { if (!done) { done = true; resolve(b) } }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > max) { finish({ kind: 'too-large' }); req.resume(); return }
      if (!done) chunks.push(chunk)
    })
    req.once('end', () => finish({ kind: 'ok', text: Buffer.concat(chunks).toString('utf8') }))
    req.once('error', () => finish({ kind: 'aborted' }))
    req.once('close', () => finish({ kind: 'aborted' }))
  })
}

function errorReply (e: unknown, statusForCode: ApiServerOptions['statusForCode']): { status: number, body: ErrorBody } {
  const err = e as { code?: unknown, status?: unknown, message?: unknown, field?: unknown } | undefined
  const code = typeof err?.code === 'string' && err.code !== '' ? err.code : undefined
  const message = typeof err?.message === 'string' && err.message !== '' ? err.message : 'internal error'
  const field = typeof err?.field === 'string' ? { field: err.field } : {}
  if (code === undefined) return { status: 500, body: { code: 'internal', message } }
  const explicit = typeof err?.status === 'number' && Number.isInteger(err.status) && err.status >= 400 && err.status <= 599 ? err.status : undefined
  const status = explicit ?? statusForCode?.(code) ?? codeStatus[code] ?? 422
  return { status, body: { code, message, ...field } }
}

function writeFrame (res: ServerResponse, frame: StreamFrame): boolean {
  let line: string
  try {
    line = JSON.stringify(frame)
  } catch {
    line = JSON.stringify({ error: { code: 'bad-reply', message: 'a stream item cannot be encoded as JSON' } })
  }
  return res.write(line + '\n')
}

function sendJson (res: ServerResponse, status: number, value: unknown): void {
  sendText(res, status, JSON_TYPE, JSON.stringify(value))
}

function sendError (res: ServerResponse, status: number, error: ErrorBody): void {
  sendJson(res, status, { error })
}

function sendMethodNotAllowed (res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow)
  sendError(res, 405, { code: 'method-not-allowed', message: `use ${allow} here` })
}

function sendText (res: ServerResponse, status: number, type: string, text: string): void {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}

function isAsyncIterable (v: unknown): v is AsyncIterable<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function'
}

function digest (token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

/** Constant-time comparison of `Bearer <token>` against the expected token digest. */
function authorised (header: string | undefined, expected: Buffer): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  if (!m) return false
  return timingSafeEqual(digest(m[1]!), expected)
}

function isLoopback (host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}
