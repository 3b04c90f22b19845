// One sync of one hub source off the daemon's main thread: a child process fetches the repository
// (git) and compiles its kits, within a time and a memory limit (its heap), and hands back the
// encoded records to write. The daemon only writes them, so gossip and SWIM probes never wait for a
// compile, and a kit that eats memory or loops kills the child, not monkd.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { MapValue } from '../../grammar/monkscript/index.js'
import { defaultLimits, type FetchLimits } from './git.js'

export interface HubLimits extends FetchLimits {
  /** Longest compile (after the fetch), ms. */
  compileMs: number
  /** Heap of the process that compiles, MiB. */
  memoryMb: number
  /** Largest template record (replica entry), bytes; the mesh's entry limit when absent. */
  maxRecordBytes?: number
}

export const defaultHubLimits: HubLimits = { ...defaultLimits, compileMs: 60_000, memoryMb: 512 }

export interface SyncJob {
  source: string
  url: string
  ref: string | null
  /** The working copy. */
  dir: string
  /** The source's current records: template path → content hash and kit. */
  previous: Array<[string, { hash: string, kit: string }]>
  now: number
  limits: HubLimits
}

export interface SyncResult {
  commit: string
  /** Encoded template records to write, by template path. */
  write: Array<{ path: string, value: MapValue }>
  remove: string[]
  broken: Array<{ kit: string, error: string }>
  kits: number
  templates: number
  fetchMs: number
  compileMs: number
}

/** What the child posts: the fetch is done, then the result or the error. */
export type JobMessage = { stage: 'fetched' } | { stage: 'done', result: SyncResult } | { stage: 'failed', error: string }

/** The child's module beside this one: `.ts` run with tsx when monkd runs from source, `.js` when built. */
const fromSource = import.meta.url.endsWith('.ts')
const childPath = fileURLToPath(new URL(fromSource ? './sync-child.ts' : './sync-child.js', import.meta.url))

const duration = (ms: number): string => ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`

/** Runs `job` in a child process (`onFetched`: the fetch is done, the compile starts; `signal` kills it). Rejects with a message naming the limit it broke, or the child's error. */
export function runSyncJob (job: SyncJob, opts: { onFetched?: () => void, onSpawn?: (pid: number) => void, signal?: AbortSignal } = {}): Promise<SyncResult> {
  return new Promise((resolve, reject) => {
    // from source, the child runs TypeScript like this process does (tsx's loader flags are absolute)
    const inherited = fromSource ? process.execArgv.filter(a => !/^--max-old-space-size/.test(a)) : []
    const execArgv = [...inherited, `--max-old-space-size=${job.limits.memoryMb}`, '--max-semi-space-size=2', '--v8-pool-size=1']
    // its own process group, so a kill takes its git with it
    const child = fork(childPath, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'], detached: true })
    const kill = (): void => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
      try { process.kill(-child.pid, 'SIGKILL') } catch { child.kill('SIGKILL') }
    }
    if (child.pid !== undefined) opts.onSpawn?.(child.pid)
    const abort = (): void => { settle(new Error('the sync was stopped (monkd is stopping)')) }
    let settled = false
    let timer: NodeJS.Timeout | undefined
    let stderr = ''
    let fetched = false
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 64 << 10) stderr += d })
    const settle = (err: Error | null, result?: SyncResult): void => {
      if (settled) return
      settled = true
      if (timer) clearTimeout(timer)
      opts.signal?.removeEventListener('abort', abort)
      kill()
      if (err) reject(err)
      else resolve(result!)
    }
    // the fetch has its own time limit (git is killed); the compile gets compileMs once it starts
    child.on('message', (m: JobMessage) => {
      if (m.stage === 'fetched') {
        fetched = true
        opts.onFetched?.()
        timer = setTimeout(() => { settle(new Error(`compiling the kits took longer than the hub's limit of ${duration(job.limits.compileMs)}`)) }, job.limits.compileMs)
      } else if (m.stage === 'done') settle(null, m.result)
      else settle(new Error(m.error))
    })
    child.once('error', e => { settle(new Error(`cannot start the hub's fetch process: ${e.message}`)) })
    // 'close', not 'exit': by then every message the child sent was read
    child.once('close', (code, signal) => {
      const oom = /heap out of memory|Allocation failed/i.test(stderr)
      const last = stderr.trim().split('\n').filter(Boolean).pop()
      settle(new Error(oom
        ? `${fetched ? 'compiling the kits' : 'fetching the repository'} needed more than the hub's limit of ${job.limits.memoryMb} MiB of memory`
        : `the hub's fetch process stopped (${signal ?? `exit code ${code}`}) before it answered${last !== undefined ? `: ${last}` : ''}`))
    })
    if (opts.signal?.aborted === true) abort()
    else opts.signal?.addEventListener('abort', abort)
    child.send(job)
  })
}
