// logs, exec, shell, do and actions against a stand-in monkd (real API server and schemas).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { LogItem } from '../../../cli/api/messages.js'
import { startFakeDaemon, type FakeDaemon } from '../../helpers/cli-fake-daemon.js'
import { monkIn, monkProc } from '../../helpers/cli-run.js'
import { waitFor } from '../../helpers/actors-wait.js'

let d: FakeDaemon
const I = suite('monk logs/exec/shell/do/actions (stand-in monkd)')
I.before(async () => {
  d = await startFakeDaemon({ startPolls: 0 })
  const kit = (await import('node:path')).join(process.cwd(), 'examples/guestbook')
  for (const args of [['load', kit], ['run', 'guestbook/store']]) {
    const r = await monkIn(['--home', d.home, ...args])
    if (r.code !== 0) throw new Error(`setup ${args.join(' ')}: ${r.err}`)
  }
})
I.after(async () => { await d.close() })
const monk = (...args: string[]) => monkIn(['--home', d.home, ...args])
const last = (type: string): unknown => JSON.parse(JSON.stringify(d.seen.filter(s => s.message.type === type).at(-1)?.message ?? null))

I('logs: the last 10 lines by default, stderr lines to stderr; --last, --all, --container', async () => {
  const r = await monk('logs', 'guestbook/store')
  assert.is(r.code, 0, r.err)
  assert.equal(last('runnable.logs'), { type: 'runnable.logs', tail: 10 })
  assert.is(r.out.split('\n').filter(Boolean).length + r.err.split('\n').filter(Boolean).length, 10)
  assert.match(r.out, /^guestbook\/store line 20$/m)
  assert.match(r.err, /^guestbook\/store line 29$/m)
  await monk('logs', '--last', '3', '-c', 'main', 'guestbook/store')
  assert.equal(last('runnable.logs'), { type: 'runnable.logs', tail: 3, container: 'main' })
  const all = await monk('log', '--all', '--prefix', 'guestbook/store')
  assert.equal(last('runnable.logs'), { type: 'runnable.logs' })
  assert.match(all.out, /^main \| guestbook\/store line 0$/m)
})

I('logs --output json: one LogItem per line', async () => {
  const r = await monk('--output', 'json', 'logs', '-l', '2', 'guestbook/store')
  const items = r.out.trim().split('\n').map(l => JSON.parse(l) as LogItem)
  assert.is(items.length, 2)
  assert.equal(Object.keys(items[0]!).sort(), ['container', 'stream', 'text', 'time'])
})

I('logs --follow streams new lines until Ctrl-C, then exits 0 and the stream ends on monkd', async () => {
  const ended = d.followEnded
  const r = await monkProc(['--home', d.home, 'logs', '-f', '-l', '2', 'guestbook/store'], { signalAfter: { text: 'live 33', signal: 'SIGINT' } })
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^guestbook\/store line 28\n/, 'starts with the tail')
  assert.is(r.err, 'guestbook/store line 29\n')
  assert.match(r.out, /guestbook\/store live 30\nguestbook\/store live 31\n/)
  await waitFor('the follow stream to end on monkd', () => d.followEnded > ended, 5_000)
})

I('logs of an unknown instance: the daemon\'s not-found, exit 1', async () => {
  const r = await monk('logs', 'guestbook/nope')
  assert.is(r.code, 1)
  assert.match(r.err, /^monk: no instance guestbook\/nope/)
})

I('exec: command after --, output passed through, non-zero exit → exit 1; JSON', async () => {
  const r = await monk('exec', 'guestbook/store', '--', 'sh', '-c', 'echo out; echo err >&2')
  assert.is(r.code, 0, r.err)
  assert.is(r.out, 'out\n')
  assert.is(r.err, 'err\n')
  assert.equal(last('runnable.exec'), { type: 'runnable.exec', cmd: ['sh', '-c', 'echo out; echo err >&2'] })
  const f = await monk('exec', '-c', 'main', 'guestbook/store', 'false')
  assert.is(f.code, 1)
  assert.match(f.err, /false exited with code 1/)
  assert.equal(last('runnable.exec'), { type: 'runnable.exec', cmd: ['false'], container: 'main' })
  const j = await monk('--output', 'json', 'exec', 'guestbook/store', '--', 'sh', '-c', 'exit 4')
  assert.equal(JSON.parse(j.out), { exitCode: 4, stdout: '', stderr: '' })
  assert.is((await monk('exec', 'guestbook/store')).code, 2, 'no command is a usage error')
})

I('shell: lines from stdin, cd remembered, exit status of the last line', async () => {
  const r = await monkProc(['--home', d.home, 'shell', 'guestbook/store'], { input: 'cd /usr\npwd\necho $((2+3))\nls /no-such-dir-here\n' })
  assert.is(r.out, '/usr\n5\n')
  assert.match(r.err, /no-such-dir-here/)
  assert.is(r.code, 1)
  const ok = await monkProc(['--home', d.home, 'shell', 'guestbook/store'], { input: 'true\n' })
  assert.is(ok.code, 0, ok.err)
  const gone = await monkProc(['--home', d.home, 'shell', 'guestbook/nope'], { input: 'true\n' })
  assert.is(gone.code, 1)
  assert.match(gone.err, /no instance guestbook\/nope/)
})

I('do: args sent as name=value, output printed; JSON {"output"}; missing argument passed through', async () => {
  const r = await monk('do', 'guestbook/store/put', 'key=a', 'value=b c')
  assert.is(r.code, 0, r.err)
  assert.is(r.out, 'stored a=b c\n')
  assert.equal(last('runnable.action'), { type: 'runnable.action', action: 'put', args: { key: 'a', value: 'b c' } })
  const j = await monk('--output', 'json', 'do', 'guestbook/store/put', 'key=k')
  assert.equal(JSON.parse(j.out), { output: 'stored k=hello' })
  const missing = await monk('do', 'guestbook/store/put', 'value=x')
  assert.is(missing.code, 1)
  assert.is(missing.err, 'monk: action guestbook/store/put needs argument "key"\n')
  const mj = await monk('--output', 'json', 'do', 'guestbook/store/put')
  assert.equal(JSON.parse(mj.out), { error: { code: 'missing-argument', message: 'action guestbook/store/put needs argument "key"' } })
  assert.is((await monk('do', 'guestbook/store/put', 'oops')).code, 2)
  assert.is((await monk('do', 'store')).code, 2)
})

I('actions: table of actions with their arguments; JSON list', async () => {
  const r = await monk('actions', 'guestbook/store')
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^ACTION\s+DESCRIPTION\s+ARGUMENTS\nguestbook\/store\/put\s+store an entry\s+key:string value:string=hello\n$/)
  const j = JSON.parse((await monk('--output', 'json', 'actions', 'guestbook/store')).out) as Array<{ name: string }>
  assert.equal(j.map(a => a.name), ['put'])
})

I.run()
