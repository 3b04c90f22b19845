// load, list, info, run, update, up, ps, describe, stop, restart, purge against a stand-in monkd
// (real control API server and message schemas), through monk's main() in this process.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe, PsRow } from '../../../cli/api/messages.js'
import { startFakeDaemon, type FakeDaemon } from '../../helpers/cli-fake-daemon.js'
import { monkIn } from '../../helpers/cli-run.js'

const kit = mkdtempSync(join(tmpdir(), 'monk-kit-'))
mkdirSync(join(kit, 'files'))
writeFileSync(join(kit, 'MANIFEST'), 'REPO test\nLOAD app.yaml\nRESOURCES files/page.html\n')
writeFileSync(join(kit, 'files/page.html'), '<h1>hi</h1>\n')
writeFileSync(join(kit, 'app.yaml'), [
  'namespace: t',
  'base:',
  '  containers:',
  '    main: {image: monk-test/busybox, image-tag: "1"}',
  'a:',
  '  defines: runnable',
  '  inherits: ./base',
  '  files:',
  '    page: {container: main, path: /www/index.html, contents: <<< files/page.html}',
  'b:',
  '  defines: runnable',
  '  inherits: ./base',
  'broken:',
  '  defines: runnable',
  '  inherits: ./base',
  'all:',
  '  defines: group',
  '  members: [a, b]',
  '',
].join('\n'))
const badKit = mkdtempSync(join(tmpdir(), 'monk-badkit-'))
writeFileSync(join(badKit, 'x.yaml'), 'namespace: t\nweb:\n  defines: runnable\n  inherits: ./nowhere\n  containers: {c: {image: x}}\n')

let d: FakeDaemon
const W = suite('monk workload commands (stand-in monkd)', {})
W.before(async () => { d = await startFakeDaemon({ startPolls: 1 }) })
W.after(async () => {
  await d.close()
  for (const dir of [kit, badKit]) rmSync(dir, { recursive: true, force: true })
})
const monk = (...args: string[]) => monkIn(['--home', d.home, ...args])
const json = <T>(r: { out: string }): T => JSON.parse(r.out) as T
/** The last message of a type monkd received, as plain JSON. */
const last = (type: string): unknown => JSON.parse(JSON.stringify(d.seen.filter(s => s.message.type === type).at(-1)?.message ?? null))

W('load sends every file the kit involves (YAML, MANIFEST, embedded) and prints the summary', async () => {
  const r = await monk('load', kit)
  assert.is(r.code, 0, r.err)
  const sent = d.seen.find(s => s.message.type === 'templates.load')!.message as unknown as { files: Record<string, string>, paths: string[] }
  assert.equal(Object.keys(sent.files).sort(), [join(kit, 'MANIFEST'), join(kit, 'app.yaml'), join(kit, 'files/page.html')].sort())
  assert.equal(sent.paths, [kit])
  assert.match(r.out, /^Loaded 3 runnables, 1 group and 1 abstract node in 1 file with 0 errors and 0 warnings$/m)
})

W('load: errors as file:line:col lines relative to the cwd, exit 1; JSON is the LoadReply', async () => {
  const r = await monk('load', badKit)
  assert.is(r.code, 1)
  assert.match(r.out, /x\.yaml:4:13: error inherits-dangling: /)
  const j = await monk('--output', 'json', 'load', badKit)
  assert.is(j.code, 1)
  const reply = json<{ files: number, errors: Array<{ code: string }>, warnings: unknown[], loaded: string[] }>(j)
  assert.is(reply.errors[0]?.code, 'inherits-dangling')
  assert.ok(Array.isArray(reply.loaded))
  await monk('load', kit)
})

W('list and info', async () => {
  const r = await monk('list')
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^TYPE\s+TEMPLATE\s+REPOSITORY\s+VERSION\s+TAGS$/m)
  assert.match(r.out, /^group\s+t\/all\s+local\s+-/m)
  const runnables = json<Array<{ path: string }>>(await monk('--output', 'json', 'list', '-r'))
  assert.equal(runnables.map(x => x.path), ['t/a', 't/b', 't/broken'])
  assert.equal(json<Array<{ path: string }>>(await monk('--output', 'json', 'ls', 'bro')).map(x => x.path), ['t/broken'])
  const info = await monk('info', 't/a')
  assert.match(info.out, /path: t\/a\nkind: runnable\ninherits:\n  - t\/base/)
  const missing = await monk('info', 't/nope')
  assert.is(missing.code, 1)
  assert.match(missing.err, /^monk: no template t\/nope\n$/)
})

