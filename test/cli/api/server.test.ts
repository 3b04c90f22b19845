import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, request as httpRequest } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient, type ApiClient } from '../../../cli/api/client.js'
import { ApiProtocolError, ApiRequestError, ApiTimeoutError, DaemonDownError, DaemonRunningError, SocketPathError, type ApiConfigError } from '../../../cli/api/errors.js'
import { socketPathIn, type ApiMessage } from '../../../cli/api/protocol.js'
import type { Route } from '../../../cli/api/routes.js'
import * as v from 'valibot'
import { message, text } from '../../../actors/messages/fields.js'
import { startApiServer, type ApiServer, type Dispatch, type DispatchContext } from '../../../cli/api/server.js'
import { waitFor } from '../../helpers/actors-wait.js'

const routes: Route[] = [
  { kind: 'peer', target: 'none', messages: { 'peer.echo': message('peer.echo', { text: text(0, 1000), tags: v.optional(v.array(text(1, 100))) }), 'peer.fail': message('peer.fail', { code: v.optional(text(0, 100)), status: v.optional(v.pipe(v.number(), v.integer())) }), 'peer.hang': message('peer.hang', {}) } },
  { kind: 'runnable', target: 'required', messages: { 'runnable.logs': message('runnable.logs', { lines: v.pipe(v.number(), v.integer(), v.minValue(0)) }), 'runnable.describe': message('runnable.describe', {}) } },
]

interface Seen { path: string, message: ApiMessage, ctx: DispatchContext }

interface Fixture {
  dir: string
  socket: string
  server: ApiServer
  client: ApiClient
  seen: Seen[]
  streamEnded: string[]
}

async function fixture (opts: { tcpToken?: string, dispatch?: Dispatch } = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'monk-api-'))
  const socket = socketPathIn(dir)
  const seen: Seen[] = []
  const streamEnded: string[] = []
  const dispatch: Dispatch = opts.dispatch ?? ((path, msg, ctx) => {
    seen.push({ path, message: msg, ctx })
    switch (msg.type) {
      case 'peer.echo': return Promise.resolve({ echoed: msg })
      case 'peer.fail': {
        const m = msg as { code?: string, status?: number }
        return Promise.reject(Object.assign(new Error(`failed on purpose${m.code ? ` (${m.code})` : ''}`), m.code ? { code: m.code } : {}, m.status ? { status: m.status } : {}))
      }
      case 'peer.hang': return new Promise(() => {})
      case 'runnable.describe': return Promise.resolve({ target: ctx.target })
      case 'runnable.logs': return logLines(ctx.target!, (msg as unknown as { lines: number }).lines, ctx.signal, streamEnded)
      default: return Promise.reject(new Error('unexpected'))
    }
  })
  const server = await startApiServer({ socketPath: socket, routes, dispatch, info: { peer: 'p1' }, ...(opts.tcpToken ? { tcp: { port: 0, token: opts.tcpToken } } : {}) })
  return { dir, socket, server, client: createClient({ socketPath: socket, timeoutMs: 10_000 }), seen, streamEnded }
}

/** `lines` log lines, then (lines = 0 means follow) one line per event-loop turn until the client leaves. */
async function * logLines (target: string, lines: number, signal: AbortSignal, ended: string[]): AsyncGenerator<{ n: number, line: string }> {
  try {
    if (lines === 999) { yield { n: 0, line: 'first' }; throw Object.assign(new Error('container vanished'), { code: 'container-gone' }) }
    if (lines > 0) {
      for (let n = 0; n < lines; n++) yield { n, line: `${target} line ${n}` }
      return
    }
    for (let n = 0; !signal.aborted; n++) {
      yield { n, line: `${target} follow ${n}` }
      await new Promise(resolve => setTimeout(resolve, 5))
    }
  } finally {
    ended.push(target)
  }
}

function rawPost (socket: string, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number, json: { error?: { code: string, message: string, field?: string } } }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: socket, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, agent: false }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as never }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function rejection<T extends Error> (p: Promise<unknown>): Promise<T> {
  try {
    await p
  } catch (e) {
    return e as T
  }
  throw new Error('expected a rejection')
}

const Api = suite('control API over the unix socket')
let f: Fixture
Api.before.each(async () => { f = await fixture() })
Api.after.each(async () => { await f.server.close(); rmSync(f.dir, { recursive: true, force: true }) })

