// Remote control between machines that are really apart (issue 19): the CLI runs in one network
// namespace, monkd in another (test/helpers/netns.ts; only the p2p and the API port are let in).
// monkd serves its API on the namespace's private address, so TLS only, with the certificate it
// made; the CLI pins it on first use and prints it, then drives monkd with a token from the
// environment: ps, run, logs -f (a stream), exec (a request) and exec -t (an upgraded stream). A
// wrong token is a clear error, the token is in no process's command line in either namespace,
// and a new certificate (monkd's key deleted, restarted) is refused naming the pin file.
// Skips with one line where namespaces cannot be made; fails instead when MONK_CI is set.
import { spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PsRow } from '../../cli/api/messages.js'
import { TLS_CERT_FILE, TLS_KEY_FILE } from '../../cli/api/tls-home.js'
import { KNOWN_MONKDS } from '../../cli/api/tls-pin.js'
import { e2eBase, ensureBuilt, monkJs, until } from '../helpers/cli-e2e.js'
import { root } from '../helpers/cli.js'
import { createHosts, netnsUnavailable, type NetHost, type NetHosts } from '../helpers/netns.js'

const P2P = 7946
const API = 7800
const S = suite('remote control across network namespaces, over TLS')
const token = `tok-${process.pid}-${Math.random().toString(36).slice(2)}-secret`
const ns = `rn${process.pid}`

const unavailable = netnsUnavailable()
let net: NetHosts | undefined
let base = ''
let cliHost: NetHost
let srvHost: NetHost
let monkd: { child: ChildProcess, out: () => string } | undefined
const followers: ChildProcess[] = []

interface Ran { code: number, out: string, err: string }

/** The built CLI inside the CLI's namespace, its home its own, the token only in the environment. */
function cli (args: string[], env: Record<string, string> = { MONK_API_TOKEN: token }): Promise<Ran> {
  return new Promise(resolve => {
    const child = net!.spawn(cliHost, process.execPath, [monkJs, '--home', join(base, 'cli-home'), '--socket', `tcp://${srvHost.ip}:${API}`, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', MONK_API_TOKEN: '', MONK_SOCKET: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d })
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { err += d })
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out, err }))
  })
}

