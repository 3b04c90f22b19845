// TLS for the control API beyond loopback: the certificate monkd makes with node:crypto and the
// DER encoder (cert.ts) parses in node and openssl, is kept in the home with its key 0600; the
// server serves it; the client pins its SHA-256 on first use (known-monkds, 0600), refuses a
// changed one before it sends anything (the token), and upgrades go through the same pin.
import { X509Certificate, createPublicKey } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createServer as createTlsServer } from 'node:tls'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ipBytes, makeSelfSignedCert, oid, time, uint } from '../../../cli/api/cert.js'
import { createClient } from '../../../cli/api/client.js'
import { socketPathIn } from '../../../cli/api/protocol.js'
import { startApiServer } from '../../../cli/api/server.js'
import { loadOrMakeTlsIdentity, TLS_CERT_FILE, TLS_KEY_FILE } from '../../../cli/api/tls-home.js'
import { KNOWN_MONKDS, pinnedConnection, pinnedFingerprint } from '../../../cli/api/tls-pin.js'
import { openUpgrade } from '../../../cli/api/upgrade-client.js'
import { tempDir } from '../../helpers/tmp.js'

const T = suite('control API over TLS')
const token = 'a-token-of-at-least-16-chars'

T('DER pieces: OIDs, integers, times, addresses', () => {
  assert.is(oid('1.2.840.10045.4.3.2').toString('hex'), '06082a8648ce3d040302')
  assert.is(oid('2.5.29.17').toString('hex'), '0603551d11')
  assert.is(uint(Buffer.from([0x80, 1])).toString('hex'), '0203008001') // a 0 keeps it positive
  assert.is(uint(Buffer.from([0, 0, 5])).toString('hex'), '020105')
  assert.is(time(new Date('2026-12-07T16:35:25Z')).toString('latin1'), '\x17\x0d261207163525Z')
  assert.is(time(new Date('2051-01-02T03:04:05Z')).toString('latin1'), '\x18\x0f20510102030405Z')
  assert.is(ipBytes('10.1.2.3').toString('hex'), '0a010203')
  assert.is(ipBytes('fd00::2').toString('hex'), 'fd000000000000000000000000000002')
  assert.is(ipBytes('::1').toString('hex'), '00000000000000000000000000000001')
})

