// Unit tests of length-prefixed framing: split and merged chunks, limits, truncation.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ProtocolError } from '../../mesh/errors.js'
import { frame, FrameReader, FrameWriter } from '../../mesh/framing.js'

async function * chunks (list: Uint8Array[]): AsyncGenerator<Uint8Array> { for (const c of list) yield c }
const bytes = (n: number, fill = 7): Uint8Array => new Uint8Array(n).fill(fill)

const Framing = suite('framing')

Framing('frames survive arbitrary chunking (1-byte chunks and one merged chunk)', async () => {
  const payloads = [bytes(0), bytes(1), bytes(127), bytes(128), bytes(300, 9), bytes(70_000, 3)]
  const wire = payloads.map(frame)
  const all = new Uint8Array(wire.reduce((n, w) => n + w.length, 0))
  let o = 0
  for (const w of wire) { all.set(w, o); o += w.length }
  for (const split of [[all], [...all].map(b => new Uint8Array([b]))]) {
    const r = new FrameReader(chunks(split), 100_000)
    for (const p of payloads) assert.equal(await r.next(), p)
    assert.is(await r.next(), undefined)
  }
})

async function failure (p: Promise<unknown>): Promise<unknown> {
  try { await p } catch (err) { return err }
  return undefined
}

Framing('a frame over the limit and a stream cut inside a frame are protocol errors', async () => {
  assert.instance(await failure(new FrameReader(chunks([frame(bytes(50))]), 49).next()), ProtocolError)
  assert.instance(await failure(new FrameReader(chunks([frame(bytes(50)).subarray(0, 20)]), 100).next()), ProtocolError)
})

Framing('FrameWriter sends queued frames in order through sink and finishes on end()', async () => {
  const got: Uint8Array[] = []
  const w = new FrameWriter({ sink: async source => { for await (const c of source) got.push(c instanceof Uint8Array ? c : c.subarray()) } })
  w.write(bytes(2, 1))
  w.write(bytes(3, 2))
  w.end()
  w.write(bytes(1, 3))
  await w.done
  const r = new FrameReader(chunks(got), 100)
  assert.equal(await r.next(), bytes(2, 1))
  assert.equal(await r.next(), bytes(3, 2))
  assert.is(await r.next(), undefined)
})

Framing.run()
