// The built `monk` binary against one real monkd (process runtime): every command's happy path
// and its failure paths, the JSON shapes scripts rely on, `logs --follow` streaming, `exec`,
// `shell`, and secrets never printed back.
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe, PeerRow, PsRow } from '../../cli/api/messages.js'
import { parseToken } from '../../mesh/cluster.js'
import { cleanup, e2eBase, ensureBuilt, monkJs, peerIn, startPeer, until, type E2ePeer } from '../helpers/cli-e2e.js'

const base = e2eBase('single')
const ns = `e2e${process.pid}`
const kitDir = join(base, 'kit')
mkdirSync(kitDir)
writeFileSync(join(kitDir, 'MANIFEST'), 'REPO e2e\nLOAD kit.yaml\n')
writeFileSync(join(kitDir, 'kit.yaml'), `namespace: ${ns}
base:
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
ticker:
  defines: runnable
  inherits: ./base
  variables:
    greeting: {type: string, value: hello, env: GREETING}
    mood: {type: string, value: calm, env: MOOD}
  containers:
    main:
      bash: i=0; while true; do echo "$GREETING $MOOD tick $i"; i=$((i+1)); sleep 0.2; done
  checks:
    readiness:
      code: exec("main", "sh", "-c", "echo ok") "ok" contains?
      period: 1
      attempts: 20
  actions:
    greet:
      description: greet someone
      arguments:
        name: {type: string, description: who to greet}
      code: '\`\${greeting}, \${args["name"]}\`'
helper:
  defines: runnable
  inherits: ./base
  containers:
    main:
      bash: exec sleep 100000
pair:
  defines: group
  members: [ticker, helper]
`)

let p: E2ePeer
let built = false
const S = suite('monk (built) against one monkd')
S.before(async () => {
  built = ensureBuilt()
  p = peerIn('solo', base)
  await startPeer(p)
})
S.after(async () => { await cleanup([p], base) })

S('daemon status, status and version: JSON shapes', async () => {
  console.log(`  (dist/cli/monk.js ${built ? 'rebuilt for this run' : 'was up to date'})`)
  const st = await p.json<{ running: boolean, socket: string, pid: number, peerId: string }>('daemon', 'status')
  assert.is(st.running, true)
  assert.is(st.socket, join(p.home, 'monkd.sock'))
  assert.is(st.pid, p.pid())
  const status = await p.json<{ name: string, runtime: string, clusterId: string }>('status')
  assert.equal([status.name, status.runtime], ['solo', 'process'])
  assert.equal(await p.json('version'), { cli: '0.1.0', daemon: '0.1.0' })
  const again = await p.monk('daemon', 'start')
  assert.is(again.code, 0)
  assert.match(again.err, /already running/)
})

S('load, list, info', async () => {
  const r = await p.monk('load', kitDir)
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^Loaded 2 runnables, 1 group and 1 abstract node in 1 file with 0 errors and 0 warnings$/m)
  const list = await p.json<Array<{ path: string, kind: string }>>('list', ns)
  assert.equal(list.map(t => `${t.kind} ${t.path}`), [`abstract ${ns}/base`, `runnable ${ns}/helper`, `group ${ns}/pair`, `runnable ${ns}/ticker`])
  assert.match((await p.monk('list', '-r')).out, new RegExp(`^runnable\\s+${ns}/ticker`, 'm'))
  const info = await p.monk('info', `${ns}/ticker`)
  assert.is(info.code, 0, info.err)
  assert.match(info.out, /kind: runnable/)
})

S('run: --set wins over --variables-file; waits, prints the tree; ps JSON shape', async () => {
  const vf = join(base, 'vars.yaml')
  writeFileSync(vf, 'greeting: hi\nmood: grumpy\n')
  const r = await p.monk('run', '--variables-file', vf, '--set', 'mood=happy', `${ns}/ticker`)
  assert.is(r.code, 0, r.err)
  assert.match(r.out, new RegExp(`^${ns}/ticker  running\\n└─ peer solo \\(`, 'm'))
  // the process runtime runs host processes: the tree says so and shows no image it did not use
  assert.match(r.out, /└─ process main {2}running\n/)
  assert.not.match(r.out, /container main|image monk-test/)
  const rows = await p.json<PsRow[]>('ps')
  const row = rows.find(x => x.instance === `${ns}/ticker`)!
  assert.ok(row, JSON.stringify(rows))
  assert.equal(Object.keys(row).sort(), ['containers', 'instance', 'peer', 'peerName', 'status'])
  assert.equal([row.peerName, row.status], ['solo', 'running'])
  assert.match(row.peer, /^12D3KooW/)
  assert.equal(Object.keys(row.containers[0]!).sort(), ['image', 'name', 'status'])
  assert.match((await p.monk('ps')).out, new RegExp(`^${ns}/ticker\\s+running\\s+solo\\s+main: running`, 'm'))
  const d = await p.monk('describe', `${ns}/ticker`)
  assert.match(d.out, /└─ peer solo/)
})

