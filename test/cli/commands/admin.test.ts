// secrets, cluster, status, version, daemon status/stop, and every daemon command with monkd down.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerRow } from '../../../cli/api/messages.js'
import { startFakeDaemon, type FakeDaemon } from '../../helpers/cli-fake-daemon.js'
import { monkIn, monkProc } from '../../helpers/cli-run.js'

let d: FakeDaemon
const A = suite('monk secrets/cluster/status/version/daemon (stand-in monkd)')
A.before(async () => { d = await startFakeDaemon() })
A.after(async () => {
  await d.close()
  rmSync(d.home, { recursive: true, force: true })
})
const monk = (...args: string[]) => monkIn(['--home', d.home, ...args])
const last = (type: string): unknown => JSON.parse(JSON.stringify(d.seen.filter(s => s.message.type === type).at(-1)?.message ?? null))

A('secrets add: the value goes to monkd and is never printed back (text or JSON)', async () => {
  const value = 'hunter2-s3cr3t'
  const r = await monk('secrets', 'add', '-g', `db-password=${value}`)
  assert.is(r.code, 0, r.err)
  assert.equal(last('secrets.add'), { type: 'secrets.add', scope: 'global', name: 'db-password', value })
  assert.not.ok(r.out.includes(value) || r.err.includes(value))
  assert.match(r.err, /Secret db-password saved \(global\)/)
  const j = await monk('--output', 'json', 'secrets', 'add', '-r', 'guestbook/store', `api-key=${value}`)
  assert.equal(JSON.parse(j.out), { scope: 'guestbook/store', name: 'api-key' })
  for (const args of [['secrets', 'list'], ['--output', 'json', 'secrets', 'list'], ['secrets', 'ls', '-g']]) {
    const l = await monk(...args)
    assert.is(l.code, 0, l.err)
    assert.not.ok(l.out.includes(value) || l.err.includes(value), args.join(' '))
  }
  assert.equal(JSON.parse((await monk('--output', 'json', 'secrets', 'list')).out), [{ scope: 'global', name: 'db-password' }, { scope: 'guestbook/store', name: 'api-key' }])
  assert.match((await monk('secrets', 'list', '-r', 'guestbook/store')).out, /^NAME\s+SCOPE\napi-key\s+guestbook\/store\n$/)
})

A('secrets add reads the value from stdin when only NAME is given (real process)', async () => {
  const r = await monkProc(['--home', d.home, 'secrets', 'add', '-g', 'token'], { input: 'from-stdin\n' })
  assert.is(r.code, 0, r.err)
  assert.is(d.secrets.get('global/token'), 'from-stdin')
  assert.not.ok(r.out.includes('from-stdin') || r.err.includes('from-stdin'))
})

A('secrets rm; scope flags are required and exclusive (usage errors); unknown secret fails', async () => {
  assert.is((await monk('secrets', 'rm', '-g', 'db-password')).code, 0)
  assert.equal(last('secrets.rm'), { type: 'secrets.rm', scope: 'global', name: 'db-password' })
  const again = await monk('secrets', 'rm', '-g', 'db-password')
  assert.is(again.code, 1)
  assert.match(again.err, /no secret "db-password"/)
  assert.is((await monk('secrets', 'add', 'x=y')).code, 2)
  assert.is((await monk('secrets', 'add', '-g', '-r', 'a/b', 'x=y')).code, 2)
  assert.is((await monk('secrets', 'add', '-g', '=y')).code, 2)
  assert.is((await monk('secrets', 'add', '-r', 'nopath', 'x=y')).code, 2)
})

A('cluster new and token: JSON {"token"}; text prints the token alone on stdout', async () => {
  for (const sub of ['new', 'token']) {
    assert.equal(JSON.parse((await monk('--output', 'json', 'cluster', sub)).out), { token: 'bW9uay10b2tlbg' })
    assert.is((await monk('cluster', sub)).out, 'bW9uay10b2tlbg\n')
  }
})

