// Interactive `monk shell` and `monk exec -it` in a real terminal (tmux): two real monkd peers,
// alpha with the process runtime and beta with Docker (host networking). From alpha's CLI: a shell
// in an instance alpha runs (process runtime, a local pty) and in one beta runs (Docker exec with
// a Tty, over the mesh); from beta's CLI, the instance on alpha. Each types `echo $((6*7))` and
// sees 42, runs `cat` reading the terminal, stops it with Ctrl-C, follows a window resize, and
// `exit 3` ends monk with status 3.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerRow } from '../../cli/api/messages.js'
import { cleanup, e2eBase, ensureBuilt, monkJs, peerIn, startPeer, until, type E2ePeer } from '../helpers/cli-e2e.js'
import { hasTmux, tmux } from '../helpers/tmux.js'

const base = e2eBase('shell')
const ns = `sh${process.pid}`
const kitDir = join(base, 'kit')
mkdirSync(kitDir)
writeFileSync(join(kitDir, 'kit.yaml'), `namespace: ${ns}
box:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: exec sleep 100000
dbox:
  defines: runnable
  inherits: ./box
`)

const peers: E2ePeer[] = []
// alpha also listens on a loopback TCP port with this token (inherited by monkd from the environment)
const token = `tok-${process.pid}-${Math.random().toString(36).slice(2)}-shell`
process.env.MONK_API_TOKEN = token
let apiPort = 0
let docker = true
try { execFileSync('docker', ['image', 'inspect', 'monk-test/busybox:1'], { stdio: 'ignore' }) } catch { docker = false }

const S = suite('monk shell in a real terminal')
S.before(async () => {
  ensureBuilt()
  const a = peerIn('alpha', base)
  peers.push(a)
  apiPort = await new Promise<number>((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => { const ad = srv.address(); srv.close(() => { resolve(typeof ad === 'object' && ad !== null ? ad.port : 0) }) })
  })
  await startPeer(a, ['--api-port', String(apiPort)])
  const joinToken = (await a.json<{ token: string }>('cluster', 'new')).token
  const b = peerIn('beta', base)
  peers.push(b)
  const j = await b.monk('cluster', 'join', joinToken, '--runtime', docker ? 'docker' : 'process', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', 'beta')
  if (j.code !== 0) throw new Error(`join: ${j.err}`)
  await until('alpha sees beta', async () => (await a.json<PeerRow[]>('cluster', 'peers')).filter(r => r.alive).length === 2)
  const l = await a.monk('load', kitDir)
  if (l.code !== 0) throw new Error(`load: ${l.err}`)
  for (const [inst, peer] of [['box', 'alpha'], ['dbox', 'beta']]) {
    const r = await a.monk('run', '-p', peer!, '--timeout', '120', `${ns}/${inst}`)
    if (r.code !== 0) throw new Error(`run ${inst}: ${r.err}${r.out}`)
  }
})
S.after(async () => {
  for (const i of ['box', 'dbox']) await peers[0]?.monk('purge', `${ns}/${i}`).catch(() => undefined)
  await cleanup(peers, base)
})

/** The acceptance script in one terminal: 42, cat with Ctrl-C, a resize, exit 3. */
async function drive (name: string, home: string, path: string): Promise<void> {
  const t = tmux(name, `${process.execPath} ${monkJs} --home ${home} shell ${path}; echo "MONK-EXIT=$?"`, 120, 30)
  try {
    await t.waitFor(/[#$]\s*$/m, 'the prompt')
    t.keys('echo $((6*7))', 'Enter')
    await t.waitFor(/^42\s*$/m, '42')
    t.keys('stty size', 'Enter')
    await t.waitFor(/^30 120\s*$/m, 'the terminal size 30 120')
    t.keys('cat', 'Enter')
    t.keys('typed into cat', 'Enter')
    // once echoed by the terminal, once by cat: cat read the terminal
    await t.waitFor(/typed into cat\s*\n\s*typed into cat/, 'cat echoing its input')
    t.keys('C-c')
    t.keys('echo after-$((1+1))', 'Enter')
    await t.waitFor(/^after-2\s*$/m, 'the shell back after Ctrl-C stopped cat')
    t.resize(100, 25)
    t.keys('stty size', 'Enter')
    await t.waitFor(/^25 100\s*$/m, 'the new size after a resize')
    t.keys('exit 3', 'Enter')
    const screen = await t.waitFor(/MONK-EXIT=\d+/, 'monk to end')
    assert.match(screen, /MONK-EXIT=3/, screen)
  } finally {
    t.kill()
  }
}

S('process runtime, the instance on this peer', async () => {
  if (!hasTmux()) { console.log('  skipped: no tmux'); return }
  await drive(`a-box-${process.pid}`, peers[0]!.home, `${ns}/box`)
})

S(`${docker ? 'Docker' : 'process'} runtime, the instance on another peer`, async () => {
  if (!hasTmux()) { console.log('  skipped: no tmux'); return }
  await drive(`a-dbox-${process.pid}`, peers[0]!.home, `${ns}/dbox`)
})

S('process runtime, from the other peer\'s CLI', async () => {
  if (!hasTmux()) { console.log('  skipped: no tmux'); return }
  await drive(`b-box-${process.pid}`, peers[1]!.home, `${ns}/box`)
})

S('exec -t passes the exit code; exec -i without -t stays pipe-friendly', async () => {
  const a = peers[0]!
  for (const inst of ['box', 'dbox']) {
    const r = await a.monk('exec', '-t', `${ns}/${inst}`, '--', 'sh', '-c', 'echo on-a-tty; exit 7')
    assert.is(r.code, 7, r.err)
    assert.match(r.out, /on-a-tty/)
    const piped = await import('../helpers/cli-e2e.js').then(m => m.monkBin(['--home', a.home, 'exec', '-i', `${ns}/${inst}`, '--', 'cat'], { input: 'x\ny\n' }))
    assert.is(piped.code, 0, piped.err)
    assert.is(piped.out, 'x\ny\n')
  }
  const missing = await a.monk('exec', '-t', `${ns}/nope`, '--', 'sh')
  assert.is(missing.code, 1)
  assert.match(missing.err, /nope is not running/)
})

S('over TCP with the token, exec -t streams and passes the exit code; a wrong token is refused clearly', async () => {
  const cliHome = join(base, 'cli-home')
  mkdirSync(cliHome, { recursive: true })
  const { monkBin } = await import('../helpers/cli-e2e.js')
  const r = await monkBin(['--home', cliHome, '--socket', `tcp://127.0.0.1:${apiPort}`, 'exec', '-t', `${ns}/dbox`, '--', 'sh', '-c', 'echo over-tcp; exit 5'], { env: { MONK_API_TOKEN: token } })
  assert.is(r.code, 5, r.err)
  assert.match(r.out, /over-tcp/)
  const bad = await monkBin(['--home', cliHome, '--socket', `tcp://127.0.0.1:${apiPort}`, 'exec', '-t', `${ns}/dbox`, '--', 'true'], { env: { MONK_API_TOKEN: 'not-the-token-not-the-token' } })
  assert.is(bad.code, 1)
  assert.match(bad.err, /refused the API token/)
})

S.run()