S('logs: the last lines, then --follow streams new ones until Ctrl-C', async () => {
  const logs = await until('ticker logs', async () => {
    const r = await p.monk('logs', '--last', '3', `${ns}/ticker`)
    return r.out.split('\n').filter(Boolean).length === 3 ? r : undefined
  })
  assert.match(logs.out, /^hi happy tick \d+$/m)
  const lines: string[] = []
  const child = spawn(process.execPath, [monkJs, '--home', p.home, 'logs', '-f', '--last', '1', `${ns}/ticker`], { env: { ...process.env, NO_COLOR: '1' } })
  let buf = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { buf += d; lines.push(...d.split('\n').filter(Boolean)) })
  const started = Date.now()
  await until('5 streamed lines', () => lines.length >= 5, 20_000, 50)
  const ticks = lines.map(l => Number(/tick (\d+)/.exec(l)?.[1]))
  assert.ok(ticks.every((t, i) => i === 0 || t === ticks[i - 1]! + 1), `consecutive ticks: ${buf}`)
  const code = await new Promise<number | null>(resolve => { child.once('close', c => resolve(c)); child.kill('SIGINT') })
  assert.is(code, 0)
  console.log(`  logs --follow: 5 lines in ${Date.now() - started} ms`)
})

S('exec and shell', async () => {
  const r = await p.monk('exec', `${ns}/ticker`, '--', 'sh', '-c', 'echo "$GREETING/$MOOD"; echo warn >&2')
  assert.is(r.code, 0, r.err)
  assert.is(r.out, 'hi/happy\n')
  assert.is(r.err, 'warn\n')
  const f = await p.monk('--output', 'json', 'exec', `${ns}/ticker`, '--', 'sh', '-c', 'exit 3')
  assert.is(f.code, 1)
  assert.equal(JSON.parse(f.out), { exitCode: 3, stdout: '', stderr: '' })
  const sh = await p.monk('shell', `${ns}/ticker`)
  assert.is(sh.code, 0, sh.err)
  const lines = await import('../helpers/cli-e2e.js').then(m => m.monkBin(['--home', p.home, 'shell', `${ns}/ticker`], { input: 'cd /\npwd\necho $MOOD\n' }))
  assert.is(lines.out, '/\nhappy\n')
})

S('actions and do: output, JSON {"output"}, a missing argument passed through', async () => {
  const a = await p.monk('actions', `${ns}/ticker`)
  assert.match(a.out, new RegExp(`^${ns}/ticker/greet\\s+greet someone\\s+name:string$`, 'm'))
  const r = await p.monk('do', `${ns}/ticker/greet`, 'name=world')
  assert.is(r.code, 0, r.err)
  assert.is(r.out, 'hi, world\n')
  assert.equal(await p.json('do', `${ns}/ticker/greet`, 'name=json'), { output: 'hi, json' })
  const missing = await p.monk('do', `${ns}/ticker/greet`)
  assert.is(missing.code, 1)
  assert.is(missing.err, `monk: action ${ns}/ticker/greet needs argument "name" (who to greet)\n`)
  assert.equal(await p.json('do', `${ns}/ticker/greet`), { error: { code: 'missing-argument', message: `action ${ns}/ticker/greet needs argument "name" (who to greet)` } })
  const unknown = await p.monk('do', `${ns}/ticker/nope`)
  assert.is(unknown.code, 1)
  assert.match(unknown.err, /has no action "nope"/)
})

