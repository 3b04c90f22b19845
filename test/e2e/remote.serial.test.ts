// Remote control (issue 19): the CLI talks to a monkd it does not share a home with, over TCP
// with the daemon's bearer token (`--socket tcp://host:port` or $MONK_SOCKET; the token from
// $MONK_API_TOKEN or a token file, never argv). A wrong token is a clear error; streams (logs -f,
// a waited run) work over TCP; the token is not in any process's command line.
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PsRow } from '../../cli/api/messages.js'
import { cleanup, e2eBase, ensureBuilt, monkBin, monkJs, peerIn, until, type E2ePeer } from '../helpers/cli-e2e.js'
import { root } from '../helpers/cli.js'

const base = e2eBase('remote')
const ns = `rc${process.pid}`
const token = `tok-${process.pid}-${Math.random().toString(36).slice(2)}-secret`
const kitDir = join(base, 'kit')
mkdirSync(kitDir)
writeFileSync(join(kitDir, 'kit.yaml'), `namespace: ${ns}
talker:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: i=0; while true; do echo "remote line $i"; i=$((i+1)); sleep 0.2; done
`)
// the CLI's own home: empty, no daemon of its own
const cliHome = join(base, 'cli-home')
mkdirSync(cliHome)

function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0)) })
  })
}

let p: E2ePeer
let address = ''
const remote = (args: string[], env: Record<string, string> = { MONK_API_TOKEN: token }): ReturnType<typeof monkBin> => monkBin(['--home', cliHome, ...args], { env: { MONK_API_TOKEN: '', MONK_SOCKET: '', ...env } })

const S = suite('remote control over TCP with a token')
S.before(async () => {
  ensureBuilt()
  p = peerIn('server', base)
  const port = await freePort()
  address = `tcp://127.0.0.1:${port}`
  const r = await monkBin(['--home', p.home, 'daemon', 'start', '--runtime', 'process', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', 'server', '--api-port', String(port)], { env: { MONK_API_TOKEN: token } })
  if (r.code !== 0) throw new Error(`daemon start: ${r.err}${r.out}`)
})
S.after(async () => {
  await p.monk('purge', `${ns}/talker`).catch(() => undefined)
  await cleanup([p], base)
})

S('with no local daemon, --socket tcp:// and $MONK_API_TOKEN reach the remote monkd', async () => {
  const local = await remote(['status'], {})
  assert.is(local.code, 1, 'nothing runs in the CLI\'s own home')
  assert.match(local.err, /monkd is not running/)
  const st = await remote(['--output', 'json', '--socket', address, 'status'])
  assert.is(st.code, 0, st.err)
  assert.is((JSON.parse(st.out) as { name: string }).name, 'server')
})

S('$MONK_SOCKET and a token file work the same; the load, a waited run and logs -f stream over TCP', async () => {
  const file = join(base, 'token')
  writeFileSync(file, token + '\n')
  chmodSync(file, 0o600)
  const env = { MONK_SOCKET: address, MONK_API_TOKEN_FILE: file }
  const load = await remote(['load', kitDir], env)
  assert.is(load.code, 0, load.err)
  const run = await remote(['run', `${ns}/talker`], env)
  assert.is(run.code, 0, run.err)
  assert.match(run.out, new RegExp(`${ns}/talker {2}running`))
  const rows = JSON.parse((await remote(['--output', 'json', 'ps'], env)).out) as PsRow[]
  assert.equal(rows.map(r => [r.instance, r.status, r.peerName]), [[`${ns}/talker`, 'running', 'server']])
  // a follow streams lines as they come, over TCP, until Ctrl-C
  const child = spawn(process.execPath, [monkJs, '--home', cliHome, '--token-file', file, '--socket', address, 'logs', '-f', `${ns}/talker`], { cwd: root, env: { ...process.env, MONK_API_TOKEN: '', MONK_SOCKET: '', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  const code = new Promise<number | null>(resolve => child.once('close', c => resolve(c)))
  const first = await until('a streamed line', () => /remote line (\d+)/.exec(out)?.[1])
  await until('later lines to stream', () => [...out.matchAll(/remote line (\d+)/g)].some(m => Number(m[1]) >= Number(first) + 3))
  // the token is nowhere in the command line of the running CLI
  const cmdline = readFileSync(`/proc/${child.pid ?? 0}/cmdline`, 'utf8')
  assert.ok(cmdline.includes('logs'), cmdline)
  assert.not.ok(cmdline.includes(token), 'token in argv')
  child.kill('SIGINT')
  assert.is(await code, 0)
})

S('exec -i passes the CLI\'s stdin to the command, over TCP: echo x | monk exec -i PATH -- cat', async () => {
  const r = await monkBin(['--home', cliHome, '--socket', address, 'exec', '-i', `${ns}/talker`, '--', 'sh', '-c', 'cat; echo "read $(echo done)"'], { input: 'x\nfrom stdin\n', env: { MONK_API_TOKEN: token } })
  assert.is(r.code, 0, r.err)
  assert.is(r.out, 'x\nfrom stdin\nread done\n')
  const without = await monkBin(['--home', cliHome, '--socket', address, 'exec', `${ns}/talker`, '--', 'cat'], { input: 'not sent\n', env: { MONK_API_TOKEN: token } })
  assert.equal([without.code, without.out], [0, ''], 'without -i the command reads nothing')
})

S('a wrong or missing token is a clear error naming where the token came from, never the token', async () => {
  const wrong = await remote(['--socket', address, 'ps'], { MONK_API_TOKEN: 'not-the-token-at-all' })
  assert.is(wrong.code, 1)
  assert.match(wrong.err, new RegExp(`^monk: monkd at ${address.replace(/[.]/g, '\\.')} refused the API token \\(from \\$MONK_API_TOKEN\\): check it matches the MONK_API_TOKEN monkd was started with\\n$`))
  assert.not.match(wrong.err + wrong.out, /not-the-token-at-all/)
  const none = await remote(['--socket', address, 'ps'], {})
  assert.is(none.code, 2)
  assert.match(none.err, /a tcp:\/\/ address needs monkd's API token: put it in \$MONK_API_TOKEN, or in a file named by --token-file or \$MONK_API_TOKEN_FILE/)
  const bad = await remote(['--socket', 'http://x', 'ps'])
  assert.is(bad.code, 2)
  assert.match(bad.err, /--socket takes unix:\/\/\/path or tcp:\/\/host:port/)
})

S('unix:///path names a socket explicitly', async () => {
  const r = await remote(['--output', 'json', '--socket', `unix://${join(p.home, 'monkd.sock')}`, 'status'], {})
  assert.is(r.code, 0, r.err)
  assert.is((JSON.parse(r.out) as { name: string }).name, 'server')
})

S.run()