async function startMonkd (): Promise<void> {
  const home = join(base, 'srv-home')
  const child = net!.spawn(srvHost, process.execPath, [join(root, 'dist/cli/monkd.js'), '--home', home, '--name', 'srv', '--listen', `/ip4/${srvHost.ip}/tcp/${P2P}`, '--runtime', 'process', '--log-level', 'warn', '--api-host', srvHost.ip, '--api-port', String(API)], { env: { ...process.env, MONK_API_TOKEN: token, MONK_HUB_DEFAULTS: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', d => { out += String(d) })
  child.stderr?.on('data', d => { out += String(d) })
  monkd = { child, out: () => out }
  await until('monkd says its API is listening', () => {
    if (child.exitCode !== null) throw new Error(`monkd exited: ${out}`)
    return /control API on tls:\/\/\S+ certificate SHA-256 ([0-9A-F:]+)/.exec(out)?.[1]
  }, 90_000)
}

async function stopMonkd (): Promise<void> {
  if (monkd === undefined) return
  const { child } = monkd
  monkd = undefined
  if (child.exitCode !== null) return
  const closed = new Promise(resolve => child.once('close', resolve))
  child.kill('SIGTERM')
  await Promise.race([closed, new Promise(resolve => setTimeout(resolve, 20_000))])
  if (child.exitCode === null) child.kill('SIGKILL')
}

const fingerprintPrinted = (): string => /certificate SHA-256 ([0-9A-F:]+)/.exec(monkd?.out() ?? '')?.[1] ?? ''

S.before(async () => {
  if (unavailable !== null) return
  ensureBuilt()
  base = e2eBase('remote-netns')
  mkdirSync(join(base, 'cli-home'))
  mkdirSync(join(base, 'kit'))
  writeFileSync(join(base, 'kit', 'kit.yaml'), `namespace: ${ns}
talker:
  defines: runnable
  containers:
    main:
      bash: i=0; while true; do echo "remote line $i"; i=$((i+1)); sleep 0.2; done
`)
  net = createHosts(['cli', 'srv'], P2P, [API])
  cliHost = net.hosts[0]!
  srvHost = net.hosts[1]!
  await startMonkd()
})

S.after(async () => {
  for (const f of followers) if (f.exitCode === null) f.kill('SIGKILL')
  await stopMonkd().catch(() => undefined)
  // kills every process left in both namespaces (workloads too) and deletes them
  net?.destroy()
  if (base !== '') rmSync(base, { recursive: true, force: true })
})

S('namespaces can be made here (or the test says why it skips)', () => {
  if (unavailable === null) return
  if (process.env.MONK_CI !== undefined && process.env.MONK_CI !== '') assert.unreachable(`MONK_CI is set but network namespaces cannot be made: ${unavailable}`)
  console.log(`  skipped: ${unavailable}`)
})

S('the API beyond loopback is TLS; the first use pins and prints the fingerprint monkd printed; plain TCP is not served', async () => {
  if (unavailable !== null) return
  const printed = fingerprintPrinted()
  assert.match(printed, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
  const st = await cli(['--output', 'json', 'status'])
  assert.is(st.code, 0, st.err)
  assert.is((JSON.parse(st.out) as { name: string }).name, 'srv')
  const pinFile = join(base, 'cli-home', KNOWN_MONKDS)
  assert.ok(st.err.includes(`pinned monkd at ${srvHost.ip}:${API}: certificate SHA-256 ${printed} (in ${pinFile})`), st.err)
  assert.is(readFileSync(pinFile, 'utf8'), `${srvHost.ip}:${API} ${printed}\n`)
  const again = await cli(['status'])
  assert.is(again.code, 0, again.err)
  assert.not.match(again.err, /pinned/, 'pinned once')
  // cluster info on the server's side shows the same fingerprint, to compare
  const info = await cli(['--output', 'json', 'cluster', 'info'])
  assert.is(info.code, 0, info.err)
  assert.equal((JSON.parse(info.out) as { controlApi?: unknown }).controlApi, { address: `tls://${srvHost.ip}:${API}`, tlsFingerprint: printed })
  // a raw plain-HTTP request to the API port gets no answer from the API
  const plain = net!.run(cliHost, 'node', ['-e', `require('http').get({host:'${srvHost.ip}',port:${API},path:'/v1/ping',headers:{authorization:'Bearer ${'x'.repeat(20)}'}},r=>{console.log('status',r.statusCode);process.exit(0)}).on('error',e=>{console.log('error',e.code||e.message);process.exit(0)})`])
  assert.match(plain.out, /^error /, plain.out)
})

S('run, ps, logs -f (a stream), exec and exec -t through the remote socket; the token is in no command line', async () => {
  if (unavailable !== null) return
  // the kit lives on the CLI's machine: load sends it
  const load = await cli(['load', join(base, 'kit')])
  assert.is(load.code, 0, load.err)
  const run = await cli(['run', `${ns}/talker`])
  assert.is(run.code, 0, run.err)
  const rows = JSON.parse((await cli(['--output', 'json', 'ps'])).out) as PsRow[]
  assert.equal(rows.map(r => [r.instance, r.status, r.peerName]), [[`${ns}/talker`, 'running', 'srv']])

  const follow = net!.spawn(cliHost, process.execPath, [monkJs, '--home', join(base, 'cli-home'), '--socket', `tcp://${srvHost.ip}:${API}`, 'logs', '-f', `${ns}/talker`], { cwd: root, env: { ...process.env, NO_COLOR: '1', MONK_API_TOKEN: token, MONK_SOCKET: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
  followers.push(follow)
  let out = ''
  follow.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d })
  const first = await until('a streamed line', () => /remote line (\d+)/.exec(out)?.[1], 60_000)
  await until('later lines to stream', () => [...out.matchAll(/remote line (\d+)/g)].some(m => Number(m[1]) >= Number(first) + 3), 60_000)

  // while the follow, monkd and the workload run: no process in either namespace has the token in argv
  const pids = [cliHost, srvHost].flatMap(h => spawnSync('ip', ['netns', 'pids', h.ns], { encoding: 'utf8' }).stdout.split('\n').filter(p => /^\d+$/.test(p)))
  assert.ok(pids.length >= 3, `processes found in the namespaces: ${pids.length}`)
  for (const pid of pids) {
    let cmd = ''
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8') } catch { continue }
    assert.not.ok(cmd.includes(token), `the token is in the command line of ${pid}: ${cmd.replace(/\0/g, ' ')}`)
  }

  const ex = await cli(['exec', `${ns}/talker`, '--', 'sh', '-c', 'echo from-exec $((6*7))'])
  assert.is(ex.code, 0, ex.err)
  assert.is(ex.out, 'from-exec 42\n')
  const tty = await cli(['exec', '-t', `${ns}/talker`, '--', 'sh', '-c', 'echo over-tls; exit 5'])
  assert.is(tty.code, 5, tty.err)
  assert.match(tty.out, /over-tls/)

  const closed = new Promise<number | null>(resolve => follow.once('close', c => resolve(c)))
  follow.kill('SIGINT')
  assert.is(await closed, 0)
})

S('a wrong token is a clear error, never echoing the token', async () => {
  if (unavailable !== null) return
  const wrong = await cli(['ps'], { MONK_API_TOKEN: 'not-the-token-at-all' })
  assert.is(wrong.code, 1)
  assert.ok(wrong.err.includes(`monkd at tcp://${srvHost.ip}:${API} refused the API token (from $MONK_API_TOKEN)`), wrong.err)
  assert.not.match(wrong.err + wrong.out, /not-the-token-at-all/)
})

S('a new certificate on the same address is refused, naming the file to edit', async () => {
  if (unavailable !== null) return
  const old = fingerprintPrinted()
  await stopMonkd()
  const home = join(base, 'srv-home')
  for (const f of [TLS_KEY_FILE, TLS_CERT_FILE]) rmSync(join(home, f))
  await startMonkd()
  const now = fingerprintPrinted()
  assert.ok(now !== old && now !== '', 'monkd made a new certificate')
  const pinFile = join(base, 'cli-home', KNOWN_MONKDS)
  const r = await cli(['ps'])
  assert.is(r.code, 1, r.out)
  assert.ok(r.err.includes(`shows a different certificate than the one pinned: SHA-256 ${now}, pinned ${old}`), r.err)
  assert.ok(r.err.includes(`remove the line for ${srvHost.ip}:${API} from ${pinFile}`), r.err)
  // after the operator removes the pin, the new certificate is pinned
  writeFileSync(pinFile, '')
  const ok = await cli(['ps'])
  assert.is(ok.code, 0, ok.err)
  assert.ok(ok.err.includes(now), ok.err)
  assert.ok(existsSync(pinFile))
})

S.run()