T('a self-signed certificate: node parses and verifies it, with the names as subjectAltName; openssl reads it', () => {
  const c = makeSelfSignedCert({ commonName: 'peer-a', names: ['localhost', '127.0.0.1', '10.213.7.2', 'fd00::2', 'monk.example'] })
  const x = new X509Certificate(c.cert)
  assert.ok(x.verify(createPublicKey(c.key)))
  assert.is(x.fingerprint256, c.fingerprint)
  assert.match(x.subject, /CN=peer-a/)
  assert.is(x.ca, false)
  for (const n of ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:10.213.7.2', 'IP Address:FD00:0:0:0:0:0:0:2', 'DNS:monk.example']) assert.ok(x.subjectAltName?.includes(n), `${n} in ${x.subjectAltName ?? ''}`)
  assert.ok(new Date(x.validTo).getTime() > Date.now() + 365 * 86_400_000)
  assert.ok(x.checkIP('10.213.7.2') !== undefined)
  if (spawnSync('openssl', ['version']).status !== 0) { console.log('  (openssl not installed: the openssl check is not run)'); return }
  const o = spawnSync('openssl', ['x509', '-noout', '-text', '-fingerprint', '-sha256'], { input: c.cert, encoding: 'utf8' })
  assert.is(o.status, 0, o.stderr)
  assert.match(o.stdout, /Signature Algorithm: ecdsa-with-SHA256/)
  assert.match(o.stdout, /CA:FALSE/)
  assert.ok(o.stdout.includes(`Fingerprint=${c.fingerprint}`), o.stdout)
})

T('the identity is made once in the home (key 0600) and loaded after', () => {
  const home = tempDir('monk-tls-home')
  const a = loadOrMakeTlsIdentity(home, 'p', ['10.0.0.9'])
  assert.ok(a.made)
  assert.is(statSync(join(home, TLS_KEY_FILE)).mode & 0o777, 0o600)
  assert.ok(existsSync(join(home, TLS_CERT_FILE)))
  assert.ok(new X509Certificate(a.cert).subjectAltName?.includes('IP Address:10.0.0.9'))
  const b = loadOrMakeTlsIdentity(home, 'p')
  assert.is(b.made, false)
  assert.is(b.fingerprint, a.fingerprint)
})

T('a listener beyond loopback without TLS is refused', async () => {
  const dir = tempDir('monk-tls-cfg')
  const e = await startApiServer({ socketPath: socketPathIn(dir), tcp: { port: 0, token, host: '0.0.0.0' }, routes: [], dispatch: async () => null }).then(() => null, (err: Error) => err)
  assert.match(e?.message ?? '', /serves TLS only/)
})

T('first use pins (and says so), the pin then holds; a changed certificate is refused before a byte is sent, naming the file', async () => {
  const dir = tempDir('monk-tls-srv')
  const cliHome = tempDir('monk-tls-cli')
  const id = loadOrMakeTlsIdentity(dir, 'srv')
  const server = await startApiServer({
    socketPath: socketPathIn(dir), tcp: { port: 0, token, host: '127.0.0.1', tls: { key: id.key, cert: id.cert } }, routes: [], dispatch: async () => null, info: { peerId: 'p1' },
    upgrade: (_req, socket) => { socket.end('HTTP/1.1 101 Switching Protocols\r\nupgrade: monk-stream\r\nconnection: Upgrade\r\nx-monk-peer: p1\r\n\r\nhi') },
  })
  const file = join(cliHome, KNOWN_MONKDS)
  const notes: string[] = []
  const port = server.tcp!.port
  try {
    assert.is(server.tcp!.tls, true)
    const connect = pinnedConnection('127.0.0.1', port, { file, onPin: t => notes.push(t) })
    const c = createClient({ url: `http://127.0.0.1:${port}`, token, connect })
    assert.is((await c.ping()).peerId, 'p1')
    assert.is(notes.length, 1)
    assert.ok(notes[0]!.includes(id.fingerprint) && notes[0]!.includes(file), notes[0])
    assert.is(pinnedFingerprint(file, `127.0.0.1:${port}`), id.fingerprint)
    assert.is(statSync(file).mode & 0o777, 0o600)
    await c.ping()
    assert.is(notes.length, 1, 'pinned once')
    const up = await openUpgrade({ host: '127.0.0.1', port, token, connect }, '/v1/session/ns/app')
    assert.is(up.peer, 'p1')
    up.socket.destroy()
    const wrong = await createClient({ url: `http://127.0.0.1:${port}`, token: 'not-the-token-at-all', connect }).ping().then(() => null, (e: { code: string }) => e)
    assert.is(wrong?.code, 'unauthorized')
    // plain HTTP to the TLS port gets an error, not a hang
    const plain = await createClient({ url: `http://127.0.0.1:${port}`, token, timeoutMs: 5000 }).ping().then(() => null, (e: { code: string }) => e)
    assert.ok(plain !== null)
  } finally {
    await server.close()
  }
  // another certificate on the same address: refused, and the impostor never sees the request
  const other = makeSelfSignedCert({ commonName: 'impostor', names: ['127.0.0.1'] })
  let received = 0
  const impostor = createTlsServer({ key: other.key, cert: other.cert }, s => { s.on('data', (b: Buffer) => { received += b.length }) })
  await new Promise<void>((resolve, reject) => { impostor.once('error', reject); impostor.listen(port, '127.0.0.1', () => resolve()) })
  try {
    const connect = pinnedConnection('127.0.0.1', port, { file, onPin: t => notes.push(t) })
    const e = await createClient({ url: `http://127.0.0.1:${port}`, token, connect }).ping().then(() => null, (err: { code: string, message: string }) => err)
    assert.is(e?.code, 'cert-changed')
    assert.ok(e!.message.includes(file) && e!.message.includes(other.fingerprint) && e!.message.includes(id.fingerprint), e!.message)
    const u = await openUpgrade({ host: '127.0.0.1', port, token, connect }, '/v1/session/ns/app').then(() => null, (err: { code: string }) => err)
    assert.is(u?.code, 'cert-changed')
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.is(received, 0, 'nothing (no token) reached the impostor')
    assert.is(readFileSync(file, 'utf8').trim().split('\n').length, 1, 'the pin is not replaced')
  } finally {
    await new Promise(resolve => impostor.close(resolve))
  }
})

T('openssl s_client talks to the TLS listener and sees its certificate', async () => {
  if (spawnSync('openssl', ['version']).status !== 0) { console.log('  (openssl not installed: skipped)'); return }
  const dir = tempDir('monk-tls-ossl')
  const id = loadOrMakeTlsIdentity(dir, 'srv')
  const server = await startApiServer({ socketPath: socketPathIn(dir), tcp: { port: 0, token, host: '127.0.0.1', tls: { key: id.key, cert: id.cert } }, routes: [], dispatch: async () => null })
  try {
    const { spawn } = await import('node:child_process')
    const out = await new Promise<string>(resolve => {
      const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${server.tcp!.port}`, '-quiet', '-verify_quiet'], { stdio: ['pipe', 'pipe', 'pipe'] })
      let text = ''
      p.stdout.on('data', (d: Buffer) => { text += String(d) })
      p.stderr.on('data', (d: Buffer) => { text += String(d) })
      p.stdin.end(`GET /v1/ping HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\nconnection: close\r\n\r\n`)
      p.once('close', () => resolve(text))
    })
    assert.match(out, /HTTP\/1\.1 200/)
    assert.match(out, /"ok":true/)
  } finally {
    await server.close()
  }
})

T.run()
