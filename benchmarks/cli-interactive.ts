// The interactive rows of `npm run bench -- cli`: keystroke round trip of `monk exec -it` (what
// `monk shell` runs) next to `docker exec -it` on the same container (Docker runtime, same run),
// and on the process runtime; and the throughput of `monk port-forward` next to the direct port.
// A round trip: one byte written to the terminal of the client (a local pty), until the remote
// terminal's echo of it comes back (`cat` on the remote pty; the echo is the line discipline's).
// Target (issue 19): monk's p50/p99 at most 10 ms over docker exec -it's.
import { execFileSync, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { join } from 'node:path'

export interface InteractiveOptions { monkJs: string, home: string, keys: number, forwardMb: number, docker: boolean }
export interface Row { case: string, [k: string]: string | number }

const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN }

/** p50/p99 of one-byte echo round trips through `argv` run on a local pty. */
async function keystrokes (argv: string[], keys: number): Promise<{ p50: number, p99: number }> {
  const pty = await import('@lydell/node-pty')
  const p = pty.spawn(argv[0]!, argv.slice(1), { cols: 80, rows: 24, env: { ...process.env, TERM: 'xterm' } as Record<string, string> })
  let buf = ''
  let wake: (() => void) | undefined
  p.onData(d => { buf += d; wake?.() })
  const waitFor = async (s: string, ms = 20_000): Promise<void> => {
    const until = Date.now() + ms
    while (!buf.includes(s)) {
      if (Date.now() > until) throw new Error(`no "${s}" from ${argv.join(' ')} within ${ms} ms: ${JSON.stringify(buf.slice(-300))}`)
      await new Promise<void>(resolve => { wake = resolve; setTimeout(resolve, 50) })
    }
  }
  try {
    // ready: the remote cat echoes a marker line
    p.write('ready\r')
    await waitFor('ready\r\nready')
    const times: number[] = []
    for (let i = -5; i < keys; i++) {
      buf = ''
      const ch = String.fromCharCode(97 + ((i + 5) % 26))
      const t = process.hrtime.bigint()
      p.write(ch)
      await waitFor(ch)
      if (i >= 0) times.push(Number(process.hrtime.bigint() - t) / 1e6)
      if ((i + 5) % 60 === 59) { p.write('\r'); await waitFor('\n') } // keep lines short
    }
    return { p50: pct(times, 0.5), p99: pct(times, 0.99) }
  } finally {
    p.write('\x03')
    p.kill()
  }
}

function monkRun (o: InteractiveOptions, home: string, ...args: string[]): string {
  return execFileSync(process.execPath, [o.monkJs, '--home', home, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
}

/** MB/s of reading `mb` MiB from 127.0.0.1:port. */
async function download (port: number, mb: number): Promise<number> {
  const s = connect({ host: '127.0.0.1', port })
  await once(s, 'connect')
  const t = process.hrtime.bigint()
  let n = 0
  s.on('data', (b: Buffer) => { n += b.length })
  await once(s, 'close')
  const sec = Number(process.hrtime.bigint() - t) / 1e9
  if (n !== mb * 1024 * 1024) throw new Error(`read ${n} bytes through port ${port}, expected ${mb} MiB`)
  return mb / sec
}

function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => { resolve(typeof a === 'object' && a !== null ? a.port : 0) }) })
  })
}

