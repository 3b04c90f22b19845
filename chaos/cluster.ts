// A local cluster for chaos runs: N monkd processes on 127.0.0.1 with fault injection on, each with
// its own home (a small tmpfs when the machine allows, for the full-disk fault) and a fixed port,
// so a peer restarted from its home is found where it was. Watches every exit: one the harness
// did not cause is a crash.
import { MONKD_NODE_FLAGS } from '../cli/node-flags.js'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createClient, type ApiClient } from '../cli/api/client.js'
import type { FaultMessage } from '../cli/fault.js'

export const root = resolve(import.meta.dirname, '..')

export interface ClusterOptions {
  peers: number
  runtime: 'process' | 'docker'
  /** Directory holding the peers' homes. */
  base: string
  /** Size of each home's tmpfs in MB; 0 = plain directories (no full-disk fault). */
  tmpfsMb: number
  /** Mesh timers for the test cluster (passed as --fault-mesh-config). */
  meshConfig?: Record<string, number>
  logLevel?: string
  /** Every lifecycle event, for the history. */
  onEvent: (e: Record<string, unknown>) => void
}

export interface Crash { peer: string, at: number, code: number | null, signal: string | null, why: string, tail: string }

/** Why the harness expects the current process of a node to end. */
type Expect = 'none' | 'kill' | 'term'

export class Node {
  child: ChildProcess | undefined
  id = ''
  expect: Expect = 'none'
  paused = false
  stderr = ''
  readonly client: ApiClient
  private logOffset = 0

  constructor (readonly index: number, readonly name: string, readonly home: string, readonly port: number, readonly tmpfs: boolean) {
    this.client = createClient({ socketPath: join(home, 'monkd.sock'), timeoutMs: 10_000 })
  }

  /** One message to this peer's fault-injection actor. */
  async fault<R = unknown> (msg: FaultMessage, timeoutMs = 10_000): Promise<R> {
    return await this.client.request<R>('fault', msg as { type: string }, { timeoutMs })
  }

  get running (): boolean { return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null }
  /** Up and able to answer (not paused). */
  get live (): boolean { return this.running && !this.paused }

  /** New lines of monkd.log since the last call. */
  newLogLines (): string[] {
    const file = join(this.home, 'logs', 'monkd.log')
    let text: string
    try { text = readFileSync(file, 'utf8') } catch { return [] }
    if (text.length < this.logOffset) this.logOffset = 0
    const lines = text.slice(this.logOffset).split('\n')
    const complete = lines.slice(0, -1)
    this.logOffset += complete.reduce((n, l) => n + l.length + 1, 0)
    return complete
  }
}

/** How long a starting monkd may take to answer on its socket (tsx on a loaded 2-core host: tens of seconds). */
const START_TIMEOUT_MS = 120_000

/** Errors in monkd output that mean a crash, whatever the exit status. */
const CRASH_TEXT = /Uncaught|UnhandledPromiseRejection|unhandled rejection|FATAL ERROR|triggerUncaughtException|Segmentation fault|JavaScript heap out of memory/i

export class Cluster {
  readonly nodes: Node[] = []
  readonly crashes: Crash[] = []
  tmpfsReason = ''
  private token = ''

  private constructor (readonly o: ClusterOptions) {}

  /** A cluster not started yet: call boot(). stop() is safe at any time, during boot too. */
  static create (o: ClusterOptions): Cluster { return new Cluster(o) }

  static async start (o: ClusterOptions): Promise<Cluster> {
    const c = new Cluster(o)
    await c.boot()
    return c
  }

