// Unit: the sealed framing of raw tunnel sockets (mesh/tunnel-seal.ts), the tickets and the
// sniffer (mesh/tunnel-raw.ts), on plain objects and loopback sockets.
// - Frames open intact whatever the cut of the bytes; the end frame ends the direction.
// - A flipped bit (body, tag or length), a replayed or reordered frame, a wrong key, a frame over
//   the limit, bytes after the end, and a socket that ends without an end frame are all refused.
// - A ticket is single-use and expires; an unknown one is counted and its socket closed.
// - The sniffer hands MAGIC + ticket id to the raw side, with the bytes after it still readable,
//   and puts any other first bytes back for the original listener, untouched.
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { MAGIC, sniff, Tickets, TICKET_BYTES } from '../../mesh/tunnel-raw.js'
import { PassThrough } from 'node:stream'
import { CIPHERS, MAX_FRAME, Opener, pipeSealed, Sealer, type TunnelCipher } from '../../mesh/tunnel-seal.js'

const T = suite('tunnel sealed framing, tickets, sniffer')

interface Opened { data: Buffer[], ended: boolean, bad: string[] }
function opener (key: Buffer, cipher?: TunnelCipher): { o: Opener, got: Opened } {
  const got: Opened = { data: [], ended: false, bad: [] }
  const o = new Opener(key, { data: p => { got.data.push(...p) }, end: () => { got.ended = true }, bad: why => { got.bad.push(why) } }, cipher)
  return { o, got }
}
const wire = (pieces: Uint8Array[]): Buffer => Buffer.concat(pieces)

for (const cipher of CIPHERS) {
  T(`${cipher}: frames open intact across any cut of the bytes, and the end frame ends the direction`, () => {
    const key = randomBytes(32)
    const s = new Sealer(key, cipher)
    const msgs = [randomBytes(1), randomBytes(65536), randomBytes(100_000), randomBytes(17)]
    const bytes = Buffer.concat([...msgs.map(m => wire(s.seal(m))), wire(s.seal(new Uint8Array(0)))])
    for (const cut of [1, 3, 16, 4096, 65536, bytes.length]) {
      const { o, got } = opener(key, cipher)
      for (let at = 0; at < bytes.length; at += cut) o.push(bytes.subarray(at, at + cut))
      assert.equal(got.bad, [], `cut ${cut}`)
      assert.ok(got.ended, `cut ${cut}: ended`)
      assert.ok(Buffer.concat(got.data).equals(Buffer.concat(msgs)), `cut ${cut}: intact`)
      o.ended()
      assert.equal(got.bad, [], 'a socket end after the end frame is clean')
    }
  })

  T(`${cipher}: a flipped bit anywhere in a frame is refused and nothing of it is handed on`, () => {
    const key = randomBytes(32)
    const frame = wire(new Sealer(key, cipher).seal(randomBytes(1000)))
    for (const at of [1, 3, 4, 500, frame.length - 1]) { // length, body, tag
      const bad = Buffer.from(frame)
      bad[at]! ^= 0x01
      const { o, got } = opener(key, cipher)
      o.push(bad)
      if (at < 4) o.ended() // a longer length waits for bytes that never come
      assert.is(got.bad.length, 1, `bit at ${at}`)
      assert.equal(got.data, [], `bit at ${at}: no plaintext`)
    }
  })

  T(`${cipher}: a replayed or reordered frame, a wrong key, an oversized length and bytes after the end are refused`, () => {
    const key = randomBytes(32)
    const s = new Sealer(key, cipher)
    const f0 = wire(s.seal(Buffer.from('first')))
    const f1 = wire(s.seal(Buffer.from('second')))
    let r = opener(key, cipher)
    r.o.push(f0)
    r.o.push(f0)
    assert.is(r.got.bad.length, 1, 'replay')
    assert.is(Buffer.concat(r.got.data).toString(), 'first')
    r = opener(key, cipher)
    r.o.push(f1)
    assert.is(r.got.bad.length, 1, 'reorder')
    r = opener(randomBytes(32), cipher)
    r.o.push(f0)
    assert.is(r.got.bad.length, 1, 'wrong key')
    r = opener(key, cipher)
    const huge = Buffer.alloc(4)
    huge.writeUInt32BE(MAX_FRAME + 1, 0)
    r.o.push(huge)
    assert.match(r.got.bad[0] ?? '', /exceeds/)
    const t = new Sealer(key, cipher)
    r = opener(key, cipher)
    r.o.push(Buffer.concat([wire(t.seal(new Uint8Array(0))), Buffer.from('x')]))
    assert.match(r.got.bad[0] ?? '', /after the end/)
    r = opener(key, cipher)
    r.o.push(f0)
    r.o.ended()
    assert.match(r.got.bad[0] ?? '', /without an end frame/, 'truncation')
  })
}