/** The rows; `home` has a monkd (process runtime) up. A Docker-runtime monkd is started in a home of its own when `docker`. */
export async function interactiveRows (o: InteractiveOptions): Promise<Row[]> {
  const rows: Row[] = []
  const kit = join(o.home, 'kit-interactive')
  mkdirSync(kit, { recursive: true })
  const port = await freePort()
  writeFileSync(join(kit, 'source.js'), `const b = Buffer.alloc(1 << 20, 7); require('net').createServer(s => { let left = ${o.forwardMb}; const more = () => { while (left > 0) { left--; if (!s.write(b)) return s.once('drain', more) } s.end() }; more() }).listen(Number(process.env.PORT), '127.0.0.1')\n`)
  writeFileSync(join(kit, 'kit.yaml'), `namespace: benchi
box:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: exec sleep 100000
source:
  defines: runnable
  variables:
    port: {type: int, value: ${port}, env: PORT}
  services:
    data: {protocol: tcp, port: <- $port}
  containers:
    main:
      bash: exec ${process.execPath} ${join(kit, 'source.js')}
`)
  monkRun(o, o.home, 'load', kit)
  monkRun(o, o.home, 'run', '--timeout', '120', 'benchi/box', 'benchi/source')
  const proc = await keystrokes([process.execPath, o.monkJs, '--home', o.home, 'exec', '-it', 'benchi/box', '--', 'cat'], o.keys)
  rows.push({ case: `monk exec -it cat, process runtime (${o.keys} keys)`, ms_p50: +proc.p50.toFixed(2), ms_p99: +proc.p99.toFixed(2) })
  if (o.docker) {
    const dhome = join(o.home, 'docker-peer')
    mkdirSync(dhome, { recursive: true })
    try {
      monkRun(o, dhome, 'daemon', 'start', '--runtime', 'docker', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', 'bench-docker')
      monkRun(o, dhome, 'load', kit)
      monkRun(o, dhome, 'run', '--timeout', '120', 'benchi/box')
      const id = execFileSync('docker', ['ps', '-q', '--filter', 'label=monk.instance=benchi/box'], { encoding: 'utf8' }).trim().split('\n')[0]!
      const direct = await keystrokes(['docker', 'exec', '-it', id, 'cat'], o.keys)
      const viaMonk = await keystrokes([process.execPath, o.monkJs, '--home', dhome, 'exec', '-it', 'benchi/box', '--', 'cat'], o.keys)
      rows.push({ case: `docker exec -it cat (${o.keys} keys)`, ms_p50: +direct.p50.toFixed(2), ms_p99: +direct.p99.toFixed(2) })
      rows.push({ case: `monk exec -it cat, Docker runtime (${o.keys} keys)`, ms_p50: +viaMonk.p50.toFixed(2), ms_p99: +viaMonk.p99.toFixed(2), over_docker_p50: +(viaMonk.p50 - direct.p50).toFixed(2), over_docker_p99: +(viaMonk.p99 - direct.p99).toFixed(2) })
    } finally {
      spawnSync(process.execPath, [o.monkJs, '--home', dhome, 'purge', '--timeout', '60', 'benchi/box'], { stdio: 'ignore' })
      spawnSync(process.execPath, [o.monkJs, '--home', dhome, 'daemon', 'stop'], { stdio: 'ignore' })
    }
  }
  // port-forward throughput: the same source read directly and through the forward
  const { spawn } = await import('node:child_process')
  const pf = spawn(process.execPath, [o.monkJs, '--home', o.home, 'port-forward', 'benchi/source', `0:${port}`], { stdio: ['ignore', 'pipe', 'ignore'] })
  try {
    let out = ''
    pf.stdout.on('data', d => { out += String(d) })
    const until = Date.now() + 30_000
    while (!/Forwarding from 127\.0\.0\.1:\d+/.test(out)) {
      if (Date.now() > until || pf.exitCode !== null) throw new Error(`port-forward did not start: ${out}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    const local = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)![1])
    const direct = await download(port, o.forwardMb)
    const forwarded = await download(local, o.forwardMb)
    rows.push({ case: `direct port, ${o.forwardMb} MiB`, MB_s: +direct.toFixed(1) })
    rows.push({ case: `monk port-forward, ${o.forwardMb} MiB`, MB_s: +forwarded.toFixed(1), pct_of_direct: +(100 * forwarded / direct).toFixed(1) })
  } finally {
    pf.kill('SIGINT')
    spawnSync(process.execPath, [o.monkJs, '--home', o.home, 'purge', '--timeout', '60', 'benchi/box', 'benchi/source'], { stdio: 'ignore' })
  }
  return rows
}