Api('round trip: one message in, the reply out; the dispatcher sees the decoded message and the path', async () => {
  const reply = await f.client.request('peer', { type: 'peer.echo', text: 'héllo', tags: ['a'] } as ApiMessage)
  assert.equal(reply, { echoed: { type: 'peer.echo', text: 'héllo', tags: ['a'] } })
  assert.is(f.seen[0]!.path, 'peer')
  assert.is(f.seen[0]!.ctx.kind, 'peer')
  assert.is(f.seen[0]!.ctx.target, undefined)
  assert.is(f.seen[0]!.ctx.transport, 'unix')
  const d = await f.client.request<{ target: string }>('runnable/ns/app#0', { type: 'runnable.describe' })
  assert.is(d.target, 'ns/app#0')
  assert.equal(await f.client.ping(), { peer: 'p1', ok: true, api: 'v1' })
})

Api('the socket file has mode 0600', () => {
  const st = statSync(f.socket)
  assert.ok(st.isSocket())
  assert.is(st.mode & 0o777, 0o600)
})

Api('a bad body is a 400 naming the field', async () => {
  const e = await rejection<ApiRequestError>(f.client.request('peer', { type: 'peer.echo', text: 'x', tags: ['ok', 5] } as ApiMessage))
  assert.instance(e, ApiRequestError)
  assert.is(e.status, 400)
  assert.is(e.code, 'invalid-body')
  assert.is(e.field, 'tags[1]')
  assert.match(e.message, /peer: field 'tags\[1\]' must be a non-empty string, got number 5/)
  const missing = await rejection<ApiRequestError>(f.client.request('peer', { type: 'peer.echo' }))
  assert.is(missing.field, 'text')
  const extra = await rejection<ApiRequestError>(f.client.request('peer', { type: 'peer.echo', text: 'x', colour: 'red' } as ApiMessage))
  assert.is(extra.field, 'colour')
  const noType = await rawPost(f.socket, '/v1/actors/peer', '{"text": "x"}')
  assert.is(noType.status, 400)
  assert.is(noType.json.error!.field, 'type')
  const notJson = await rawPost(f.socket, '/v1/actors/peer', '{"type": ')
  assert.equal([notJson.status, notJson.json.error!.code], [400, 'invalid-json'])
  const notObject = await rawPost(f.socket, '/v1/actors/peer', '[1]')
  assert.equal([notObject.status, notObject.json.error!.code], [400, 'invalid-body'])
  assert.is(f.seen.length, 0, 'nothing invalid reached the dispatcher')
})

Api('an unknown message type is a 400 unknown-type listing the accepted types', async () => {
  const e = await rejection<ApiRequestError>(f.client.request('peer', { type: 'peer.explode' }))
  assert.equal([e.status, e.code, e.field], [400, 'unknown-type', 'type'])
  assert.match(e.message, /accepted: peer\.echo, peer\.fail, peer\.hang/)
})

Api('an unknown path is a 404; so is a missing or unexpected target; other endpoints too', async () => {
  for (const path of ['nobody', 'peer/extra', 'runnable']) {
    const e = await rejection<ApiRequestError>(f.client.request(path, { type: 'peer.echo', text: 'x' } as ApiMessage))
    assert.equal([e.status, e.code], [404, 'not-found'], path)
  }
  const other = await rawPost(f.socket, '/v2/actors/peer', '{}')
  assert.equal([other.status, other.json.error!.code], [404, 'not-found'])
  const wrongMethod = await new Promise<number>(resolve => httpRequest({ socketPath: f.socket, path: '/v1/actors/peer', method: 'GET', agent: false }, res => { res.resume(); resolve(res.statusCode ?? 0) }).end())
  assert.is(wrongMethod, 405)
})

Api('handler errors become a typed error body with their code', async () => {
  const coded = await rejection<ApiRequestError>(f.client.request('peer', { type: 'peer.fail', code: 'template-not-found' } as ApiMessage))
  assert.equal([coded.status, coded.code], [422, 'template-not-found'])
  assert.match(coded.message, /failed on purpose \(template-not-found\)/)
  const withStatus = await rejection<ApiRequestError>(f.client.request('peer', { type: 'peer.fail', code: 'not-found', status: 404 } as ApiMessage))
  assert.equal([withStatus.status, withStatus.code], [404, 'not-found'])
  const known = await rejection<ApiRequestError>(f.client.request('peer', { type: 'peer.fail', code: 'ask-timeout' } as ApiMessage))
  assert.equal([known.status, known.code], [504, 'ask-timeout'])
  const internal = await rejection<ApiRequestError>(f.client.request('peer', { type: 'peer.fail' }))
  assert.equal([internal.status, internal.code], [500, 'internal'])
})

Api('NDJSON stream: every item in order, then a clean end', async () => {
  const got: Array<{ n: number, line: string }> = []
  for await (const item of f.client.stream<{ n: number, line: string }>('runnable/ns/web', { type: 'runnable.logs', lines: 50 } as ApiMessage)) got.push(item)
  assert.is(got.length, 50)
  assert.equal(got[49], { n: 49, line: 'ns/web line 49' })
  assert.ok(got.every((x, i) => x.n === i))
})

