#!/usr/bin/env node
// `npm run demo`: the main job. A 3-peer cluster of local monkd processes in a temporary directory
// runs the example kit (examples/guestbook: a store and a web app with a connection, readiness
// checks and an action); then the peer running the web app dies and the app comes back on another
// peer. Docker when an engine answers (and the kit's image exists or can be built offline), else
// the process runtime. Everything it starts is stopped and removed at the end, also on failure.
//
// Env: MONK_DEMO_RUNTIME=docker|process forces a runtime; MONK_DEMO_KEEP=1 keeps the temp dir.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = resolve(import.meta.dirname, '..')
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href
const poly = pathToFileURL(join(root, 'polyfill.ts')).href
const image = 'monk-test/busybox:1'
const storePort = 18480
const webPort = 18481
const base = mkdtempSync(join(tmpdir(), 'monk-demo-'))
const peers = ['alpha', 'beta', 'gamma'].map(name => ({ name, home: join(base, name) }))
const tty = Boolean(process.stdout.isTTY)
const bold = s => tty ? `\u001b[1m${s}\u001b[0m` : s
const env = { ...process.env }
delete env.MONK_HOME

function say (text) { process.stdout.write(`\n${bold('▶ ' + text)}\n`) }

/** Runs `monk --home HOME ARGS` from the sources, output shown; fails the demo unless allowed. */
function monk (peer, args, { allowFail = false, quiet = false, input } = {}) {
  const shown = args.map(a => a.length > 40 ? a.slice(0, 12) + '…' : a).join(' ')
  if (!quiet) process.stdout.write(`  $ ${input !== undefined ? 'echo $TOKEN | ' : ''}monk ${shown}\n`)
  const r = spawnSync(process.execPath, ['--import', tsx, '--import', poly, join(root, 'cli/monk.ts'), '--home', peer.home, ...args], {
    cwd: root, env, stdio: [input !== undefined ? 'pipe' : 'ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'], encoding: 'utf8', ...(input !== undefined ? { input } : {}),
  })
  if (r.status !== 0 && !allowFail) throw new Error(`monk ${shown} failed (exit ${r.status})${quiet ? `: ${r.stderr}${r.stdout}` : ''}`)
  return r
}

/** `monk --output json ...` parsed. */
function monkJson (peer, args) {
  const r = monk(peer, ['--output', 'json', ...args], { quiet: true, allowFail: true })
  try { return JSON.parse(r.stdout) } catch { throw new Error(`monk ${args.join(' ')}: not JSON (exit ${r.status}): ${r.stdout}${r.stderr}`) }
}

// ---- the runtime: Docker when it answers and the kit's image is there (or can be built offline) ----

function dockerSocket () {
  const h = process.env.DOCKER_HOST
  if (h === undefined || h === '') return '/var/run/docker.sock'
  return h.startsWith('unix://') ? h.slice('unix://'.length) : undefined
}

