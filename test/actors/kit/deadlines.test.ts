import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Deadlines } from '../../../actors/kit/deadlines.js'
import { ManualScheduler } from '../../helpers/actors-clock.js'

const D = suite('actor kit: deadlines')

D('expires each id once at its deadline, one clock timer per timeout length', () => {
  const clock = new ManualScheduler()
  const expired: number[] = []
  const d = new Deadlines(clock, id => expired.push(id))
  d.add(1, 100)
  clock.advance(10)
  d.add(2, 100)
  d.add(3, 50)
  assert.equal(clock.timers(), [50, 90])
  clock.advance(49)
  assert.equal(expired, [])
  clock.advance(1)
  assert.equal(expired, [3])
  clock.advance(40)
  assert.equal(expired, [3, 1])
  clock.advance(9)
  assert.equal(expired, [3, 1])
  clock.advance(1)
  assert.equal(expired, [3, 1, 2])
  assert.equal(clock.timers(), [])
})

D('many deadlines in one bucket expire in order and the bucket compacts', () => {
  const clock = new ManualScheduler()
  const expired: number[] = []
  const d = new Deadlines(clock, id => expired.push(id))
  // id i is added at t0 + i and expires at t0 + i + 1000
  for (let i = 0; i < 5000; i++) { d.add(i, 1000); clock.advance(1) }
  assert.is(expired.length, 4001) // now t0 + 5000: ids 0..4000 are due
  clock.advance(500)
  assert.is(expired.length, 4501)
  assert.equal(expired.slice(0, 3), [0, 1, 2])
  clock.advance(10_000)
  assert.is(expired.length, 5000)
  assert.ok(expired.every((id, i) => id === i))
})

D('an id added from inside expire is scheduled, not lost', () => {
  const clock = new ManualScheduler()
  const expired: number[] = []
  const d = new Deadlines(clock, id => { expired.push(id); if (id === 1) d.add(2, 100) })
  d.add(1, 100)
  clock.advance(100)
  assert.equal(clock.timers(), [100])
  clock.advance(100)
  assert.equal(expired, [1, 2])
})

D('clear() cancels everything', () => {
  const clock = new ManualScheduler()
  const expired: number[] = []
  const d = new Deadlines(clock, id => expired.push(id))
  d.add(1, 10)
  d.add(2, 20)
  d.clear()
  clock.advance(100)
  assert.equal(expired, [])
  assert.equal(clock.timers(), [])
})

D.run()
