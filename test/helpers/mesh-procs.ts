// Clusters of mesh peers as separate OS processes (test/helpers/mesh-peer.ts), for failure
// detection with real SIGKILL and for benchmarks/mesh.ts. Tests run the peer under tsx; the
// benchmark runs the built one (`npm run build` → dist/test/helpers/mesh-peer.js, plain node).
// Reads RSS, CPU time, TCP connections and bytes sent from /proc and `ss`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { MONKD_NODE_FLAGS } from '../../cli/node-flags.js'
import type { MeshConfig } from '../../mesh/index.js'
import type { PeerCommand, PeerEvent } from './mesh-peer.js'

const root = resolve(import.meta.dirname, '../..')
const peerScript = join(root, 'test/helpers/mesh-peer.ts')
const builtPeerScript = join(root, 'dist/test/helpers/mesh-peer.js')

/**
 * V8 flags a peer process runs with (monkd should be launched with them too, e.g. in NODE_OPTIONS).
 * Measured on idle peers from dist/ (5 peers): RSS ~100-106 MB without, 74-81 MB with. A 2 MB
 * young generation (default: up to 16 MB per semi-space) suits a daemon whose allocations are
 * small and short-lived; 1 MB saved no more memory and scavenged more often (more CPU). One V8
 * worker thread instead of one per core. They cannot be set from inside the process
 * (v8.setFlagsFromString comes after the heap is set up).
 */
export const peerNodeFlags = MONKD_NODE_FLAGS

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

export interface PeerSpawnArgs {
  home: string
  name: string
  token?: string
  clusterId?: string
  clusterKey?: string
  config?: Partial<MeshConfig>
  /** Run the built peer from dist/ under plain node instead of the sources under tsx. */
  dist?: boolean
}

/** One peer process. Collects its events; answers commands. */
export class PeerProcess {
  readonly child: ChildProcess
  readonly args: PeerSpawnArgs
  peerId = ''
  token = ''
  readonly events: PeerEvent[] = []
  stderr = ''
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private readonly listeners = new Set<(e: PeerEvent) => void>()
  exited = false