Api('client cancel: leaving the loop closes the connection and ends the stream on the server', async () => {
  let count = 0
  for await (const item of f.client.stream<{ n: number }>('runnable/ns/follow', { type: 'runnable.logs', lines: 0 } as ApiMessage)) {
    assert.is(item.n, count)
    if (++count === 5) break
  }
  await waitFor('the server-side stream to end', () => f.streamEnded.includes('ns/follow'))
  assert.ok(f.seen[0]!.ctx.signal.aborted, 'the dispatcher saw its signal aborted')
})

Api('an error in the middle of a stream reaches the client as a typed error after the items sent', async () => {
  const got: unknown[] = []
  const e = await rejection<ApiRequestError>((async () => {
    for await (const item of f.client.stream('runnable/ns/x', { type: 'runnable.logs', lines: 999 } as ApiMessage)) got.push(item)
  })())
  assert.is(got.length, 1)
  assert.instance(e, ApiRequestError)
  assert.is(e.code, 'container-gone')
})

Api('closing the server ends open streams with a daemon-stopping error frame and removes the socket', async () => {
  const it = f.client.stream('runnable/ns/cut', { type: 'runnable.logs', lines: 0 } as ApiMessage)
  assert.is(((await it.next()).value as { n: number }).n, 0)
  const closing = f.server.close()
  const e = await rejection<ApiRequestError>((async () => { for (;;) { const r = await it.next(); if (r.done === true) return } })())
  await closing
  assert.instance(e, ApiRequestError)
  assert.is(e.code, 'daemon-stopping')
  await waitFor('the server-side stream to end', () => f.streamEnded.includes('ns/cut'))
  assert.not.ok(existsSync(f.socket), 'close() removed the socket file')
  f = await fixture() // after.each closes this one
})

Api('a stream whose connection drops without its end frame is stream-interrupted, not a clean end', async () => {
  const socket = join(f.dir, 'fake.sock')
  const fake = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    res.write('{"item":1}\n', () => res.socket?.destroy())
  })
  await new Promise<void>(resolve => fake.listen(socket, resolve))
  try {
    const got: unknown[] = []
    const e = await rejection<ApiProtocolError>((async () => { for await (const x of createClient({ socketPath: socket }).stream('peer', { type: 'x.y' })) got.push(x) })())
    assert.equal(got, [1])
    assert.instance(e, ApiProtocolError)
    assert.is(e.code, 'stream-interrupted')
  } finally {
    await new Promise(resolve => fake.close(resolve))
  }
})

Api('a request to a stream message with request() is a clear protocol error', async () => {
  const e = await rejection<ApiProtocolError>(f.client.request('runnable/ns/x', { type: 'runnable.logs', lines: 1 } as ApiMessage))
  assert.is(e.code, 'bad-response')
  assert.match(e.message, /use stream\(\)/)
})

Api('client timeout: a request the daemon never answers fails with code timeout', async () => {
  const started = Date.now()
  const e = await rejection<ApiTimeoutError>(f.client.request('peer', { type: 'peer.hang' }, { timeoutMs: 150 }))
  assert.instance(e, ApiTimeoutError)
  assert.is(e.code, 'timeout')
  assert.ok(Date.now() - started >= 140)
  await waitFor('the dispatcher to see the disconnect', () => f.seen.at(-1)!.ctx.signal.aborted)
})

