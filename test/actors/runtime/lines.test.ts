// Docker frame demultiplexing, line splitting and the Channel behind every stream.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Channel } from '../../../actors/runtime/channel.js'
import { FrameDemuxer, LineSplitter, demuxBuffer, splitTimestamp } from '../../../actors/runtime/lines.js'

function frame (kind: number, text: string): Buffer {
  const payload = Buffer.from(text)
  const head = Buffer.alloc(8)
  head[0] = kind
  head.writeUInt32BE(payload.length, 4)
  return Buffer.concat([head, payload])
}

const frames = suite('lines: docker frames')
frames('a whole buffer splits into stdout and stderr', () => {
  const out = demuxBuffer(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'more')]))
  assert.equal(out.map(f => [f.stream, f.payload.toString()]), [['stdout', 'out\n'], ['stderr', 'err\n'], ['stdout', 'more']])
})
frames('frames cut anywhere across chunks', () => {
  const all = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world\n')])
  for (let cut = 1; cut < all.length; cut++) {
    const d = new FrameDemuxer()
    const got: string[] = []
    d.push(all.subarray(0, cut), (s, p) => got.push(`${s}:${p.toString()}`))
    d.push(all.subarray(cut), (s, p) => got.push(`${s}:${p.toString()}`))
    assert.equal(got, ['stdout:hello ', 'stderr:oops', 'stdout:world\n'], `cut at ${cut}`)
    assert.is(d.leftover, 0)
  }
})

const split = suite('lines: splitter')
split('lines across chunks, CRLF, the unterminated rest at flush', () => {
  const s = new LineSplitter()
  assert.equal(s.push('a\nb'), ['a'])
  assert.equal(s.push('c\r\nd'), ['bc'])
  assert.equal(s.flush(), ['d'])
  assert.equal(s.flush(), [])
})
split('a multi-byte character cut between chunks survives', () => {
  const s = new LineSplitter()
  const bytes = Buffer.from('né\n')
  assert.equal(s.push(bytes.subarray(0, 2)), [])
  assert.equal(s.push(bytes.subarray(2)), ['né'])
})
split('over-long lines are cut at maxBytes', () => {
  const s = new LineSplitter(10)
  assert.equal(s.push('0123456789abcdefghij\n'), ['0123456789', 'abcdefghij'])
  assert.equal(s.push('x'.repeat(25)), ['x'.repeat(10), 'x'.repeat(10)])
  assert.equal(s.flush(), ['x'.repeat(5)])
})
split('docker timestamps', () => {
  const t = splitTimestamp('2026-11-21T05:05:08.837940660Z hello world')
  assert.is(t.text, 'hello world')
  assert.is(t.time.toISOString(), '2026-11-21T05:05:08.837Z')
})

const channel = suite('lines: channel')
channel('buffers, delivers in order, ends; close runs the hook once', async () => {
  let closed = 0
  const ch = new Channel<number>(() => { closed++ })
  ch.push(1)
  const it = ch[Symbol.asyncIterator]()
  assert.equal(await it.next(), { value: 1, done: false })
  const pending = it.next()
  ch.push(2)
  assert.equal(await pending, { value: 2, done: false })
  ch.end()
  ch.push(3)
  assert.equal(await it.next(), { value: undefined, done: true })
  ch.close()
  assert.is(closed, 1)
})
channel('break in for-await closes it; an error ends the loop after buffered values', async () => {
  let closed = false
  const ch = new Channel<number>(() => { closed = true })
  ch.push(1); ch.push(2)
  for await (const v of ch) { assert.is(v, 1); break }
  assert.ok(closed)
  const failing = new Channel<number>()
  failing.push(1)
  failing.end(new Error('boom'))
  const seen: number[] = []
  try {
    for await (const v of failing) seen.push(v)
    assert.unreachable('should throw')
  } catch (err) {
    assert.is((err as Error).message, 'boom')
  }
  assert.equal(seen, [1])
})

frames.run()
split.run()
channel.run()