W('run a group: waits until both members run, prints the run tree; JSON {instances}', async () => {
  const r = await monk('run', 't/all')
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^t\/a  running\n└─ peer p1 \(12D3Ko…AAAAA1\)\n   └─ container main  running\n      ├─ image monk-test\/busybox\n      └─ port 127\.0\.0\.1:18480 \(service kv\)\n/m)
  assert.match(r.out, /^t\/b  running$/m)
  assert.match(r.err, /monk logs t\/a/)
  const j = await monk('--output', 'json', 'run', 't/a')
  assert.is(j.code, 0)
  const body = json<{ instances: string[], describe: Describe[] }>(j)
  assert.equal(body.instances, ['t/a'])
  assert.is(body.describe[0]?.status, 'running')
  assert.is(j.err, '', 'no progress or notes with --output json')
})

W('run sends tags, peer, --set over --variables-file, force-move', async () => {
  const vf = join(kit, 'vars.yaml')
  writeFileSync(vf, 'port: 8080\ntitle: from-file\n')
  const r = await monk('run', '-t', 'web,edge', '--tag', 'eu', '-p', 'p1', '-s', 'title=from-flag', '--set', 'x=a=b', '--variables-file', vf, '-f', 't/b')
  assert.is(r.code, 0, r.err)
  assert.equal(last('workload.run'), { type: 'workload.run', path: 't/b', tags: ['web', 'edge', 'eu'], peer: 'p1', set: { port: '8080', title: 'from-flag', x: 'a=b' }, forceMove: true, wait: true, timeout: 300 })
})

W('monk run X sends exactly one request; the daemon streams the progress; the CLI renders it', async () => {
  const before = d.seen.length
  d.slow.add('t/a')
  const r = await monk('run', '--timeout', '30', 't/a')
  d.slow.delete('t/a')
  assert.is(r.code, 0, r.err)
  assert.equal(d.seen.slice(before).map(x => x.message.type), ['workload.run'], 'one request, no polling')
  assert.equal(last('workload.run'), { type: 'workload.run', path: 't/a', wait: true, timeout: 30 })
  assert.match(r.err, /t\/a: waiting for (image monk-test\/busybox|readiness)/, 'the daemon\'s progress is shown')
  assert.match(r.out, /^t\/a  running/m)
  for (const args of [['stop', 't/a'], ['restart', 't/a'], ['update', 't/a']]) {
    const n = d.seen.length
    const x = await monk(...args)
    assert.is(x.code, 0, x.err)
    assert.is(d.seen.length - n, 1, `${args.join(' ')} sends one request`)
  }
})

W('run failures: bad variables file (exit 1, nothing sent), failed instance, unknown path, no such peer', async () => {
  const before = d.seen.length
  const bad = await monk('run', '--variables-file', join(kit, 'missing.yaml'), 't/a')
  assert.is(bad.code, 1)
  assert.match(bad.err, /^monk: cannot use variables file .*missing\.yaml: no such file\n$/)
  assert.is(d.seen.length, before, 'nothing sent to monkd')
  const bj = await monk('--output', 'json', 'run', '--variables-file', join(kit, 'app.yaml'), 't/a')
  assert.is(json<{ error: { code: string } }>(bj).error.code, 'bad-variables-file')

  const failed = await monk('run', 't/broken')
  assert.is(failed.code, 1)
  assert.match(failed.err, /monk: t\/broken failed on peer p1: container main exited with code 1 \(see monk logs t\/broken\)/)
  const unknown = await monk('--output', 'json', 'run', 't/nope')
  assert.is(unknown.code, 1)
  assert.equal(json(unknown), { error: { code: 'not-found', message: 'no template t/nope (load it first with monk load)' } })
  const peer = await monk('run', '--peer', 'p9', 't/a')
  assert.is(peer.code, 1)
  assert.match(peer.err, /no live peer named p9/)
})

W('bad flags are usage errors (exit 2), JSON error code usage', async () => {
  for (const args of [['run', '--bogus', 't/a'], ['run'], ['ps', '--all', 'extra'], ['run', '--set', 'novalue', 't/a'], ['run', '--timeout', 'soon', 't/a'], ['logs', '--last', '-3', 't/a']]) {
    const r = await monk(...args)
    assert.is(r.code, 2, `${args.join(' ')}: ${r.err}`)
  }
  const j = await monk('--output', 'json', 'ps', '--bogus')
  assert.is(j.code, 2)
  assert.is(json<{ error: { code: string } }>(j).error.code, 'usage')
})

