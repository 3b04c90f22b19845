// Upgraded streams of the control API (shell, port-forward): the server hands an authorised
// `Upgrade: monk-stream` to its handler and refuses others with a JSON error; the client gets the
// socket on 101 and the daemon's error otherwise; the session frames and upgrade URLs parse and
// refuse what is malformed, naming the field.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { encodeFrame, frameJson, FrameReader, parseStart } from '../../../actors/cluster/session-wire.js'
import { openUpgrade } from '../../../cli/api/upgrade-client.js'
import { startApiServer } from '../../../cli/api/server.js'
import { socketPathIn } from '../../../cli/api/protocol.js'
import { requestOf } from '../../../cli/operator-upgrade.js'
import { sessionUrl } from '../../../cli/commands/attach.js'
import { forwardUrl, parsePorts } from '../../../cli/commands/port-forward.js'

const U = suite('control API upgrades')

U('an authorised upgrade reaches the handler and carries bytes both ways; a wrong token and an unknown protocol are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'monk-upg-'))
  const token = 'a-token-of-at-least-16-chars'
  const server = await startApiServer({
    socketPath: socketPathIn(dir), tcp: { port: 0, token }, routes: [], dispatch: async () => null,
    upgrade: (req, socket) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: monk-stream\r\nconnection: Upgrade\r\nx-monk-peer: p1\r\n\r\n`)
      socket.on('data', (b: Buffer) => { socket.end(`${req.url ?? ''} got ${b.toString()}`) })
    },
  })
  try {
    for (const target of [{ socketPath: socketPathIn(dir) }, { host: '127.0.0.1', port: server.tcp!.port, token }]) {
      const up = await openUpgrade(target, '/v1/session/ns/app?start=x')
      assert.is(up.peer, 'p1')
      up.socket.write('hello')
      let got = ''
      up.socket.on('data', (b: Buffer) => { got += b.toString() })
      await new Promise(resolve => up.socket.once('close', resolve))
      assert.is(got, '/v1/session/ns/app?start=x got hello')
    }
    const bad = await openUpgrade({ host: '127.0.0.1', port: server.tcp!.port, token: 'wrong-token-wrong-token' }, '/v1/session/ns/app').then(() => null, (e: { code: string, status: number }) => e)
    assert.is(bad?.code, 'unauthorized')
    assert.is(bad?.status, 401)
  } finally {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

U('session frames: split across chunks, typed payloads, malformed ones refused', () => {
  const bytes = Buffer.concat([encodeFrame('i', Buffer.from('ls\r')), encodeFrame('r', { cols: 100, rows: 25 }), encodeFrame('e')])
  const r = new FrameReader()
  const frames = [...r.push(bytes.subarray(0, 3)), ...r.push(bytes.subarray(3, 11)), ...r.push(bytes.subarray(11))]
  assert.equal(frames.map(f => f.type), ['i', 'r', 'e'])
  assert.is(Buffer.from(frames[0]!.payload).toString(), 'ls\r')
  assert.equal(frameJson(frames[1]!), { cols: 100, rows: 25 })
  assert.throws(() => new FrameReader().push(Buffer.from([0x5a, 0, 0, 0, 0])), /malformed session frame/)
  assert.throws(() => new FrameReader().push(Buffer.from([0x69, 0xff, 0, 0, 0])), /exceeds/)
})

U('upgrade URLs: a session start and a forward port round-trip; bad ones name the field', () => {
  const s = requestOf(sessionUrl('ns/app', { cmd: ['sh', '-c', 'echo "a b"'], tty: true, cols: 80, rows: 24, term: 'xterm-256color' }))
  assert.equal(s, { kind: 'session', instance: 'ns/app', start: { cmd: ['sh', '-c', 'echo "a b"'], tty: true, cols: 80, rows: 24, term: 'xterm-256color' } })
  assert.equal(requestOf(forwardUrl('ns/web', 8080)), { kind: 'forward', instance: 'ns/web', port: 8080 })
  assert.throws(() => requestOf('/v1/forward/ns/web?port=70000'), /port: 1 to 65535/)
  assert.throws(() => requestOf('/v1/session/ns/app?start={"cmd":[]}'), /cmd: a non-empty list/)
  assert.throws(() => parseStart({ cmd: ['sh'], tty: true, cols: 0 }), /cols: a whole number/)
  assert.throws(() => parseStart({ cmd: ['sh'], tty: true, term: 'x; rm -rf' }), /term: a terminal name/)
  assert.throws(() => requestOf('/v1/other/ns/app'), /no stream endpoint/)
  assert.equal(parsePorts('8080'), { local: 8080, remote: 8080 })
  assert.equal(parsePorts('0:8080'), { local: 0, remote: 8080 })
  assert.throws(() => parsePorts('x:1'), /\[LOCAL:\]REMOTE/)
  assert.throws(() => parsePorts('1:0'), /ports are 1 to 65535/)
})

U.run()