Api('a body over the limit is a 413', async () => {
  await f.server.close()
  const dir = mkdtempSync(join(tmpdir(), 'monk-api-'))
  const server = await startApiServer({ socketPath: socketPathIn(dir), routes, dispatch: () => Promise.resolve(null), maxBodyBytes: 1024 })
  try {
    const r = await rawPost(socketPathIn(dir), '/v1/actors/peer', JSON.stringify({ type: 'peer.echo', text: 'x'.repeat(5000) }))
    assert.equal([r.status, r.json.error!.code], [413, 'body-too-large'])
  } finally {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
  f = await fixture()
})

Api.run()

// ---------------------------------------------------------------------------------------------
const Life = suite('control API: socket life cycle and daemon-down')

Life('a stale socket file (its daemon was SIGKILLed) is removed and the server starts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'monk-api-'))
  const socket = socketPathIn(dir)
  try {
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`])
    await new Promise(resolve => child.once('exit', resolve))
    assert.ok(statSync(socket).isSocket(), 'the dead daemon left its socket file')
    const down = await rejection<DaemonDownError>(createClient({ socketPath: socket }).ping())
    assert.is(down.code, 'daemon-down', 'a stale socket (ECONNREFUSED) means the daemon is down')
    const server = await startApiServer({ socketPath: socket, routes, dispatch: () => Promise.resolve('fresh') })
    assert.is(await createClient({ socketPath: socket }).request('peer', { type: 'peer.echo', text: 'x' } as ApiMessage), 'fresh')
    await server.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

Life('refuses to start when another daemon answers on the socket; the first keeps serving', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'monk-api-'))
  const socket = socketPathIn(dir)
  const first = await startApiServer({ socketPath: socket, routes, dispatch: () => Promise.resolve('first') })
  try {
    const e = await rejection<DaemonRunningError>(startApiServer({ socketPath: socket, routes, dispatch: () => Promise.resolve('second') }))
    assert.instance(e, DaemonRunningError)
    assert.is(e.code, 'daemon-running')
    assert.is(await createClient({ socketPath: socket }).request('peer', { type: 'peer.echo', text: 'x' } as ApiMessage), 'first')
  } finally {
    await first.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

Life('refuses to replace a path that is not a socket', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'monk-api-'))
  const socket = socketPathIn(dir)
  writeFileSync(socket, 'precious')
  try {
    const e = await rejection<SocketPathError>(startApiServer({ socketPath: socket, routes, dispatch: () => Promise.resolve(null) }))
    assert.is(e.code, 'socket-path')
    assert.ok(existsSync(socket))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

Life('daemon-down: no socket file, or a TCP port nobody listens on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'monk-api-'))
  try {
    const e = await rejection<DaemonDownError>(createClient({ socketPath: socketPathIn(dir) }).request('peer', { type: 'peer.echo', text: 'x' } as ApiMessage))
    assert.instance(e, DaemonDownError)
    assert.is(e.code, 'daemon-down')
    assert.is(e.message, 'monkd is not running: start it with `monk daemon start`')
    const free = await new Promise<number>(resolve => { const s = createNetServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) }) })
    const tcp = await rejection<DaemonDownError>(createClient({ url: `http://127.0.0.1:${free}`, token: 'x'.repeat(16) }).ping())
    assert.is(tcp.code, 'daemon-down')
    const streamDown = await rejection<DaemonDownError>((async () => { for await (const _ of createClient({ socketPath: socketPathIn(dir) }).stream('peer', { type: 'x.y' })) void _ })())
    assert.is(streamDown.code, 'daemon-down')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

Life.run()

// ---------------------------------------------------------------------------------------------
const Tcp = suite('control API over TCP (127.0.0.1)')

Tcp('a bearer token is required; the right one works', async () => {
  const token = 'tok-' + 'a1b2c3d4e5f6a7b8'
  const fx = await fixture({ tcpToken: token })
  try {
    assert.ok(fx.server.tcp)
    assert.is(fx.server.tcp.host, '127.0.0.1')
    const url = `http://127.0.0.1:${fx.server.tcp.port}`
    const ok = await createClient({ url, token }).request('peer', { type: 'peer.echo', text: 'over tcp' } as ApiMessage)
    assert.equal(ok, { echoed: { type: 'peer.echo', text: 'over tcp' } })
    assert.is(fx.seen[0]!.ctx.transport, 'tcp')
    const wrong = await rejection<ApiRequestError>(createClient({ url, token: token + 'x' }).request('peer', { type: 'peer.echo', text: 'x' } as ApiMessage))
    assert.equal([wrong.status, wrong.code], [401, 'unauthorized'])
    const none = await new Promise<number>(resolve => httpRequest({ host: '127.0.0.1', port: fx.server.tcp!.port, path: '/v1/ping', agent: false }, res => { res.resume(); resolve(res.statusCode ?? 0) }).end())
    assert.is(none, 401)
    assert.is(fx.seen.length, 1, 'unauthorised requests never reach the dispatcher')
    const streamed: unknown[] = []
    for await (const x of createClient({ url, token }).stream('runnable/ns/t', { type: 'runnable.logs', lines: 3 } as ApiMessage)) streamed.push(x)
    assert.is(streamed.length, 3)
  } finally {
    await fx.server.close()
    rmSync(fx.dir, { recursive: true, force: true })
  }
})

Tcp('a TCP listener without a real token, or on a non-loopback address, is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'monk-api-'))
  try {
    const short = await rejection<ApiConfigError>(startApiServer({ socketPath: socketPathIn(dir), routes, dispatch: () => Promise.resolve(null), tcp: { port: 0, token: 'short' } }))
    assert.is(short.code, 'api-config')
    const wide = await rejection<ApiConfigError>(startApiServer({ socketPath: socketPathIn(dir), routes, dispatch: () => Promise.resolve(null), tcp: { port: 0, token: 'x'.repeat(20), host: '0.0.0.0' } }))
    assert.is(wide.code, 'api-config')
    assert.not.ok(existsSync(socketPathIn(dir)), 'nothing was left listening')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

Tcp.run()