S('secrets: added, listed, removed; the value never appears in any output or the daemon log', async () => {
  const value = `s3cr3t-${process.pid}-value`
  const outputs = [
    await p.monk('secrets', 'add', '-g', `db-pass=${value}`),
    await p.monk('--output', 'json', 'secrets', 'add', '-r', `${ns}/ticker`, `api=${value}`),
    await p.monk('secrets', 'list'),
    await p.monk('--output', 'json', 'secrets', 'list'),
  ]
  for (const o of outputs) {
    assert.is(o.code, 0, o.err)
    assert.not.ok(o.out.includes(value) || o.err.includes(value), o.out + o.err)
  }
  assert.equal(await p.json('secrets', 'list', '-r', `${ns}/ticker`), [{ scope: `${ns}/ticker`, name: 'api' }])
  assert.is((await p.monk('secrets', 'rm', '-g', 'db-pass')).code, 0)
  const again = await p.monk('--output', 'json', 'secrets', 'rm', '-g', 'db-pass')
  assert.is(again.code, 1)
  assert.is((JSON.parse(again.out) as { error: { code: string } }).error.code, 'secret-not-found')
  assert.not.ok(readFileSync(join(p.home, 'logs/monkd.log'), 'utf8').includes(value), 'monkd.log holds the secret')
})

S('run --output json: {"instances", "describe"} and nothing on stderr; -q keeps only the data', async () => {
  const r = await p.monk('--output', 'json', 'run', `${ns}/helper`)
  assert.is(r.code, 0, r.err)
  assert.is(r.err, '')
  const j = JSON.parse(r.out) as { instances: string[], describe: Describe[] }
  assert.equal(j.instances, [`${ns}/helper`])
  assert.is(j.describe[0]?.status, 'running')
  assert.is(j.describe[0]?.instance, `${ns}/helper`)
  const q = await p.monk('-q', 'stop', `${ns}/helper`)
  assert.is(q.code, 0, q.err)
  assert.is(q.err, '')
  assert.is(q.out, `${ns}/helper\n`)
  assert.equal(await p.json('purge', `${ns}/helper`), { instances: [`${ns}/helper`] })
})

S('the offline commands of the same binary: lint, dump, eval', async () => {
  const lint = await p.monk('lint', kitDir)
  assert.is(lint.code, 0, lint.err)
  assert.match(lint.out, /with 0 errors and 0 warnings/)
  const dump = await p.monk('dump', `${ns}/ticker`, '--from', kitDir)
  assert.match(dump.out, /inherits/)
  const ev = await p.monk('eval', '1 2 add')
  assert.is(ev.code, 0, ev.err)
  assert.match(ev.out, /^3$/m)
})

S('stop, restart, update, purge; ps --all', async () => {
  assert.equal(await p.json('stop', `${ns}/ticker`), { instances: [`${ns}/ticker`] })
  assert.not.ok((await p.json<PsRow[]>('ps')).some(r => r.instance === `${ns}/ticker`))
  assert.is((await p.json<PsRow[]>('ps', '--all')).find(r => r.instance === `${ns}/ticker`)?.status, 'stopped')
  const rs = await p.monk('restart', `${ns}/ticker`)
  assert.is(rs.code, 0, rs.err)
  assert.is((await p.json<PsRow[]>('ps')).find(r => r.instance === `${ns}/ticker`)?.status, 'running')
  const up = await p.monk('update', '--set', 'mood=sleepy', `${ns}/ticker`)
  assert.is(up.code, 0, up.err)
  const ex = await p.monk('exec', `${ns}/ticker`, '--', 'sh', '-c', 'echo $MOOD')
  assert.is(ex.out, 'sleepy\n')
  assert.equal(await p.json('purge', `${ns}/ticker`), { instances: [`${ns}/ticker`] })
  assert.not.ok((await p.json<PsRow[]>('ps', '--all')).some(r => r.instance === `${ns}/ticker`))
})

S('up: load and run the kit\'s only group in one step', async () => {
  const r = await p.monk('up', kitDir)
  assert.is(r.code, 0, r.err)
  assert.match(r.err, new RegExp(`Running ${ns}/pair`))
  assert.match(r.out, new RegExp(`^${ns}/helper  running$`, 'm'))
  assert.match(r.out, new RegExp(`^${ns}/ticker  running$`, 'm'))
  assert.equal(await p.json('purge', `${ns}/pair`), { instances: [`${ns}/ticker`, `${ns}/helper`] })
})

