// The overlay's data path between two hosts (network namespaces joined by a bridge, as in
// test/e2e/overlay-netns.serial.test.ts), in one run:
//   direct       TCP from B to A's service ports;
//   monk-tunnel  B's local endpoint → A's loopback (two mesh peers, one per namespace): a ticket
//                over `/monk/tunnel/1`, then the bytes on a raw socket to A's p2p port sealed with
//                native ChaCha20-Poly1305 (mesh/tunnel-raw.ts); the row's `tunnel_path` says which
//                path ran ('raw', or 'stream' when the raw dial fell back);
//   monk-tunnel-stream  the same over the libp2p stream only (pnet + Noise + yamux), the fallback
//                path (with --stream);
//   ssh          an `ssh -L` forward from B to A's sshd (only when Debian's openssh-server is installed).
// Each: throughput of one upload of --mib MiB (default 256) and latency p50/p99 of --requests
// (default 1000) 64-byte round trips on one connection; also p50/p99 of connect + one round trip
// on 200 new connections (connect_latency_ms_*). Root only (ip netns). Writes
// benchmarks/results/tunnel.json as rows {path, throughput_mib_s, latency_ms_p50, latency_ms_p99, ...}.
// Targets (issue 16): tunnel throughput >= 50% of direct and >= SSH's; tunnel p50 <= direct p50 + 1 ms.
// Each tunnel row also has the CPU seconds its two mesh peers spent on the upload (cpu_s_opener,
// cpu_s_server: user + system, from /proc) and on all three phases (cpu_s_*_all), steadier than
// the throughput on a shared machine. --profile DIR writes a V8 .cpuprofile of each peer into DIR
// (summarise with benchmarks/cpuprofile.ts).
// Usage: npm run bench -- tunnel [--mib N] [--requests N] [--stream] [--profile DIR]
import type { ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createHosts, netnsUnavailable, type NetHost, type NetHosts } from '../test/helpers/netns.js'

const root = resolve(import.meta.dirname, '..')
const arg = (name: string, d: number): number => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : d }
const mib = arg('--mib', 256)
const requests = arg('--requests', 1000)
const tools = join(root, 'benchmarks/tunnel-tools.ts')
const node = [process.execPath, '--import', 'tsx', '--import', join(root, 'polyfill.ts')]
const profIdx = process.argv.indexOf('--profile')
const profDir = profIdx > 0 ? resolve(process.argv[profIdx + 1] ?? '') : undefined
/** The mesh peers' node: profiled with --profile (they exit on SIGTERM, which writes the profile). */
const peerNode = profDir === undefined ? node : [process.execPath, '--cpu-prof', `--cpu-prof-dir=${profDir}`, ...node.slice(1)]
const SSHD = '/usr/sbin/sshd'

const why = netnsUnavailable()
if (why !== null) { console.error(`tunnel bench cannot run: ${why}`); process.exit(1) }
const base = mkdtempSync(join(tmpdir(), 'monk-bench-tunnel-'))
const net = createHosts(['a', 'b'], 7946, [9000, 9001, 22])
const [A, B] = net.hosts as [NetHost, NetHost]
const children: ChildProcess[] = []

/** Starts a long-lived tool in `host` and resolves with the first JSON line it prints. */
const started = new Map<Record<string, unknown>, ChildProcess>()
async function start (host: NetHost, argv: string[], n: NetHosts = net): Promise<Record<string, unknown>> {
  const c = n.spawn(host, argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: root })
  children.push(c)
  let out = ''
  let err = ''
  c.stderr?.on('data', d => { err += String(d) })
  return await new Promise((resolve, reject) => {
    c.stdout?.on('data', d => {
      out += String(d)
      const line = out.split('\n').find(l => l.startsWith('{'))
      if (line === undefined || !out.includes('\n')) return
      const info = JSON.parse(line) as Record<string, unknown>
      started.set(info, c)
      resolve(info)
    })
    c.on('exit', code => { reject(new Error(`${argv.join(' ')} exited with ${code}: ${err}${out}`)) })
  })
}

