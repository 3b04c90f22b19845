// Action arguments are coerced by the same function as variables: `yes` is a bool for both.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { actionArguments } from '../../../actors/runnable/actions.js'
import { runnableSpec } from '../../../grammar/monkscript/runnable-spec.js'
import { buildScope, ScopeVars } from '../../../grammar/monkscript/variables.js'

const A = suite('runnable: action arguments')
const { spec } = runnableSpec('t/app', {
  actions: {
    go: { code: '$args', arguments: { flag: { type: 'bool' }, n: { type: 'int', default: 2 }, ratio: { type: 'float', default: '0.5' }, who: { type: 'string', description: 'whom to greet' } } },
  },
})
const go = spec.actions.go as NonNullable<typeof spec.actions.go>

A('the same words are booleans for an argument and for a variable', async () => {
  for (const [word, want] of [['yes', true], ['on', true], ['true', true], ['1', true], ['no', false], ['off', false], ['false', false]] as const) {
    assert.is(actionArguments('t/app', go, { flag: word, who: 'x' }).flag, want, `argument ${word}`)
    const vars = new ScopeVars(buildScope({ variables: { v: { type: 'bool', value: word } } }))
    assert.is(await vars.get('v'), want, `variable ${word}`)
  }
})

A('defaults apply and are coerced; ints accept what variables accept', () => {
  assert.equal(actionArguments('t/app', go, { flag: 'yes', who: 'x' }), { flag: true, n: 2, ratio: 0.5, who: 'x' })
  assert.is(actionArguments('t/app', go, { flag: false, who: 'x', n: '0x10' }).n, 16)
})

A('missing, unknown and badly typed arguments are errors naming the argument', () => {
  const code = (f: () => unknown): string => { try { f(); return 'none' } catch (e) { return `${(e as { code: string }).code}: ${(e as Error).message}` } }
  assert.match(code(() => actionArguments('t/app', go, { flag: true })), /^missing-argument: action t\/app\/go needs argument "who" \(whom to greet\)/)
  assert.match(code(() => actionArguments('t/app', go, { flag: true, who: 'x', extra: 1 })), /^unknown-argument: .*no argument "extra"/)
  // a mistyped name is named as unknown, not reported as the declared one missing
  assert.match(code(() => actionArguments('t/app', go, { flag: true, whom: 'x' })), /^unknown-argument: action t\/app\/go has no argument "whom" \(arguments: flag, n, ratio, who\)/)
  assert.match(code(() => actionArguments('t/app', go, { flag: 'maybe', who: 'x' })), /^bad-argument: action t\/app\/go: argument flag is declared bool/)
  assert.match(code(() => actionArguments('t/app', go, { flag: true, who: 'x', n: '1.5' })), /^bad-argument: .*argument n is declared int/)
})

A.run()
