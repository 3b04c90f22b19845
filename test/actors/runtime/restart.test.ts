// Restart decisions and backoff of the process runtime (pure, Docker semantics).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { nextDelay, shouldRestart } from '../../../actors/runtime/restart.js'
import type { RestartPolicy } from '../../../actors/runtime/runtime.js'

const decide = suite('restart: shouldRestart')
const cases: Array<[string, RestartPolicy, number | null, boolean, number, boolean]> = [
  // name, policy, exitCode, stoppedByUser, restartCount, expected
  ['no never', { name: 'no' }, 1, false, 0, false],
  ['always on success', { name: 'always' }, 0, false, 9, true],
  ['always not after stop', { name: 'always' }, 143, true, 0, false],
  ['unless-stopped on failure', { name: 'unless-stopped' }, 1, false, 0, true],
  ['unless-stopped not after stop', { name: 'unless-stopped' }, 0, true, 0, false],
  ['on-failure on failure', { name: 'on-failure' }, 1, false, 100, true],
  ['on-failure not on success', { name: 'on-failure' }, 0, false, 0, false],
  ['on-failure:2 with retries left', { name: 'on-failure', maxRetries: 2 }, 7, false, 1, true],
  ['on-failure:2 exhausted', { name: 'on-failure', maxRetries: 2 }, 7, false, 2, false],
  ['on-failure: unknown exit counts as failure', { name: 'on-failure' }, null, false, 0, true],
  ['on-failure:0 never', { name: 'on-failure', maxRetries: 0 }, 1, false, 0, false]
]
for (const [name, policy, exitCode, stoppedByUser, restartCount, want] of cases) {
  decide(name, () => { assert.is(shouldRestart(policy, { exitCode, stoppedByUser, restartCount }), want) })
}

const backoff = suite('restart: nextDelay')
backoff('doubles from the initial delay up to the cap, resets after a long run', () => {
  const b = { initialMs: 100, maxMs: 1000, resetAfterMs: 10_000 }
  let d = 0
  const seen: number[] = []
  for (let i = 0; i < 6; i++) { d = nextDelay(d, 50, b); seen.push(d) }
  assert.equal(seen, [100, 200, 400, 800, 1000, 1000])
  assert.is(nextDelay(1000, 10_000, b), 100)
})

decide.run()
backoff.run()