T('a frame of several pieces opens as their concatenation; a frame sealed with one cipher does not open with the other', () => {
  const key = randomBytes(32)
  const pieces = [randomBytes(10), randomBytes(65536), new Uint8Array(0), randomBytes(3)]
  const { o, got } = opener(key, 'aes-256-gcm')
  o.push(wire(new Sealer(key, 'aes-256-gcm').seal(pieces)))
  assert.equal(got.bad, [])
  assert.ok(Buffer.concat(got.data).equals(Buffer.concat(pieces)))
  assert.throws(() => new Sealer(key, 'aes-256-gcm').seal([randomBytes(MAX_FRAME), randomBytes(1)]), /exceeds/)
  const other = opener(key, 'chacha20-poly1305')
  other.o.push(wire(new Sealer(key, 'aes-256-gcm').seal(Buffer.from('x'))))
  assert.is(other.got.bad.length, 1)
})

T('pipeSealed seals the reads of one event-loop turn as one frame, intact, and carries the half-close', async () => {
  const server = createServer({ allowHalfOpen: true })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    const accepted = once(server, 'connection')
    const sealed = connect({ port: (server.address() as { port: number }).port, host: '127.0.0.1', allowHalfOpen: true })
    await once(sealed, 'connect')
    const [far] = await accepted as [Socket]
    const [up, down] = [randomBytes(32), randomBytes(32)]
    // the plain side: a stream whose reads we make, 200 of them in one turn
    const plain = new PassThrough({ allowHalfOpen: true }) as unknown as Socket
    const frames: number[] = []
    let ended = false
    const o = new Opener(up, { data: p => { frames.push(Buffer.concat(p).length) }, end: () => { ended = true }, bad: why => { assert.unreachable(why) } }, 'aes-256-gcm')
    far.on('data', (b: Buffer) => { o.push(b) })
    const done = pipeSealed(plain, sealed, up, down, { out: () => {}, in: () => {}, bad: why => { assert.unreachable(why) } }, 'aes-256-gcm')
    const reads = Array.from({ length: 200 }, () => randomBytes(1000))
    for (const r of reads) (plain as unknown as PassThrough).write(r)
    await waitUntil(() => frames.reduce((a, b) => a + b, 0) === 200_000)
    assert.ok(frames.length <= 2, `200 reads in one turn went as ${frames.length} frames`)
    ;(plain as unknown as PassThrough).end()
    await waitUntil(() => ended)
    // the other way: a sealed end frame from far ends the plain side
    const back = new Sealer(down, 'aes-256-gcm')
    far.end(Buffer.concat(back.seal(new Uint8Array(0))))
    await done
  } finally {
    server.close()
  }
})