type Phase = 'upload' | 'requests' | 'connects'
function loadPhase (port: { host: string, sink: number, echo: number }, phase: Phase): Record<string, number> {
  const r = net.run(B, node[0]!, [...node.slice(1), tools, 'load', phase, port.host, String(port.sink), String(port.echo), String(mib * 1024 * 1024), String(requests)], { timeoutMs: 600_000 })
  const line = r.out.split('\n').find(l => l.startsWith('{'))
  if (r.status !== 0 || line === undefined) throw new Error(`load ${phase} failed (${r.status}): ${r.out}`)
  return JSON.parse(line) as Record<string, number>
}

function load (port: { host: string, sink: number, echo: number }): Record<string, number> {
  return { ...loadPhase(port, 'upload'), ...loadPhase(port, 'requests'), ...loadPhase(port, 'connects') }
}

/** CPU seconds (user + system) a child has used so far. */
function cpuOf (info: Record<string, unknown>): number {
  const pid = started.get(info)?.pid
  if (pid === undefined) return NaN
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks (USER_HZ = 100)
}

/** The load through a tunnel, with the CPU its two peers spent on the upload (cpu_s_*) and on all three phases. */
function loadTunnel (port: { host: string, sink: number, echo: number }, opener: Record<string, unknown>, server: Record<string, unknown>): Record<string, number> {
  const [o, s] = [cpuOf(opener), cpuOf(server)]
  const up = loadPhase(port, 'upload')
  const [o1, s1] = [cpuOf(opener), cpuOf(server)]
  const r = { ...up, ...loadPhase(port, 'requests'), ...loadPhase(port, 'connects') }
  const [o2, s2] = [cpuOf(opener), cpuOf(server)]
  const cpu = (a: number, b: number): number => +(b - a).toFixed(2)
  return { ...r, cpu_s_opener: cpu(o, o1), cpu_s_server: cpu(s, s1), cpu_s_opener_all: cpu(o, o2), cpu_s_server_all: cpu(s, s2) }
}

/** Which path the opener's tunnels took, from its stats file (written on SIGUSR2). */
async function pathOf (home: string, opener: Record<string, unknown>): Promise<Record<string, unknown>> {
  const file = join(home, 'stats.json')
  rmSync(file, { force: true })
  started.get(opener)?.kill('SIGUSR2')
  for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise(resolve => setTimeout(resolve, 100))
  const s = JSON.parse(readFileSync(join(home, 'stats.json'), 'utf8')) as { sink: { path: string, fallbacks: number }, echo: { path: string }, raw: { fallbacks: number } }
  return { tunnel_path: s.sink.path, tunnel_fallbacks: s.raw.fallbacks }
}

