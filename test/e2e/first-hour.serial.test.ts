// The first hour of a new user (issue 19) against one real monkd (process runtime), each check a
// mistake a user made with a kit of their own: a run that cannot be placed, a readiness check that
// never passes, Ctrl-C during a run, group logs, a wrong container name, a mistyped path, purging a
// group with its members, and a daemon start that fails next to an old log.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe, PsRow } from '../../cli/api/messages.js'
import { cleanup, e2eBase, ensureBuilt, monkBin, monkJs, peerIn, startPeer, until, type E2ePeer } from '../helpers/cli-e2e.js'
import { root } from '../helpers/cli.js'

const base = e2eBase('first-hour')
const ns = `fh${process.pid}`
const kitDir = join(base, 'kit')
mkdirSync(kitDir)
const busybox = 'image: monk-test/busybox\n      image-tag: "1"'
writeFileSync(join(kitDir, 'kit.yaml'), `namespace: ${ns}
app:
  defines: runnable
  containers:
    main:
      ${busybox}
      bash: while true; do echo "app says hi"; sleep 0.3; done
other:
  defines: runnable
  containers:
    main:
      ${busybox}
      bash: while true; do echo "other says hi"; sleep 0.3; done
typo:
  defines: runnable
  variables:
    port: {type: int, value: 80}
  containers:
    main:
      ${busybox}
      bash: exec sleep 100000
  checks:
    readiness:
      code: exec("main", "sh", "-c", \`echo \${port}\`) "8080" contains?
      period: 0.2
      attempts: 3
slow:
  defines: runnable
  containers:
    main:
      ${busybox}
      bash: exec sleep 100000
  checks:
    readiness:
      code: exec("main", "sh", "-c", "echo no") "yes" contains?
      period: 1
      attempts: 600
pair:
  defines: group
  members: [app, other]
`)

let p: E2ePeer
const S = suite('first hour (built monk, one monkd)')
S.before(async () => {
  ensureBuilt()
  p = peerIn('solo', base)
  await startPeer(p)
  const r = await p.monk('load', kitDir)
  if (r.code !== 0) throw new Error(`load: ${r.err}`)
})
S.after(async () => {
  await p.monk('purge', `${ns}/app`, `${ns}/other`, `${ns}/typo`, `${ns}/slow`).catch(() => undefined)
  await cleanup([p], base)
})

S('a run pinned to a peer nobody has fails at once with the reason; ps and describe say it too', async () => {
  const t0 = Date.now()
  const r = await p.monk('run', '--timeout', '120', '-p', 'nosuchpeer', `${ns}/app`)
  const took = Date.now() - t0
  assert.is(r.code, 1, r.out)
  assert.match(r.err, new RegExp(`monk: ${ns}/app cannot be placed: no peer is named "nosuchpeer" \\(known: solo\\)\\. monkd keeps the request .* monk stop ${ns}/app cancels it`))
  assert.ok(took < 60_000, `failed after ${took} ms, not at once`)
  const row = (await p.json<PsRow[]>('ps')).find(x => x.instance === `${ns}/app`)
  assert.match(row?.waiting ?? '', /no peer is named "nosuchpeer"/, JSON.stringify(row))
  const d = await p.json<Describe>('describe', `${ns}/app`)
  assert.is(d.status, 'not placed')
  assert.match(d.waiting ?? '', /1 not the pinned peer; no peer is named "nosuchpeer"/)
  await p.monk('stop', `${ns}/app`)
})

S('a run wanting a tag no peer has fails at once, naming the tag', async () => {
  const r = await p.monk('run', '--timeout', '120', '-t', 'gpu', `${ns}/other`)
  assert.is(r.code, 1, r.out)
  assert.match(r.err, /cannot be placed: no peer has the tag gpu \(a peer takes tags with monkd --tag\)/)
  await p.monk('stop', `${ns}/other`)
})