  /** Makes the homes (tmpfs when allowed), starts the founder, then the others with its token. */
  async boot (): Promise<void> {
    const o = this.o
    mkdirSync(o.base, { recursive: true })
    const ports = await freePorts(o.peers)
    let tmpfs = o.tmpfsMb > 0
    if (tmpfs && process.getuid?.() !== 0) { tmpfs = false; this.tmpfsReason = 'not root: cannot mount tmpfs homes' }
    for (let i = 0; i < o.peers; i++) {
      const home = join(o.base, `p${i}`)
      mkdirSync(home, { recursive: true })
      let mounted = false
      if (tmpfs) {
        const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${o.tmpfsMb}m,mode=0700`, 'tmpfs', home], { encoding: 'utf8' })
        if (r.status === 0) mounted = true
        else { tmpfs = false; this.tmpfsReason = `mount -t tmpfs refused: ${(r.stderr || r.error?.message || '').trim()}` }
      }
      this.nodes.push(new Node(i, `p${i}`, home, ports[i] as number, mounted))
    }
    try {
      await this.startNode(0)
      this.token = (await this.nodes[0]!.client.request<{ token: string }>('peer', { type: 'cluster.token' })).token
      for (let i = 1; i < o.peers; i++) await this.startNode(i, this.token)
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  /** True when every home is a tmpfs (the full-disk fault can run). */
  get diskFaults (): boolean { return this.nodes.every(n => n.tmpfs) }

  live (): Node[] { return this.nodes.filter(n => n.live) }

  /** Starts monkd for node `i` from its home and waits until its API answers. */
  async startNode (i: number, join?: string): Promise<void> {
    const n = this.nodes[i]!
    if (n.running) throw new Error(`${n.name} is already running`)
    const args = [...MONKD_NODE_FLAGS, ...monkdCommand(), '--home', n.home, '--name', n.name, '--listen', `/ip4/127.0.0.1/tcp/${n.port}`,
      '--runtime', this.o.runtime, '--log-level', this.o.logLevel ?? 'info', '--enable-fault-injection',
      ...(this.o.meshConfig ? ['--fault-mesh-config', JSON.stringify(this.o.meshConfig)] : []),
      ...(join ? ['--join', join] : [])]
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env } })
    n.child = child
    n.expect = 'none'
    n.paused = false
    n.stderr = ''
    child.stderr?.on('data', d => { n.stderr = (n.stderr + String(d)).slice(-64_000) })
    child.once('exit', (code, signal) => {
      const expected = n.expect === 'kill' || (n.expect === 'term' && code === 0)
      this.o.onEvent({ event: 'exit', peer: n.name, code, signal, expected, ...(expected ? {} : { stderr: n.stderr.slice(-2000) }) })
      if (!expected) this.crashes.push({ peer: n.name, at: Date.now(), code, signal, why: n.expect === 'term' ? 'SIGTERM did not end in exit 0' : 'exited without an injected fault', tail: n.stderr.slice(-2000) })
      else if (CRASH_TEXT.test(n.stderr)) this.crashes.push({ peer: n.name, at: Date.now(), code, signal, why: 'crash text on stderr', tail: n.stderr.slice(-2000) })
    })
    const deadline = Date.now() + START_TIMEOUT_MS
    for (;;) {
      if (!n.running) throw new Error(`monkd ${n.name} exited during start (code ${child.exitCode}): ${n.stderr.slice(-1000)}`)
      const ping = await n.client.ping({ timeoutMs: 2000 }).catch(() => undefined)
      if (ping) { n.id = String(ping['peerId']); break }
      if (Date.now() > deadline) {
        // a daemon that never answers is a failure of the daemon, counted like a crash
        this.crashes.push({ peer: n.name, at: Date.now(), code: null, signal: null, why: `did not answer within ${START_TIMEOUT_MS / 1000} s of its start`, tail: n.stderr.slice(-2000) })
        this.kill(i)
        await this.exited(i)
        throw new Error(`monkd ${n.name} did not answer within ${START_TIMEOUT_MS / 1000} s of its start: ${n.stderr.slice(-1000)}`)
      }
      await sleep(100)
    }
    this.o.onEvent({ event: 'started', peer: n.name, id: n.id, pid: child.pid })
  }

  kill (i: number): void {
    const n = this.nodes[i]!
    if (!n.running) return
    n.expect = 'kill'
    n.child!.kill('SIGKILL')
    n.paused = false
  }

  pause (i: number): void {
    const n = this.nodes[i]!
    if (!n.running) return
    n.child!.kill('SIGSTOP')
    n.paused = true
  }

  resume (i: number): void {
    const n = this.nodes[i]!
    if (!n.running || !n.paused) return
    n.child!.kill('SIGCONT')
    n.paused = false
  }

  /** SIGTERM and wait for the exit (a clean leave); SIGKILL after `ms` (counted as a crash by the exit watcher). */
  async terminate (i: number, ms = 30_000): Promise<void> {
    const n = this.nodes[i]!
    if (!n.running) return
    n.expect = 'term'
    const child = n.child!
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const t = setTimeout(() => { n.expect = 'none'; child.kill('SIGKILL') }, ms)
    await exited
    clearTimeout(t)
  }

  /** Waits until node i's process is gone (after kill). */
  async exited (i: number): Promise<void> {
    const child = this.nodes[i]!.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    await new Promise<void>(resolve => child.once('exit', () => resolve()))
  }

  /** Crash text in monkd.log since the last scan (fatal records, uncaught errors). */
  scanLogs (): Crash[] {
    const found: Crash[] = []
    for (const n of this.nodes) {
      for (const line of n.newLogLines()) {
        if (/"level":60/.test(line) || CRASH_TEXT.test(line)) found.push({ peer: n.name, at: Date.now(), code: null, signal: null, why: 'crash text in monkd.log', tail: line.slice(0, 2000) })
      }
    }
    this.crashes.push(...found)
    return found
  }

  /** Kills every monkd and everything they started; unmounts and removes the homes unless `keep`. */
  async stop (opts: { keep?: boolean } = {}): Promise<void> {
    for (const n of this.nodes) {
      if (!n.running) continue
      n.expect = 'kill'
      if (n.paused) n.child!.kill('SIGCONT')
      n.child!.kill('SIGKILL')
    }
    await Promise.all(this.nodes.map(async (_, i) => await this.exited(i)))
    for (const n of this.nodes) {
      for (const c of processContainers(n.home)) if (c.pid) { try { process.kill(-c.pid, 'SIGKILL') } catch { try { process.kill(c.pid, 'SIGKILL') } catch { /* gone */ } } }
    }
    for (const n of this.nodes) {
      if (n.tmpfs) {
        if (opts.keep === true) continue
        spawnSync('umount', ['-l', n.home])
      }
    }
    if (opts.keep !== true) rmSync(this.o.base, { recursive: true, force: true })
  }
}

/** The monkd command line: the build when it is newer than every source it comes from, else the sources under tsx. */
export function monkdCommand (): string[] {
  const built = join(root, 'dist', 'cli', 'monkd.js')
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource()) return [built]
  return ['--import', pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href, '--import', pathToFileURL(join(root, 'polyfill.ts')).href, join(root, 'cli', 'monkd.ts')]
}

function newestSource (): number {
  let newest = 0
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs)
    }
  }
  for (const d of ['cli', 'actors', 'mesh', 'grammar']) walk(join(root, d))
  return newest
}

export interface ProcessContainer { instance: string, peer: string, pid: number | null, running: boolean }

/** The process runtime's containers in a home, read from its state files (no lock taken). */
export function processContainers (home: string): ProcessContainer[] {
  const dir = join(home, 'runtime', 'process', 'containers')
  let names: string[]
  try { names = readdirSync(dir) } catch { return [] }
  const out: ProcessContainer[] = []
  for (const name of names) {
    let rec: { spec?: { labels?: Record<string, string> }, pid?: number | null, pidStart?: string | null } | undefined
    try { rec = JSON.parse(readFileSync(join(dir, name, 'state.json'), 'utf8')) as typeof rec } catch { continue }
    const labels = rec?.spec?.labels ?? {}
    const pid = typeof rec?.pid === 'number' ? rec.pid : null
    out.push({ instance: labels['monk.instance'] ?? '', peer: labels['monk.peer'] ?? '', pid, running: pid !== null && alive(pid, rec?.pidStart ?? null) })
  }
  return out
}

function alive (pid: number, start: string | null): boolean {
  let stat: string
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return false }
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  if (rest[0] === 'Z' || rest[0] === 'X') return false
  return start === null || rest[19] === start
}

async function freePorts (n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, async () => await new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => resolve(s))
  })))
  const ports = servers.map(s => (s.address() as { port: number }).port)
  await Promise.all(servers.map(async s => await new Promise(resolve => s.close(resolve))))
  return ports
}

export function sleep (ms: number): Promise<void> { return new Promise(resolve => setTimeout(resolve, ms)) }
