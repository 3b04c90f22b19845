// The first hour of a new user (issue 19), the parts that need no daemon: the process runtime's
// tree words, "did you mean" for a mistyped path, what Ctrl-C during a waited run says, and the
// hint when `exec` takes the command's options for its own.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe } from '../../cli/api/messages.js'
import { interruptedLine } from '../../cli/commands/wait.js'
import { renderSummary } from '../../cli/format/summary.js'
import { closest, didYouMean, editDistance } from '../../actors/suggest.js'
import { monk } from '../helpers/cli.js'

const F = suite('first hour: offline')
const plain = { fancy: false, status: (s: string) => s }
const described = (runtime?: string): Describe => ({
  instance: 'op/app', template: 'op/app', state: 'run', status: 'running', peer: '12D3KooWQbcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH', peerName: 'solo',
  ...(runtime !== undefined ? { runtime } : {}),
  containers: [{ name: 'main', image: 'monk-test/busybox:1', status: 'running' }], ports: [], ready: true, error: null, waiting: null, generation: 1,
})

F('the process runtime\'s tree says process, and shows no image it does not use; docker keeps container and image', () => {
  const proc = renderSummary([described('process')], plain)
  assert.match(proc, /└─ process main {2}running\n/)
  assert.not.match(proc, /container|image/)
  const docker = renderSummary([described('docker')], plain)
  assert.match(docker, /└─ container main {2}running\n {6}└─ image monk-test\/busybox:1\n/)
  assert.ok(renderSummary([described('process')], { fancy: true, status: s => s }).includes('⚙️ main'))
})

F('did you mean: the nearest known path for a typo, nothing for a stranger', () => {
  assert.is(editDistance('op/apq', 'op/app'), 1)
  assert.is(editDistance('op/pap', 'op/app'), 1, 'two neighbours swapped is one edit')
  assert.is(closest('guestbok/web', ['guestbook/web', 'guestbook/store']), 'guestbook/web')
  assert.is(didYouMean('guestbook/stor', ['guestbook/web', 'guestbook/store']), ' (did you mean guestbook/store?)')
  assert.is(didYouMean('zzz/qqqq', ['guestbook/web', 'guestbook/store']), '')
  assert.is(didYouMean('op/app', ['op/app']), '', 'the name itself is no suggestion')
})

F('Ctrl-C during a waited command says what monkd goes on doing and how to cancel it', () => {
  assert.is(interruptedLine({ type: 'workload.run', path: 'op/app' }, ['op/app']), 'monk: interrupted; monkd goes on starting op/app (monk ps and monk describe op/app show where it is; monk stop op/app cancels it)')
  assert.match(interruptedLine({ type: 'workload.stop', path: 'op/app' }, []), /goes on stopping op\/app .*monk run op\/app starts it again/)
  assert.match(interruptedLine({ type: 'workload.purge', path: 'op/grp' }, ['op/a', 'op/b']), /goes on removing op\/a, op\/b/)
})

F('exec without -- before an option of the command: a usage error with the hint', () => {
  const r = monk(['exec', 'op/app', 'ls', '-la'])
  assert.is(r.code, 2)
  assert.match(r.err, /unknown option '-la'\nhint: put -- before the command so its options reach it: monk exec PATH -- CMD ARGS\.\.\.\n/)
})

F.run()