W('ps: table, and JSON = the PsRow array with the documented keys', async () => {
  const r = await monk('ps')
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^INSTANCE\s+STATUS\s+PEER\s+CONTAINERS$/m)
  assert.match(r.out, /^t\/a\s+running\s+p1\s+main: running \(monk-test\/busybox\)$/m)
  const rows = json<PsRow[]>(await monk('--output', 'json', 'ps'))
  assert.ok(rows.length >= 2)
  for (const row of rows) {
    assert.ok(['instance', 'peer', 'peerName', 'status', 'containers'].every(k => k in row), JSON.stringify(row))
    assert.ok(['running', 'starting', 'stopped', 'failed'].includes(row.status))
    for (const c of row.containers) assert.equal(Object.keys(c).sort(), ['image', 'name', 'status'])
  }
  await monk('ps', '--all', '--peer', 'p1', '--tag', 'web')
  assert.equal(last('workload.ps'), { type: 'workload.ps', all: true, peer: 'p1', tag: 'web' })
})

W('describe prints the tree; unknown instance fails with the daemon\'s message', async () => {
  const r = await monk('describe', 't/a')
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^t\/a  running\n└─ peer p1/)
  const j = json<Describe>(await monk('--output', 'json', 'describe', 't/a'))
  assert.is(j.instance, 't/a')
  assert.is(j.status, 'running', 'JSON is the daemon\'s describe reply as is')
  assert.equal(j.ports, [{ service: 'kv', host: '127.0.0.1', port: 18480 }])
  const missing = await monk('describe', 't/zzz')
  assert.is(missing.code, 1)
  assert.match(missing.err, /no instance t\/zzz/)
})

W('restart of a running instance waits for its new generation, not the stale running row', async () => {
  assert.is(d.instances.get('t/b')?.row.status, 'running')
  const gen = d.instances.get('t/b')!.generation
  const rs = await monk('restart', 't/b')
  assert.is(rs.code, 0, rs.err)
  assert.is(d.instances.get('t/b')?.generation, gen + 1)
  assert.is(d.instances.get('t/b')?.row.status, 'running')
})

W('stop waits until stopped; restart until running; purge until gone; JSON {instances}', async () => {
  const s = await monk('--output', 'json', 'stop', 't/b')
  assert.is(s.code, 0, s.out)
  assert.equal(json(s), { instances: ['t/b'] })
  assert.is(d.instances.get('t/b')?.row.status, 'stopped')
  assert.not.match((await monk('ps')).out, /^t\/b\s/m)
  assert.match((await monk('ps', '-a')).out, /^t\/b\s+stopped/m)
  const rs = await monk('restart', 't/b')
  assert.is(rs.code, 0, rs.err)
  assert.is(d.instances.get('t/b')?.row.status, 'running')
  const p = await monk('--output', 'json', 'purge', '-x', 't/b')
  assert.equal(json(p), { instances: ['t/b'] })
  assert.equal(last('workload.purge'), { type: 'workload.purge', path: 't/b', excise: true, wait: true, timeout: 60 })
  assert.is(d.instances.has('t/b'), false)
})

W('update sends workload.update and waits for the new generation to run', async () => {
  const gen = d.instances.get('t/a')!.generation
  const r = await monk('update', '-s', 'a=1', 't/a')
  assert.is(r.code, 0, r.err)
  assert.is(d.instances.get('t/a')?.generation, gen + 1)
  assert.is(d.instances.get('t/a')?.row.status, 'running')
  assert.equal(last('workload.update'), { type: 'workload.update', path: 't/a', set: { a: '1' }, wait: true, timeout: 300 })
})

W('up loads then runs the only group; a kit with errors stops before running', async () => {
  const r = await monk('up', kit)
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^Loaded 3 runnables/m)
  assert.match(r.err, /Running t\/all/)
  assert.match(r.out, /^t\/a  running/m)
  const j = json<{ load: { files: number }, instances: string[] }>(await monk('--output', 'json', 'up', kit, 't/a'))
  assert.equal(j.instances, ['t/a'])
  assert.is(j.load.files, 1)
  const runs = d.seen.filter(x => x.message.type === 'workload.run').length
  const bad = await monk('up', badKit)
  assert.is(bad.code, 1)
  assert.is(d.seen.filter(x => x.message.type === 'workload.run').length, runs, 'nothing ran')
})

W.run()