S('readiness out of attempts ends failed, with what the last check gave in describe and the monkd log', async () => {
  const r = await p.monk('run', '--timeout', '120', `${ns}/typo`)
  assert.is(r.code, 1, r.out)
  assert.match(r.err, /readiness check failed 3 times; the last time the check gave false/)
  const d = await p.json<Describe>('describe', `${ns}/typo`)
  assert.is(d.status, 'failed')
  assert.match(d.error ?? '', /readiness check failed 3 times; the last time the check gave false/)
  const log = readFileSync(join(p.home, 'logs', 'monkd.log'), 'utf8')
  assert.match(log, /readiness check failed 3 times; the last time the check gave false/)
  await p.monk('stop', `${ns}/typo`)
})

S('Ctrl-C during a waited run: exit 130, the spinner line ended, and what goes on and how to cancel', async () => {
  const child = spawn(process.execPath, [monkJs, '--home', p.home, 'run', `${ns}/slow`], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
  const code = new Promise<number | null>(resolve => child.once('close', c => resolve(c)))
  // the daemon is waiting for readiness: the run is under way
  await until('the slow instance to be checking readiness', async () => (await p.json<Describe>('describe', `${ns}/slow`)).waiting === 'readiness', 60_000)
  child.kill('SIGINT')
  assert.is(await code, 130)
  assert.match(err, new RegExp(`monk: interrupted; monkd goes on starting ${ns}/slow \\(monk ps and monk describe ${ns}/slow show where it is; monk stop ${ns}/slow cancels it\\)\\n$`))
  const d = await p.json<Describe>('describe', `${ns}/slow`)
  assert.is(d.state, 'run', 'the work went on')
  await p.monk('purge', `${ns}/slow`)
})

S('logs of a group: every member\'s lines, prefixed with the member', async () => {
  const r = await p.monk('run', '-p', 'solo', `${ns}/pair`)
  assert.is(r.code, 0, r.err)
  const logs = await until('both members to have logged', async () => {
    const l = await p.monk('logs', `${ns}/pair`)
    return l.code === 0 && l.out.includes(`${ns}/app | app says hi`) && l.out.includes(`${ns}/other | other says hi`) ? l : undefined
  })
  assert.is(logs.code, 0)
})

S('a wrong container name lists the real ones; a mistyped path gets a did-you-mean', async () => {
  const c = await p.monk('exec', '-c', 'mian', `${ns}/app`, '--', 'true')
  assert.is(c.code, 1)
  assert.match(c.err, new RegExp(`${ns}/app has no container "mian" on this peer \\(its containers: main\\)`))
  const l = await p.monk('logs', `${ns}/ap`)
  assert.is(l.code, 1)
  assert.match(l.err, new RegExp(`${ns}/ap is not running \\(did you mean ${ns}/app\\?\\)`))
  const r = await p.monk('run', `${ns}/ohter`)
  assert.is(r.code, 1)
  assert.match(r.err, new RegExp(`no template "${ns}/ohter" is loaded \\(did you mean ${ns}/other\\?\\)`))
})

S('purge -x of a group and its members succeeds and exits 0', async () => {
  const r = await p.monk('purge', '-x', `${ns}/pair`, `${ns}/app`, `${ns}/other`)
  assert.is(r.code, 0, r.err)
  assert.match(r.err, /Purged 2 instances/)
  const list = await p.monk('ps', '-a')
  assert.not.match(list.out, new RegExp(`${ns}/(app|other)`))
})

S('a failed daemon start shows its own log lines, not an earlier run\'s', async () => {
  const home = mkdtempSync(join(base, 'bad-'))
  mkdirSync(join(home, 'logs'))
  writeFileSync(join(home, 'logs', 'monkd.log'), 'OLD LINE from an earlier monkd\n')
  const r = await monkBin(['--home', home, 'daemon', 'start', '--runtime', 'bogus'])
  assert.is(r.code, 1)
  assert.match(r.err, /--runtime must be auto, docker or process, got "bogus"/)
  assert.not.match(r.err, /OLD LINE/)
})

S.run()