function docker (method, path) {
  const socketPath = dockerSocket()
  return new Promise(resolve => {
    if (!socketPath || !existsSync(socketPath)) { resolve({ status: 0, body: '' }); return }
    const req = request({ socketPath, path, method, timeout: 3000 }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', d => { body += d }).on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve({ status: 0, body: '' }))
    req.end()
  })
}

/** Builds the kit's image offline like scripts/test-docker.sh (a static busybox rootfs), if it can. */
function buildImage () {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find(p => existsSync(p))
  if (!busybox || spawnSync('docker', ['--version'], { stdio: 'ignore' }).status !== 0) return 'no docker CLI or busybox binary to build it with'
  const work = mkdtempSync(join(base, 'image-'))
  const rootfs = join(work, 'rootfs')
  for (const d of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev', 'home']) mkdirSync(join(rootfs, d), { recursive: true })
  execFileSync('cp', [busybox, join(rootfs, 'bin/busybox')])
  for (const applet of execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(a => a && a !== 'busybox')) {
    spawnSync('ln', ['-sf', 'busybox', join(rootfs, 'bin', applet)])
  }
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/sh\n')
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n')
  execFileSync('tar', ['-C', rootfs, '-cf', join(work, 'rootfs.tar'), '.'])
  const r = spawnSync('docker', ['import', '-c', 'ENV PATH=/bin', '-c', 'CMD ["/bin/sh"]', join(work, 'rootfs.tar'), image], { encoding: 'utf8' })
  return r.status === 0 ? undefined : `docker import failed: ${r.stderr.trim()}`
}

async function chooseRuntime () {
  const forced = process.env.MONK_DEMO_RUNTIME
  if (forced === 'process') return { runtime: 'process', why: 'MONK_DEMO_RUNTIME=process' }
  const ping = await docker('GET', '/_ping')
  if (ping.status !== 200) {
    if (forced === 'docker') throw new Error(`MONK_DEMO_RUNTIME=docker but no Docker engine answers on ${dockerSocket() ?? process.env.DOCKER_HOST}`)
    return { runtime: 'process', why: 'no Docker engine answers' }
  }
  if ((await docker('GET', `/images/${image}/json`)).status !== 200) {
    process.stdout.write(`  building ${image} offline (docker import of a static busybox)…\n`)
    const failed = buildImage()
    if (failed) {
      if (forced === 'docker') throw new Error(`image ${image} is missing and cannot be built: ${failed}`)
      return { runtime: 'process', why: `Docker answers, but image ${image} is missing and ${failed}` }
    }
  }
  return { runtime: 'docker', why: `Docker answers on ${dockerSocket()}` }
}

// ---- the process runtime runs the kit's commands on this host: give it httpd and wget ----

/**
 * A shim directory on PATH with `httpd` (-f -p HOST:PORT -h DIR; a path missing on the host is read
 * under $MONK_ROOTFS, the process runtime's stand-in for a container's root) and `wget`
 * (-q -O FILE|- URL), written in Node so the demo needs nothing but Node on a fresh machine.
 */
function processShims () {
  const dir = join(base, 'bin')
  mkdirSync(dir)
  const node = `#!${process.execPath}\n`
  writeFileSync(join(dir, 'httpd'), node + `// demo shim: busybox-style httpd serving static files
const { createServer } = require('node:http'); const { readFileSync, readdirSync, statSync, existsSync } = require('node:fs'); const { join, normalize } = require('node:path')
const a = process.argv.slice(2); const opt = f => { const i = a.indexOf(f); return i >= 0 ? a[i + 1] : undefined }
const [host, port] = (opt('-p') ?? '0.0.0.0:80').includes(':') ? opt('-p').split(':') : ['0.0.0.0', opt('-p')]
let home = opt('-h') ?? '.'; if (!existsSync(home) && process.env.MONK_ROOTFS) home = join(process.env.MONK_ROOTFS, home)
createServer((req, res) => {
  let p = join(home, normalize(decodeURIComponent(req.url.split('?')[0])))
  try { if (statSync(p).isDirectory()) { if (!existsSync(join(p, 'index.html'))) { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(readdirSync(p).join('\\n') + '\\n'); return } p = join(p, 'index.html') } const body = readFileSync(p); res.writeHead(200, { 'content-type': p.endsWith('.html') ? 'text/html' : 'text/plain' }); res.end(body) } catch { res.writeHead(404); res.end('not found\\n') }
}).listen(Number(port), host, () => console.log('httpd: serving ' + home + ' on ' + host + ':' + port))
`)
  writeFileSync(join(dir, 'wget'), node + `// demo shim: wget -q -O FILE|- URL
const { get } = require('node:http'); const { writeFileSync } = require('node:fs')
const a = process.argv.slice(2); const i = a.indexOf('-O'); const out = i >= 0 ? a[i + 1] : undefined; const url = a.filter((x, k) => !x.startsWith('-') && k !== i + 1).pop()
get(url, res => { const c = []; res.on('data', d => c.push(d)); res.on('end', () => { const b = Buffer.concat(c); if (res.statusCode >= 400) { process.stderr.write('wget: server returned ' + res.statusCode + '\\n'); process.exit(1) } if (out === '-' || out === undefined) process.stdout.write(b); else writeFileSync(out, b) }) }).on('error', e => { process.stderr.write('wget: ' + e.message + '\\n'); process.exit(1) })
`)
  for (const f of ['httpd', 'wget']) chmodSync(join(dir, f), 0o755)
  return dir
}

// ---- killing a peer the way a machine dies: its monkd and everything it ran ----

function pidOf (peer) {
  try { return JSON.parse(readFileSync(join(peer.home, 'monkd-args.json'), 'utf8')).pid } catch { return undefined }
}

function workloadPids (peer) {
  const dir = join(peer.home, 'runtime', 'process', 'containers')
  if (!existsSync(dir)) return []
  return readdirSync(dir).map(id => {
    try { return JSON.parse(readFileSync(join(dir, id, 'state.json'), 'utf8')).pid } catch { return undefined }
  }).filter(p => typeof p === 'number')
}

function killGroup (pid) {
  try { process.kill(-pid, 'SIGKILL') } catch { try { process.kill(pid, 'SIGKILL') } catch { /* gone */ } }
}

async function killMachine (peer, peerId, runtime) {
  const pid = pidOf(peer)
  if (pid !== undefined) try { process.kill(pid, 'SIGKILL') } catch { /* gone */ }
  if (runtime === 'process') for (const w of workloadPids(peer)) killGroup(w)
  else {
    const filters = encodeURIComponent(JSON.stringify({ label: [`monk.peer=${peerId}`] }))
    const list = await docker('GET', `/containers/json?all=1&filters=${filters}`)
    for (const c of JSON.parse(list.body || '[]')) await docker('DELETE', `/containers/${c.Id}?force=1`)
  }
}

/** GET http://127.0.0.1:PORT/ → the page's <h1>, or undefined. */
function page (port) {
  return new Promise(resolve => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 2000 }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', d => { body += d }).on('end', () => resolve(/<h1>(.*)<\/h1>/.exec(body)?.[1]))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(undefined))
    req.end()
  })
}

