import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { backoffDelay, CrashCounter, defaultRestartPolicy, type RestartPolicy } from '../../../actors/kit/supervision.js'

const exact: RestartPolicy = { initialDelayMs: 100, factor: 2, maxDelayMs: 1_000, resetAfterMs: 10_000, jitter: 0 }

const Backoff = suite('restart backoff')

const table: Array<[string, number, number, number]> = [
  ['first crash waits the initial delay', 1, 0, 100],
  ['second crash doubles it', 2, 0, 200],
  ['fourth crash', 4, 0, 800],
  ['capped at maxDelayMs', 5, 0, 1_000],
  ['still capped much later', 40, 0, 1_000],
]
for (const [name, crashes, random, expected] of table) {
  Backoff(name, () => assert.is(backoffDelay(exact, crashes, random), expected))
}

Backoff('jitter adds up to the jitter fraction', () => {
  const p = { ...exact, jitter: 0.2 }
  assert.is(backoffDelay(p, 1, 0), 100)
  assert.is(backoffDelay(p, 1, 0.5), 110)
  assert.is(backoffDelay(p, 1, 0.999), 120)
})

Backoff('defaults restart quickly and cap at 30 s', () => {
  assert.is(backoffDelay({ ...defaultRestartPolicy, jitter: 0 }, 1, 0), 100)
  assert.is(backoffDelay({ ...defaultRestartPolicy, jitter: 0 }, 30, 0), 30_000)
})

Backoff('crash counter: crashes in a row grow the delay; a quiet period after a restart resets it', () => {
  const c = new CrashCounter(exact)
  assert.equal(c.crashed(0, 0), { crashes: 1, delayMs: 100 })
  assert.equal(c.crashed(150, 0), { crashes: 2, delayMs: 200 })
  assert.equal(c.crashed(400, 0), { crashes: 3, delayMs: 400 })
  // restarted at 800; a crash 10 s after that counts as a first crash again
  assert.equal(c.crashed(10_800, 0), { crashes: 1, delayMs: 100 })
})

Backoff.run()