  private constructor (args: PeerSpawnArgs) {
    this.args = args
    // MONK_MESH_PEER_NODE_ARGS: extra node flags for the peers (e.g. --cpu-prof when profiling)
    const extra = (process.env.MONK_MESH_PEER_NODE_ARGS ?? '').split(' ').filter(Boolean)
    if (args.dist && !existsSync(builtPeerScript)) throw new Error(`${builtPeerScript} is missing: run npm run build`)
    const entry = args.dist
      ? [...peerNodeFlags, '--import', join(root, 'dist/polyfill.js'), builtPeerScript]
      : ['--import', 'tsx', '--import', join(root, 'polyfill.ts'), peerScript]
    const { dist: _dist, ...peerArgs } = args
    this.child = spawn(process.execPath, [...extra, ...entry], {
      cwd: root,
      env: { ...process.env, MONK_MESH_PEER: JSON.stringify({ ...peerArgs, listen: ['/ip4/127.0.0.1/tcp/0'] }) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    this.child.stderr!.on('data', d => { this.stderr += String(d) })
    this.child.on('message', (m: unknown) => {
      const e = m as PeerEvent
      if (e.ev === 'reply') {
        const w = this.waiting.get(e.id)
        this.waiting.delete(e.id)
        if (e.ok) w?.resolve(e.result)
        else w?.reject(new Error(`peer ${args.name}: ${e.error}`))
        return
      }
      if (e.ev === 'ready') { this.peerId = e.peerId; this.token = e.token }
      this.events.push(e)
      for (const l of this.listeners) l(e)
    })
    this.child.on('exit', () => {
      this.exited = true
      for (const w of this.waiting.values()) w.reject(new Error(`peer ${args.name} exited`))
      this.waiting.clear()
    })
  }

  /** Starts a peer and waits until it reports ready. */
  static async spawn (args: PeerSpawnArgs, timeoutMs = 60_000): Promise<PeerProcess> {
    const p = new PeerProcess(args)
    await p.waitFor(e => e.ev === 'ready', timeoutMs, 'ready')
    return p
  }

  get pid (): number { return this.child.pid! }

  /** Sends a command and resolves with its result. */
  command<T = unknown> (cmd: DistributiveOmit<PeerCommand, 'id'>, timeoutMs = 30_000): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => { this.waiting.delete(id); reject(new Error(`peer ${this.args.name}: ${cmd.op} timed out`)) }, timeoutMs)
      this.waiting.set(id, { resolve: v => { clearTimeout(timer); resolve(v as T) }, reject: e => { clearTimeout(timer); reject(e) } })
      this.child.send({ ...cmd, id })
    })
  }

  /** Calls `fn` for every later event. Returns an unsubscribe function. */
  on (fn: (e: PeerEvent) => void): () => void { this.listeners.add(fn); return () => { this.listeners.delete(fn) } }

  /** Resolves with the first event (past or future) matching `pred`. */
  waitFor (pred: (e: PeerEvent) => boolean, timeoutMs: number, what: string): Promise<PeerEvent> {
    const past = this.events.find(pred)
    if (past) return Promise.resolve(past)
    return new Promise((resolve, reject) => {
      const done = (): void => { clearTimeout(timer); off(); this.child.off('exit', onExit) }
      const timer = setTimeout(() => { done(); reject(new Error(`peer ${this.args.name}: no ${what} within ${timeoutMs} ms${this.stderr ? `\nstderr: ${this.stderr.slice(-2000)}` : ''}`)) }, timeoutMs)
      const off = this.on(e => { if (pred(e)) { done(); resolve(e) } })
      const onExit = (code: number | null): void => { done(); reject(new Error(`peer ${this.args.name} exited (${code}) before ${what}\nstderr: ${this.stderr.slice(-2000)}`)) }
      this.child.once('exit', onExit)
    })
  }

  kill (signal: NodeJS.Signals = 'SIGKILL'): void { if (!this.exited) this.child.kill(signal) }

  /** Waits for the process to exit. */
  async exit (): Promise<void> {
    if (this.exited) return
    await new Promise(resolve => this.child.once('exit', resolve))
  }

  /** Resident set size in MB (from /proc). */
  rssMb (): number { return procRssMb(this.pid) }

  /** Bytes the process passed to write(2)-like calls (sockets included), from /proc/<pid>/io. */
  bytesWritten (): number { return procBytesWritten(this.pid) }

  /** CPU time (user + system) the process used so far, in seconds, from /proc/<pid>/stat. */
  cpuSeconds (): number { return procCpuSeconds(this.pid) }
}

/**
 * TCP payload bytes sent so far by each socket of each process, from `ss -tinp` (tcp_info
 * bytes_sent): pid → "local peer" → bytes. Exact for TCP; UDP is not covered.
 */
