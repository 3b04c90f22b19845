// The entity host pieces that need no sandbox: http answers (headers canonical, body, timeout in
// seconds or ms, transport errors), the replicated record (newest copy wins, bad input dropped),
// describe's masking of secret-looking fields.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { maskSecrets } from '../../../actors/entity/describe.js'
import { canonicalHeader, request } from '../../../actors/entity/host/http.js'
import { decodeEntity, emptyRecord, encodeEntity, newestEntity } from '../../../actors/entity/record.js'

const H = suite('entity host: http, record, describe')
let server: Server
let url = ''
H.before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/hang') return // never answers
    let body = ''
    req.on('data', (c: Buffer) => { body += String(c) })
    req.on('end', () => { res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain', 'x-request-id': 'r1' }); res.end(`${req.method ?? ''} ${body}`) })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
H.after(() => { server.closeAllConnections(); server.close() })

H('headers come back with canonical names; body, status and contentLength as entity code reads them', async () => {
  assert.is(canonicalHeader('content-type'), 'Content-Type')
  assert.is(canonicalHeader('x-request-id'), 'X-Request-Id')
  const r = await request(`${url}/x`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } })
  assert.equal({ status: r.status, statusCode: r.statusCode, body: r.body, contentLength: r.contentLength, error: r.error }, { status: '200 OK', statusCode: 200, body: 'POST hello', contentLength: 10, error: undefined })
  assert.is(r.headers['Content-Type'], 'text/plain')
  assert.is(r.headers['X-Request-Id'], 'r1')
  const m = await request(`${url}/missing`, {})
  assert.is(m.statusCode, 404)
  assert.is(m.error, undefined, 'a 4xx is an answer, not a transport error')
})

H('a timeout is a transport error; small numbers are seconds, large ones milliseconds', async () => {
  let t = Date.now()
  const s = await request(`${url}/hang`, { timeout: 1 })
  assert.is(s.error, `GET ${url}/hang: timed out after 1000 ms`)
  assert.ok(Date.now() - t < 5000)
  t = Date.now()
  const ms = await request(`${url}/hang`, { timeout: 1500 })
  assert.is(ms.error, `GET ${url}/hang: timed out after 1500 ms`)
  assert.is(ms.statusCode, 0)
})

H('the newest record wins by seq; records from peers are decoded defensively', () => {
  const a = { ...emptyRecord(), created: true, seq: 3, state: { id: 'a' } }
  const b = { ...emptyRecord(), created: true, seq: 5, state: { id: 'b' } }
  assert.equal(newestEntity([{ key: 'entity/x/p1', value: encodeEntity(a) }, { key: 'entity/x/p2', value: encodeEntity(b) }, { key: 'entity/x/p3', value: { v: 2 } }])?.state, { id: 'b' })
  assert.is(decodeEntity({ v: 1, state: 'nope' }), undefined)
  assert.is(decodeEntity(null), undefined)
  assert.equal(decodeEntity({ v: 1, state: {}, lastOutput: ['x', 3] })?.lastOutput, ['x'])
})

H('describe masks secret-looking fields at any depth, keeps the rest', () => {
  assert.equal(maskSecrets({ name: 'db', password: 'p', nested: { api_key: 'k', token: 'tk', port: 5 }, list: [{ secret: 's' }] }),
    { name: 'db', password: '***', nested: { api_key: '***', token: '***', port: 5 }, list: [{ secret: '***' }] })
})

H.run()