async function waitUntil (ok: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

T('a ticket is single-use, an unknown one is counted, an unused one expires', async () => {
  const t = new Tickets(200)
  const used: Socket[] = []
  let dropped = 0
  const g = t.issue(s => { used.push(s) }, () => { dropped++ })
  assert.is(g.id.length, TICKET_BYTES)
  assert.is(g.up.length, 32)
  assert.ok(!g.up.equals(g.down), 'a key per direction')
  const fake = (): Socket => { const s = { destroyed: false, destroy () { s.destroyed = true; return s } }; return s as unknown as Socket }
  const first = fake()
  assert.ok(t.redeem(g.id, first))
  assert.is(used[0], first)
  const again = fake()
  assert.not.ok(t.redeem(g.id, again), 'replayed')
  assert.ok(again.destroyed)
  const unknown = fake()
  assert.not.ok(t.redeem(randomBytes(TICKET_BYTES), unknown))
  assert.ok(unknown.destroyed)
  t.issue(() => { assert.unreachable('expired ticket used') }, () => { dropped++ })
  const late = t.issue(() => { assert.unreachable('expired ticket used') }, () => { dropped++ })
  await new Promise(resolve => setTimeout(resolve, 400))
  assert.is(dropped, 2)
  assert.not.ok(t.redeem(late.id, fake()), 'expired')
  assert.equal(t.stats, { issued: 3, used: 1, expired: 2, bad: 3 })
})

/** A loopback server whose sockets go through `sniff`; resolves what each socket turned out to be. */
async function sniffServer (ms = 2000): Promise<{ server: Server, port: number, next: () => Promise<{ kind: 'raw' | 'pass', id?: Buffer, socket: Socket }> }> {
  const waiting: Array<(v: { kind: 'raw' | 'pass', id?: Buffer, socket: Socket }) => void> = []
  const server = createServer(socket => {
    sniff(socket, ms, id => { waiting.shift()?.({ kind: 'raw', id, socket }) }, () => { waiting.shift()?.({ kind: 'pass', socket }) })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: (server.address() as { port: number }).port, next: async () => await new Promise(resolve => { waiting.push(resolve) }) }
}

async function readAll (s: Socket, n: number): Promise<Buffer> {
  const parts: Buffer[] = []
  let have = 0
  for await (const c of s as AsyncIterable<Buffer>) { parts.push(c); have += c.length; if (have >= n) break }
  return Buffer.concat(parts)
}

T('the sniffer hands MAGIC + id to the raw side and puts anything else back untouched', async () => {
  const { server, port, next } = await sniffServer()
  try {
    // a tunnel socket, the preamble cut in two writes, data right behind the id
    const id = randomBytes(TICKET_BYTES)
    let got = next()
    const c1 = connect({ port, host: '127.0.0.1' })
    await once(c1, 'connect')
    c1.write(MAGIC.subarray(0, 5))
    await new Promise(resolve => setTimeout(resolve, 50))
    c1.write(Buffer.concat([MAGIC.subarray(5), id, Buffer.from('after')]))
    let r = await got
    assert.is(r.kind, 'raw')
    assert.ok(r.id?.equals(id))
    assert.is((await readAll(r.socket, 5)).toString(), 'after')
    c1.destroy()
    // a libp2p-like dialer: 24 random bytes first (pnet's nonce), then more
    const nonce = randomBytes(24)
    nonce[0] = MAGIC[0]! ^ 0xff
    got = next()
    const c2 = connect({ port, host: '127.0.0.1' })
    await once(c2, 'connect')
    c2.write(nonce)
    r = await got
    assert.is(r.kind, 'pass')
    c2.write('more')
    assert.ok((await readAll(r.socket, 28)).equals(Buffer.concat([nonce, Buffer.from('more')])), 'the original listener reads every byte')
    c2.destroy()
    // the first bytes match the preamble for a while, then differ
    const near = Buffer.concat([MAGIC.subarray(0, 10), Buffer.from('XXXXXXXXXXXXXXXXXXXXXXXXXX')])
    got = next()
    const c3 = connect({ port, host: '127.0.0.1' })
    await once(c3, 'connect')
    c3.write(near)
    r = await got
    assert.is(r.kind, 'pass')
    assert.ok((await readAll(r.socket, near.length)).equals(near))
    c3.destroy()
  } finally {
    server.close()
  }
})

T('a socket that says nothing goes to the original listener when the sniff times out', async () => {
  const { server, port, next } = await sniffServer(150)
  try {
    const got = next()
    const c = connect({ port, host: '127.0.0.1' })
    await once(c, 'connect')
    const t0 = Date.now()
    const r = await got
    assert.is(r.kind, 'pass')
    assert.ok(Date.now() - t0 >= 100, 'after the timeout')
    c.write('late')
    assert.is((await readAll(r.socket, 4)).toString(), 'late')
    c.destroy()
  } finally {
    server.close()
  }
})

T.run()