S('failure paths: unknown path, bad flag, bad variables file, required exit codes', async () => {
  const unknown = await p.monk('run', `${ns}/nope`)
  assert.is(unknown.code, 1)
  assert.match(unknown.err, new RegExp(`^monk: no template "${ns}/nope" is loaded`))
  assert.is((await p.json<{ error: { code: string } }>('describe', `${ns}/nope`)).error.code, 'not-found')
  const bad = await p.monk('run', '--frobnicate', `${ns}/ticker`)
  assert.is(bad.code, 2)
  assert.match(bad.err, /unknown option '--frobnicate'/)
  const vf = join(base, 'bad-vars.yaml')
  writeFileSync(vf, 'greeting: [not, a, scalar]\n')
  const badVars = await p.monk('run', '--variables-file', vf, `${ns}/ticker`)
  assert.is(badVars.code, 1)
  assert.match(badVars.err, /^monk: cannot use variables file .*bad-vars\.yaml: variable "greeting" must be a scalar/)
  assert.is((await p.monk('logs', `${ns}/ticker`)).code, 1, 'no logs of a purged instance')
})

S('cluster new/token/peers/info/peer-tags on a lone peer', async () => {
  const t = await p.json<{ token: string }>('cluster', 'new')
  assert.equal(Object.keys(t), ['token'])
  assert.match(t.token, /^[A-Za-z0-9_-]{40,}$/)
  // `cluster token` mints an invite (issue 13): the same cluster, key, addresses and founders as the
  // token `cluster new` printed, with an invite of its own each time
  const again = await p.json<{ token: string }>('cluster', 'token')
  assert.equal(Object.keys(again), ['token'])
  const first = parseToken(t.token)
  const second = parseToken(again.token)
  assert.equal({ ...second, invite: undefined }, { ...first, invite: undefined })
  assert.ok(second.invite !== undefined && first.invite !== undefined, 'both carry an invite')
  assert.ok(Buffer.compare(Buffer.from(second.invite!), Buffer.from(first.invite!)) !== 0, 'each token is a new invite')
  const tags = await p.monk('cluster', 'peer-tags', '-t', 'edge,eu')
  assert.is(tags.code, 0, tags.err)
  const peers = await until('the new tags', async () => { const r = await p.json<PeerRow[]>('cluster', 'peers'); return r[0]?.tags.length === 2 ? r : undefined }, 10_000)
  assert.equal(Object.keys(peers[0]!).sort(), ['addrs', 'alive', 'capacity', 'id', 'name', 'reserved', 'role', 'tags'])
  assert.is((peers[0] as PeerRow & { role?: string }).role, 'operator', 'the founder of a cluster is an operator')
  // the machine's capacity unless monkd was told otherwise; nothing here requests resources
  assert.equal([Object.keys(peers[0]!.capacity ?? {}).sort(), peers[0]!.reserved], [['cpu', 'memory'], {}])
  assert.ok((peers[0]!.capacity?.['cpu'] ?? 0) >= 1 && (peers[0]!.capacity?.['memory'] ?? 0) > 0)
  assert.equal([peers[0]!.name, peers[0]!.alive, peers[0]!.tags], ['solo', true, ['edge', 'eu']])
  assert.ok(peers[0]!.addrs.every(a => a.startsWith('/ip4/127.0.0.1/')), 'loopback only')
  assert.match((await p.monk('cluster', 'info')).out, /clusterId: [0-9a-f]{16}/)
  const exit = await p.monk('cluster', 'exit')
  assert.is(exit.code, 0, exit.err)
  assert.match(exit.err, /on its own already/)
})

S('daemon stop: the socket goes, then every command says monkd is not running', async () => {
  const r = await p.monk('daemon', 'stop')
  assert.is(r.code, 0, r.err)
  const ps = await p.monk('ps')
  assert.is(ps.code, 1)
  assert.is(ps.err, 'monk: monkd is not running: start it with `monk daemon start`\n')
  assert.equal(await p.json('ps'), { error: { code: 'daemon-down', message: 'monkd is not running: start it with `monk daemon start`' } })
  const st = await p.monk('daemon', 'status')
  assert.is(st.code, 1)
})

S.run()