export function tcpBytesSent (): Map<number, Map<string, number>> {
  const r = spawnSync('ss', ['-tinpH'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  const out = new Map<number, Map<string, number>>()
  const lines = r.stdout.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const head = /^\S+\s+\d+\s+\d+\s+(\S+)\s+(\S+)\s+users:\(\("[^"]*",pid=(\d+)/.exec(lines[i]!)
    if (!head) continue
    const sent = /bytes_sent:(\d+)/.exec(lines[i + 1] ?? '')
    const pid = Number(head[3])
    const socks = out.get(pid) ?? new Map<string, number>()
    socks.set(`${head[1]} ${head[2]}`, sent ? Number(sent[1]) : 0)
    out.set(pid, socks)
  }
  return out
}

/** Established TCP connections per process, from `ss -tnpH state established` (a TCP connection between two peers counts for each). */
export function tcpConnections (): Map<number, number> {
  const r = spawnSync('ss', ['-tnpH', 'state', 'established'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  const out = new Map<number, number>()
  for (const line of r.stdout.split('\n')) {
    for (const m of line.matchAll(/pid=(\d+)/g)) out.set(Number(m[1]), (out.get(Number(m[1])) ?? 0) + 1)
  }
  return out
}

/** TCP bytes `pid` sent between two tcpBytesSent() snapshots (sockets opened meanwhile count from 0). */
export function tcpBytesDelta (before: Map<number, Map<string, number>>, after: Map<number, Map<string, number>>, pid: number): number {
  const a = before.get(pid) ?? new Map<string, number>()
  let total = 0
  for (const [sock, bytes] of after.get(pid) ?? []) total += bytes - (a.get(sock) ?? 0)
  return total
}

export function procRssMb (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

/** utime + stime of `pid` in seconds (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 1/100 s on Linux). */
export function procCpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // the command name (field 2) may contain spaces: count fields after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / clockTicks
}
const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

export function procBytesWritten (pid: number): number {
  const m = /wchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))
  return m ? Number(m[1]) : NaN
}

export interface ProcCluster {
  peers: PeerProcess[]
  homes: string[]
  clusterId: string
  /** Restarts peer `i` from its home (same peer id); waits for ready. */
  restart: (i: number) => Promise<PeerProcess>
  /** Kills every peer and removes the homes. */
  close: () => Promise<void>
}

/** Progress sink of long waits (benchmarks print it to stderr as it happens). */
export type ProgressLog = (msg: string) => void

export interface StartOptions {
  config?: Partial<MeshConfig>
  /** Peers started at once in a wave (default 4). */
  parallel?: number
  dist?: boolean
  readyTimeoutMs?: number
  /** Called with every wave's progress: started k/N, how long the wave took, the CPU wait after it. */
  log?: ProgressLog
  /**
   * After each wave, wait until the started peers' CPU has settled (their summed CPU over 1 s at
   * most max(50 %, 3 % × started) of a core), bounded by 5 s + 100 ms × started, before the next
   * wave: joins cost handshakes and syncs on every peer, and starting 50 processes back to back on 2
   * cores drove the load to 60 and every wait after it past its bound.
   */
  settleCpu?: boolean
}

/**
 * Starts `n` peer processes: one founder, the rest join with its token, in waves of `parallel`
 * (a wave starts when the previous one is ready, so 100 processes on 2 cores do not all start at
 * once). `dist` runs the built peer.
 */
export async function startProcCluster (n: number, opts: StartOptions = {}): Promise<ProcCluster> {
  const clusterId = randomBytes(8).toString('hex')
  const clusterKey = randomBytes(32).toString('hex')
  const homes = Array.from({ length: n }, (_, i) => mkdtempSync(join(tmpdir(), `monk-proc${i}-`)))
  const peers: PeerProcess[] = []
  const base = (i: number): PeerSpawnArgs => ({ home: homes[i]!, name: `p${i}`, ...(opts.config ? { config: opts.config } : {}), ...(opts.dist ? { dist: true } : {}) })
  const readyMs = opts.readyTimeoutMs ?? 60_000
  const log = opts.log ?? ((): void => {})
  try {
    let t = Date.now()
    peers.push(await PeerProcess.spawn({ ...base(0), clusterId, clusterKey }, readyMs))
    log(`started 1/${n} (founder p0 ready in ${Date.now() - t} ms)`)
    const token = peers[0]!.token
    const parallel = opts.parallel ?? 4
    for (let i = 1; i < n; i += parallel) {
      t = Date.now()
      const count = Math.min(parallel, n - i)
      const batch = await Promise.allSettled(Array.from({ length: count }, (_, j) => PeerProcess.spawn({ ...base(i + j), token }, readyMs)))
      for (const b of batch) if (b.status === 'fulfilled') peers.push(b.value)
      const failed = batch.findIndex(b => b.status === 'rejected')
      if (failed >= 0) throw new Error(`starting p${i + failed} (${i + failed + 1}/${n}) failed: ${((batch[failed] as PromiseRejectedResult).reason as Error).message}`)
      const ready = Date.now() - t
      const settle = opts.settleCpu ? await settleCpu(peers, 5000 + 100 * peers.length) : undefined
      log(`started ${peers.length}/${n} (p${i}..p${i + count - 1} ready in ${ready} ms${settle ? `; CPU ${settle.settled ? 'settled' : 'NOT settled'} in ${settle.ms} ms at ${settle.pct.toFixed(0)} % of a core for ${peers.length} peers` : ''})`)
    }
  } catch (err) {
    for (const p of peers) p.kill()
    for (const h of homes) rmSync(h, { recursive: true, force: true })
    throw err
  }
  const cluster: ProcCluster = {
    peers,
    homes,
    clusterId,
    restart: async i => {
      const old = peers[i]!
      old.kill()
      await old.exit()
      const p = await PeerProcess.spawn({ ...base(i), token: peers.find(q => !q.exited)?.token ?? old.token }, readyMs)
      peers[i] = p
      return p
    },
    close: async () => {
      for (const p of peers) p.kill()
      await Promise.all(peers.map(async p => { await p.exit() }))
      for (const h of homes) rmSync(h, { recursive: true, force: true })
    },
  }
  return cluster
}

/**
 * Waits until the summed CPU of `peers` over 1 s is at most max(50 %, 3 % × peers) of a core, or
 * `boundMs` passed. Returns how long it took, the last rate and whether it settled.
 */
export async function settleCpu (peers: PeerProcess[], boundMs: number): Promise<{ ms: number; pct: number; settled: boolean }> {
  const start = Date.now()
  const limit = Math.max(50, 3 * peers.length)
  let pct = Infinity
  const total = (): number => peers.reduce((a, p) => a + (p.exited ? 0 : safeCpu(p.pid)), 0)
  while (Date.now() - start < boundMs) {
    const c0 = total()
    const t0 = Date.now()
    await new Promise(resolve => setTimeout(resolve, 1000))
    pct = (total() - c0) / ((Date.now() - t0) / 1000) * 100
    if (pct <= limit) return { ms: Date.now() - start, pct, settled: true }
  }
  return { ms: Date.now() - start, pct, settled: false }
}
function safeCpu (pid: number): number { try { return procCpuSeconds(pid) } catch { return 0 } }

/**
 * Resolves when every live peer reports exactly `n` alive peers (itself included). Polls every
 * `everyMs`; one poll waits at most 10 s for a peer's answer (a stuck peer counts as -1 and is
 * named). With `log`, prints every 5 s how many peers see all `n` and names up to 8 laggards with
 * their counts; the timeout's error names them too.
 */
export async function waitAllAlive (peers: PeerProcess[], n: number, timeoutMs: number, everyMs = 200, log?: ProgressLog): Promise<void> {
  const start = Date.now()
  let lastLog = start
  for (;;) {
    const live = peers.filter(p => !p.exited)
    const counts = await Promise.all(live.map(async p => await p.command<string[]>({ op: 'alive' }, Math.min(timeoutMs, 10_000)).then(a => a.length, () => -1)))
    if (counts.every(c => c === n)) return
    const laggards = (): string => live.map((p, i) => ({ name: p.args.name, c: counts[i]! })).filter(x => x.c !== n).slice(0, 8).map(x => `${x.name}(${x.c === -1 ? 'no answer' : x.c})`).join(' ')
    const seenBy = counts.filter(c => c === n).length
    if (Date.now() - start > timeoutMs) {
      throw new Error(`not every peer sees ${n} alive after ${timeoutMs} ms: ${seenBy}/${live.length} do; laggards (alive count) ${laggards()}${live.length < peers.length ? `; ${peers.length - live.length} peer processes exited` : ''}`)
    }
    if (log && Date.now() - lastLog >= 5000) {
      lastLog = Date.now()
      log(`alive ${n} seen by ${seenBy}/${live.length} after ${((Date.now() - start) / 1000).toFixed(0)} s; laggards ${laggards()}`)
    }
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}