const rows: Array<Record<string, unknown>> = []
try {
  await start(A, [...node, tools, 'server'])
  console.log(`direct: ${mib} MiB and ${requests} requests from ${B.ip} to ${A.ip}…`)
  rows.push({ path: 'direct', ...load({ host: A.ip, sink: 9000, echo: 9001 }) })

  const served = await start(A, [...peerNode, tools, 'serve', join(base, 'a'), A.ip])
  const opened = await start(B, [...peerNode, tools, 'open', join(base, 'b'), B.ip, String(served.token), String(served.peer)])
  console.log('monk-tunnel…')
  rows.push({ path: 'monk-tunnel', ...loadTunnel({ host: '127.0.0.1', sink: Number(opened.sink), echo: Number(opened.echo) }, opened, served), ...await pathOf(join(base, 'b'), opened) })
  if (process.argv.includes('--stream')) {
    const streamOnly = await start(B, [...peerNode, tools, 'open', join(base, 'b2'), B.ip, String(served.token), String(served.peer), 'stream'])
    console.log('monk-tunnel-stream…')
    rows.push({ path: 'monk-tunnel-stream', ...loadTunnel({ host: '127.0.0.1', sink: Number(streamOnly.sink), echo: Number(streamOnly.echo) }, streamOnly, served), ...await pathOf(join(base, 'b2'), streamOnly) })
  }
  if (profDir !== undefined) {
    // the peers write their profiles when they exit
    const peers = [...started.entries()].filter(([info]) => info !== undefined && ('token' in info || 'sink' in info)).map(([, c]) => c)
    await Promise.all(peers.map(async c => { const exited = new Promise(resolve => c.once('exit', resolve)); c.kill('SIGTERM'); await exited }))
    console.log(`profiles in ${profDir}`)
  }

  if (existsSync(SSHD)) {
    console.log('ssh -L…')
    const key = join(base, 'id')
    net.run(A, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key])
    net.run(A, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(base, 'hostkey')])
    writeFileSync(join(base, 'authorized_keys'), readFileSync(`${key}.pub`, 'utf8'))
    chmodSync(join(base, 'authorized_keys'), 0o600)
    const cfg = join(base, 'sshd_config')
    writeFileSync(cfg, [`ListenAddress ${A.ip}:22`, `HostKey ${join(base, 'hostkey')}`, `AuthorizedKeysFile ${join(base, 'authorized_keys')}`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'StrictModes no', 'AllowTcpForwarding yes', 'UsePAM no', `PidFile ${join(base, 'sshd.pid')}`].join('\n') + '\n')
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }) // sshd's privilege separation directory
    children.push(net.spawn(A, SSHD, ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', openSync(join(base, 'sshd.log'), 'w')] }))
    // ssh gives up at once on a refused connection: wait until sshd listens before starting it
    for (let i = 0; i < 120 && net.run(B, 'bash', ['-c', `exec 3<>/dev/tcp/${A.ip}/22`]).status !== 0; i++) await new Promise(resolve => setTimeout(resolve, 250))
    children.push(net.spawn(B, 'ssh', ['-N', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ExitOnForwardFailure=yes', '-L', '127.0.0.1:19000:127.0.0.1:9000', '-L', '127.0.0.1:19001:127.0.0.1:9001', `root@${A.ip}`], { stdio: ['ignore', 'ignore', openSync(join(base, 'ssh.log'), 'w')] }))
    let up = false
    for (let i = 0; i < 120 && !up; i++) { // up to 30 s: sshd and ssh start slowly on a loaded machine
      await new Promise(resolve => setTimeout(resolve, 250))
      up = net.run(B, 'bash', ['-c', 'exec 3<>/dev/tcp/127.0.0.1/19001']).status === 0
    }
    if (!up) throw new Error(`the ssh forward did not come up: ${readFileSync(join(base, 'sshd.log'), 'utf8')}${readFileSync(join(base, 'ssh.log'), 'utf8')}`)
    rows.push({ path: 'ssh', ...load({ host: '127.0.0.1', sink: 19000, echo: 19001 }) })
  } else {
    console.log(`ssh: skipped (${SSHD} is not installed; apt-get install openssh-server to add the SSH anchor)`)
  }
} finally {
  for (const c of children) c.kill('SIGKILL')
  net.destroy()
  rmSync(base, { recursive: true, force: true })
}

for (const r of rows) r.mib = mib
console.table(rows)
const direct = rows.find(r => r.path === 'direct')
const tunnel = rows.find(r => r.path === 'monk-tunnel')
const ssh = rows.find(r => r.path === 'ssh')
if (direct && tunnel) {
  const share = Number(tunnel.throughput_mib_s) / Number(direct.throughput_mib_s)
  console.log(`tunnel throughput ${(share * 100).toFixed(0)}% of direct (target >= 50%)${ssh ? `, ${(Number(tunnel.throughput_mib_s) / Number(ssh.throughput_mib_s) * 100).toFixed(0)}% of ssh (target >= 100%)` : ''}`)
  console.log(`tunnel path: ${String(tunnel.tunnel_path)} (${String(tunnel.tunnel_fallbacks)} fallbacks to the stream)`)
  console.log(`tunnel latency p50 +${(Number(tunnel.latency_ms_p50) - Number(direct.latency_ms_p50)).toFixed(3)} ms over direct (target <= 1 ms)`)
}
writeFileSync(join(root, 'benchmarks/results/tunnel.json'), JSON.stringify(rows, null, 2) + '\n')
console.log('wrote benchmarks/results/tunnel.json')
process.exit(0)