A('cluster peers: table and the PeerRow array; info; peer-tags', async () => {
  const t = await monk('cluster', 'peers')
  assert.match(t.out, /^ID\s+NAME\s+TAGS\s+ALIVE\s+ADDRESSES\n12D3KooWA+1\s+p1\s+web\s+yes\s+\/ip4\/127\.0\.0\.1\/tcp\/44001\n12D3KooWB+2\s+p2\s+no/)
  const rows = JSON.parse((await monk('--output', 'json', 'cluster', 'peers')).out) as PeerRow[]
  for (const r of rows) assert.equal(Object.keys(r).sort(), ['addrs', 'alive', 'id', 'name', 'tags'])
  assert.equal((JSON.parse((await monk('--output', 'json', 'c', 'peers', '--active')).out) as PeerRow[]).map(r => r.name), ['p1'])
  assert.match((await monk("cluster", "info")).out, /^peerId: 12D3KooW/m)
  const tags = await monk('cluster', 'peer-tags', '-t', 'a,b', 'c')
  assert.is(tags.code, 0, tags.err)
  assert.equal(last('cluster.peer-tags'), { type: 'cluster.peer-tags', tags: ['a', 'b', 'c'] })
})

A('status and version', async () => {
  const s = await monk('status')
  assert.is(s.code, 0, s.err)
  assert.match(s.out, /^daemon: ready/)
  assert.equal(JSON.parse((await monk('--output', 'json', 'version')).out), { cli: '0.1.0', daemon: '0.1.0-fake' })
  assert.is((await monk('version')).out, 'monk 0.1.0\nmonkd 0.1.0-fake\n')
  const st = JSON.parse((await monk('--output', 'json', 'daemon', 'status')).out) as { running: boolean, socket: string }
  assert.is(st.running, true)
  assert.is(st.socket, d.socket)
})

A('daemon stop: sends daemon.stop and waits until the socket is gone', async () => {
  const r = await monk('daemon', 'stop')
  assert.is(r.code, 0, r.err)
  assert.is(last('daemon.stop') !== null, true)
  assert.is(existsSync(d.socket), false)
  const again = await monk('--output', 'json', 'daemon', 'stop')
  assert.equal(JSON.parse(again.out), { running: false, stopped: false })
  const status = await monk('daemon', 'status')
  assert.is(status.code, 1)
  assert.match(status.out, /monkd: not running/)
  d = await startFakeDaemon({ home: d.home })
})

const Down = suite('every daemon command with monkd down')

Down('one clear line on stderr, exit 1; JSON error daemon-down on stdout only', async () => {
  const home = mkdtempSync(join(tmpdir(), 'monk-down-'))
  const commands = [
    ['load', 'examples/guestbook'], ['list'], ['info', 'a/b'], ['run', 'a/b'], ['update', 'a/b'], ['restart', 'a/b'], ['stop', 'a/b'], ['purge', 'a/b'],
    ['ps'], ['describe', 'a/b'], ['logs', 'a/b'], ['exec', 'a/b', 'true'], ['do', 'a/b/c'], ['actions', 'a/b'], ['secrets', 'list'],
    ['secrets', 'add', '-g', 'a=b'], ['cluster', 'new'], ['cluster', 'token'], ['cluster', 'peers'], ['cluster', 'info'], ['cluster', 'peer-tags', 'x'], ['status'], ['up', 'examples/guestbook'],
  ]
  for (const c of commands) {
    const r = await monkIn(['--home', home, ...c])
    assert.is(r.code, 1, c.join(' '))
    assert.is(r.err, 'monk: monkd is not running: start it with `monk daemon start`\n', c.join(' '))
    assert.is(r.out, '', c.join(' '))
    const j = await monkIn(['--home', home, '--output', 'json', ...c])
    assert.equal(JSON.parse(j.out), { error: { code: 'daemon-down', message: 'monkd is not running: start it with `monk daemon start`' } }, c.join(' '))
    assert.is(j.err, '', c.join(' '))
  }
  assert.equal(JSON.parse((await monkIn(['--home', home, '--output', 'json', 'version'])).out), { cli: '0.1.0', daemon: null })
  rmSync(home, { recursive: true, force: true })
})

A.run()
Down.run()
