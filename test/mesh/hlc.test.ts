// Unit tests of the hybrid logical clock: monotonic issue, observe, skew refusal, restore, order.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock } from '../../mesh/clock.js'
import { DecodeError } from '../../mesh/errors.js'
import { compareHlc, HlcClock, type Hlc } from '../../mesh/hlc.js'

const Hlcs = suite('hlc')

Hlcs('now() is strictly increasing even when the wall clock stands still or goes back', () => {
  const clock = new ManualClock(1000)
  const h = new HlcClock('A', clock, 60_000)
  const a = h.now()
  const b = h.now()
  clock.setWall(500)
  const c = h.now()
  assert.ok(compareHlc(a, b) < 0)
  assert.ok(compareHlc(b, c) < 0)
  assert.equal(c.wall, 1000)
  assert.equal(c.counter, 2)
  clock.setWall(2000)
  const d = h.now()
  assert.equal([d.wall, d.counter], [2000, 0])
})

Hlcs('observe() moves the clock past a remote timestamp', () => {
  const clock = new ManualClock(1000)
  const h = new HlcClock('A', clock, 60_000)
  h.observe({ wall: 5000, counter: 7, peer: 'B' })
  const next = h.now()
  assert.ok(compareHlc(next, { wall: 5000, counter: 7, peer: 'B' }) > 0)
  assert.equal([next.wall, next.counter], [5000, 8])
})

Hlcs('checkSkew() refuses a timestamp too far in the future with reason skew', () => {
  const clock = new ManualClock(1000)
  const h = new HlcClock('A', clock, 60_000)
  try {
    h.checkSkew({ wall: 1000 + 60_001, counter: 0, peer: 'B' })
    assert.unreachable('should throw')
  } catch (err) {
    assert.instance(err, DecodeError)
    assert.equal((err as DecodeError).reason, 'skew')
  }
  assert.equal(h.now().wall, 1000, 'the clock did not move')
  h.checkSkew({ wall: 1000 + 60_000, counter: 0, peer: 'B' })
})

Hlcs('restore() only moves forward and keeps new timestamps above the high-water mark', () => {
  const clock = new ManualClock(1000)
  const h = new HlcClock('A', clock, 60_000)
  h.restore({ wall: 9000, counter: 3 })
  h.restore({ wall: 100, counter: 0 })
  assert.equal(h.highWater(), { wall: 9000, counter: 3 })
  const t = h.now()
  assert.equal([t.wall, t.counter], [9000, 4])
})

const order: Array<[string, Hlc, Hlc, number]> = [
  ['wall decides first', { wall: 1, counter: 9, peer: 'Z' }, { wall: 2, counter: 0, peer: 'A' }, -1],
  ['then the counter', { wall: 2, counter: 1, peer: 'Z' }, { wall: 2, counter: 2, peer: 'A' }, -1],
  ['then the peer id', { wall: 2, counter: 2, peer: 'A' }, { wall: 2, counter: 2, peer: 'B' }, -1],
  ['equal', { wall: 2, counter: 2, peer: 'A' }, { wall: 2, counter: 2, peer: 'A' }, 0],
]
for (const [name, a, b, want] of order) {
  Hlcs(`compareHlc: ${name}`, () => {
    assert.equal(compareHlc(a, b), want)
    assert.equal(compareHlc(b, a), -want || 0)
  })
}

Hlcs.run()