/** Whether 127.0.0.1:PORT is free (the kit's store and web listen on fixed loopback ports). */
function portFree (port) {
  return new Promise(resolve => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

async function until (what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

// ---- cleanup, also on failure or Ctrl-C ----

let cleaned = false
async function cleanup (runtime, cli) {
  if (cleaned) return
  cleaned = true
  say('Clean up: purge the app, stop every monkd, remove the temp directory')
  if (cli) monk(cli, ['purge', 'guestbook/app'], { allowFail: true })
  for (const p of peers) if (existsSync(join(p.home, 'monkd.sock'))) monk(p, ['daemon', 'stop'], { allowFail: true, quiet: true })
  for (const p of peers) {
    const pid = pidOf(p)
    if (pid !== undefined) try { process.kill(pid, 'SIGKILL') } catch { /* stopped */ }
    if (runtime === 'process') for (const w of workloadPids(p)) killGroup(w)
  }
  if (runtime === 'docker') {
    const filters = encodeURIComponent(JSON.stringify({ label: ['monk.instance'] }))
    const list = await docker('GET', `/containers/json?all=1&filters=${filters}`)
    const ids = new Set(peers.map(p => p.id).filter(Boolean))
    for (const c of JSON.parse(list.body || '[]')) if (ids.has(c.Labels?.['monk.peer'])) await docker('DELETE', `/containers/${c.Id}?force=1`)
  }
  if (process.env.MONK_DEMO_KEEP === '1') process.stdout.write(`  kept ${base}\n`)
  else rmSync(base, { recursive: true, force: true })
}

function tailLogs () {
  for (const p of peers) {
    const f = join(p.home, 'logs', 'monkd.log')
    if (!existsSync(f)) continue
    process.stderr.write(`--- last lines of ${p.name}'s monkd.log ---\n${readFileSync(f, 'utf8').trimEnd().split('\n').slice(-12).join('\n')}\n`)
  }
}

// ---- the demo ----

async function main () {
  const started = Date.now()
  for (const port of [storePort, webPort]) {
    if (!await portFree(port)) throw new Error(`127.0.0.1:${port} is in use: the guestbook kit listens there (is another guestbook running? monk ps / docker ps)`)
  }
  say('Choose a runtime')
  const { runtime, why } = await chooseRuntime()
  process.stdout.write(`  runtime: ${runtime} (${why})\n`)
  if (runtime === 'process') {
    env.PATH = `${processShims()}:${env.PATH ?? ''}`
    process.stdout.write('  the kit\'s commands run as host processes; httpd and wget come from small Node shims on PATH\n')
  }
  let cli = peers[0]
  process.on('SIGINT', () => { void cleanup(runtime, cli).then(() => process.exit(130)) })
  try {
    const daemonFlags = ['--runtime', runtime, '--listen', '/ip4/127.0.0.1/tcp/0']
    say(`Start monkd on alpha and make it a cluster (homes under ${base})`)
    monk(peers[0], ['daemon', 'start', ...daemonFlags, '--name', 'alpha'])
    const { token } = monkJson(peers[0], ['cluster', 'new'])
    if (typeof token !== 'string') throw new Error('cluster new printed no token')
    process.stdout.write(`  join token: ${token.slice(0, 24)}… (secret: it holds the cluster key)\n`)

    say('beta and gamma join with the token')
    for (const p of peers.slice(1)) monk(p, ['cluster', 'join', '--join-file', '-', ...daemonFlags, '--name', p.name], { input: `${token}\n` })
    monk(cli, ['cluster', 'peers'])
    for (const row of monkJson(cli, ['cluster', 'peers'])) { const p = peers.find(x => x.name === row.name); if (p) p.id = row.id }

    say('Load the example kit and run the app (store + web; web waits for the store, both have readiness checks)')
    monk(cli, ['load', 'examples/guestbook'])
    monk(cli, ['run', 'guestbook/app'])
    monk(cli, ['ps'])

    say('Use it: an action on the store, and the web page')
    monk(cli, ['do', 'guestbook/store/put', 'key=greeting', 'value=hello from the demo'])
    process.stdout.write(`  GET http://127.0.0.1:${webPort}/ → <h1>${await until('the web page', () => page(webPort), 10_000)}</h1>\n`)

    const web = monkJson(cli, ['ps']).find(r => r.instance === 'guestbook/web')
    const victim = peers.find(p => p.name === web?.peerName)
    if (!victim) throw new Error(`guestbook/web runs on ${web?.peerName ?? 'no peer'}, not one of ours`)
    if (victim === cli) cli = peers.find(p => p !== victim)
    say(`Kill ${victim.name}, the peer running the web app (SIGKILL its monkd and its ${runtime === 'docker' ? 'containers' : 'workload processes'}, as if the machine died)`)
    const killedAt = Date.now()
    await killMachine(victim, web.peer, runtime)
    const moved = await until('guestbook/web to run on another peer', () => {
      const row = monkJson(cli, ['ps']).find(r => r.instance === 'guestbook/web')
      return row?.status === 'running' && row.peerName !== victim.name ? row : undefined
    }, 60_000)
    const seconds = ((Date.now() - killedAt) / 1000).toFixed(1)
    process.stdout.write(`  guestbook/web runs on ${moved.peerName} ${seconds} s after ${victim.name} died\n`)
    monk(cli, ['ps'])
    monk(cli, ['describe', 'guestbook/web'])
    process.stdout.write(`  GET http://127.0.0.1:${webPort}/ → <h1>${await until('the web page on the new peer', () => page(webPort), 30_000)}</h1>\n`)
    monk(cli, ['cluster', 'peers'])
    await cleanup(runtime, cli)
    process.stdout.write(`\ndemo: done in ${((Date.now() - started) / 1000).toFixed(0)} s (runtime ${runtime}; failover ${seconds} s)\n`)
  } catch (err) {
    process.stderr.write(`\ndemo: ${err.message}\n`)
    tailLogs()
    await cleanup(runtime, cli)
    process.exit(1)
  }
}

await main().catch(err => { process.stderr.write(`demo: ${err.message}\n`); rmSync(base, { recursive: true, force: true }); process.exit(1) })
