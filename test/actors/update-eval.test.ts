// `update --dry-run` compares evaluated definitions (issue 15's gap): a rewrite that evaluates the
// same changes nothing, a --set that no container uses replaces none, one that reaches a
// container's environment replaces that container, and what needs the owner's host is compared
// as written.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { MapValue } from '../../grammar/monkscript/index.js'
import { evaluateApplied } from '../../actors/handlers/update-eval.js'
import { planUpdate, type Applied } from '../../actors/handlers/update-plan.js'

const U = suite('update --dry-run: evaluated comparison')

const def = (main: MapValue, side: MapValue = { image: 'monk-test/busybox', bash: 'sleep 1000' }, variables: MapValue = {}): MapValue => ({
  variables: { greeting: { type: 'string', value: 'hello', env: 'GREETING' }, word: { type: 'string', value: 'hi' }, ...variables },
  containers: { main: { image: 'monk-test/busybox', ...main }, side },
})
const applied = (value: MapValue, set: Record<string, string> = {}): Applied => ({ value, set, groups: [] })

async function plan (before: Applied, after: Applied, evaluate = true): Promise<ReturnType<typeof planUpdate>> {
  const evaluated = evaluate ? { before: await evaluateApplied('t/app', before), after: await evaluateApplied('t/app', after) } : undefined
  return planUpdate('t/app', before, after, true, evaluated)
}

U('a value rewritten so that it evaluates the same: unchanged, nothing replaced', async () => {
  const before = applied(def({ bash: '<- `echo ${word}`' }))
  const after = applied(def({ bash: 'echo hi' }))
  const p = await plan(before, after)
  assert.equal([p.action, p.replace, p.keep, p.changes], ['unchanged', [], ['main', 'side'], []])
  // as written, the same edit is a change of main (what the plan said before)
  const written = await plan(before, after, false)
  assert.equal([written.action, written.replace], ['update', ['main']])
})

U('a variable rewritten to the same value is not listed; one that changes is, and replaces what uses it', async () => {
  const same = await plan(applied(def({ bash: 'sleep 1000' }, undefined, { word: { type: 'string', value: '<- "hi"' } })), applied(def({ bash: 'sleep 1000' })))
  assert.equal([same.action, same.changes], ['unchanged', []])
  const moved = await plan(applied(def({ bash: '<- `echo ${word}`' })), applied(def({ bash: '<- `echo ${word}`' }, undefined, { word: { type: 'string', value: 'bye' } })))
  assert.equal(moved.replace, ['main'], 'main runs the word; side does not')
  assert.ok(moved.changes.includes('~ variables/word: "hi" → "bye"'), moved.changes.join('\n'))
  assert.ok(moved.changes.includes('~ containers/main/bash: "echo hi" → "echo bye"'), moved.changes.join('\n'))
})

U('--set of a name no container uses replaces nothing; one that reaches the environment replaces every container', async () => {
  const base = def({ bash: 'sleep 1000' })
  const extra = await plan(applied(base), applied(base, { extra: '1' }))
  assert.equal([extra.action, extra.replace, extra.changes], ['update', [], ['+ --set extra: "1"']])
  const greet = await plan(applied(base), applied(base, { greeting: 'hey' }))
  assert.equal(greet.replace, ['main', 'side'])
  assert.ok(greet.changes.includes('~ containers/main/env/GREETING: "hello" → "hey"'), greet.changes.join('\n'))
})

U('a value that needs the owner\'s host is compared as written', async () => {
  const before = applied(def({ bash: '<- "x" peer-ip' }))
  const after = applied(def({ bash: '<- "y" peer-ip' }))
  const e = await evaluateApplied('t/app', after)
  assert.is(e.containers.main, null, 'not evaluable without a host')
  const p = await plan(before, after)
  assert.equal([p.action, p.replace], ['update', ['main']])
  assert.equal(p.changes, ['~ containers/main/bash: "<- \\"x\\" peer-ip" → "<- \\"y\\" peer-ip"'])
})

U.run()
