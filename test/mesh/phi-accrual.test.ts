// Unit tests of the φ-accrual detector and the liveness view, on a manual clock (no sleeping).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock } from '../../mesh/clock.js'
import { defaults } from '../../mesh/defaults.js'
import { Liveness } from '../../mesh/liveness.js'
import { PhiAccrual, phiOf } from '../../mesh/phi-accrual.js'

const init = {
  window: defaults.phiWindow,
  minStdDevMs: defaults.phiMinStdDevMs,
  acceptablePauseMs: defaults.phiAcceptablePauseMs,
  expectedIntervalMs: defaults.heartbeatIntervalMs,
}

const Phi = suite('phi-accrual')

Phi('φ is 0 before the first heartbeat and small right after one', () => {
  const clock = new ManualClock()
  const d = new PhiAccrual(init, clock)
  assert.is(d.phi(), 0)
  d.heartbeat()
  assert.ok(d.phi() < 0.5, `phi ${d.phi()}`)
})

Phi('φ rises monotonically with silence', () => {
  const clock = new ManualClock()
  const d = new PhiAccrual(init, clock)
  for (let i = 0; i < 20; i++) { clock.advance(500); d.heartbeat() }
  let prev = d.phi()
  for (let t = 0; t < 6000; t += 100) {
    clock.advance(100)
    const p = d.phi()
    assert.ok(p >= prev, `phi fell from ${prev} to ${p} at +${t} ms`)
    prev = p
  }
})

Phi('regular 500 ms beats: not suspected at 2 s of silence, above the threshold by 3.5 s', () => {
  const clock = new ManualClock()
  const d = new PhiAccrual(init, clock)
  for (let i = 0; i < 50; i++) { clock.advance(500); d.heartbeat() }
  clock.advance(2000)
  assert.ok(d.phi() < defaults.phiThreshold, `phi at 2 s = ${d.phi()}`)
  clock.advance(1500)
  assert.ok(d.phi() > defaults.phiThreshold, `phi at 3.5 s = ${d.phi()}`)
})

Phi('jittery beats (300..700 ms) with occasional 1.5 s pauses never cross the threshold between beats', () => {
  const clock = new ManualClock()
  const d = new PhiAccrual(init, clock)
  let max = 0
  for (let i = 0; i < 2000; i++) {
    const gap = i % 97 === 0 ? 1500 : 300 + ((i * 7919) % 400)
    for (let t = 0; t < gap; t += 50) { clock.advance(50); max = Math.max(max, d.phi()) }
    d.heartbeat()
  }
  assert.ok(max < defaults.phiThreshold, `max phi ${max}`)
})

Phi('the window forgets old intervals: after slow beats, fast beats make silence suspicious sooner', () => {
  const clock = new ManualClock()
  const d = new PhiAccrual({ ...init, window: 10, acceptablePauseMs: 0, minStdDevMs: 10 }, clock)
  for (let i = 0; i < 10; i++) { clock.advance(2000); d.heartbeat() }
  clock.advance(1500)
  const slowPhi = d.phi()
  for (let i = 0; i < 20; i++) { clock.advance(100); d.heartbeat() }
  clock.advance(1500)
  assert.ok(d.phi() > slowPhi + 5, `phi after fast beats ${d.phi()} vs ${slowPhi}`)
})

Phi('phiOf: about 0.3 at the mean, very large far beyond it, finite or Infinity but never NaN', () => {
  assert.ok(Math.abs(phiOf(1000, 1000, 100) - Math.log10(2)) < 0.01)
  assert.ok(phiOf(2000, 1000, 100) > 20)
  assert.not.ok(Number.isNaN(phiOf(1e9, 1000, 100)))
})

const Live = suite('liveness')

Live('a beat brings a peer up once; φ past the threshold takes it down with reason failed', () => {
  const clock = new ManualClock()
  const l = new Liveness({ ...init, threshold: defaults.phiThreshold }, clock)
  const events: string[] = []
  l.onUp(p => events.push(`up ${p}`))
  l.onDown((p, r) => events.push(`down ${p} ${r}`))
  for (let i = 0; i < 10; i++) { l.beat('B'); clock.advance(500); l.check() }
  assert.equal(events, ['up B'])
  assert.equal(l.alive(), ['B'])
  for (let i = 0; i < 40; i++) { clock.advance(100); l.check() }
  assert.equal(events, ['up B', 'down B failed'])
  assert.equal(l.alive(), [])
  l.beat('B')
  assert.equal(events.at(-1), 'up B', 'a dead peer that beats again comes back up')
})

Live('unreachable and leave take a peer down at once; repeated verdicts do not repeat events', () => {
  const clock = new ManualClock()
  const l = new Liveness({ ...init, threshold: defaults.phiThreshold }, clock)
  const events: string[] = []
  l.onDown((p, r) => events.push(`${p} ${r}`))
  l.beat('B'); l.beat('C')
  l.unreachable('B'); l.unreachable('B')
  l.leave('C'); l.leave('C')
  assert.equal(events, ['B unreachable', 'C left'])
  assert.equal(l.state('B'), 'dead')
  assert.equal(l.state('C'), 'left')
})

Live('a throwing listener does not stop the others', () => {
  const clock = new ManualClock()
  const l = new Liveness({ ...init, threshold: defaults.phiThreshold }, clock)
  let seen = 0
  l.onUp(() => { throw new Error('boom') })
  l.onUp(() => { seen++ })
  l.beat('B')
  assert.is(seen, 1)
})

Phi.run()
Live.run()
