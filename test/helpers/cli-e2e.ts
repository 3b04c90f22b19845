// End-to-end CLI tests: the built `monk` binary (dist/cli/monk.js, rebuilt when a source is newer)
// driving real monkd processes that `monk daemon start` launches, each in its own temp home, on
// 127.0.0.1 with the process runtime. Cleanup purges workloads (their processes outlive monkd) and
// stops every daemon; anything left is killed by the pid monk recorded.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { root } from './cli.js'

export const monkJs = join(root, 'dist/cli/monk.js')

function newest (dir: string): number {
  let t = 0
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    const st = statSync(p)
    if (st.isDirectory()) t = Math.max(t, newest(p))
    else if (/\.(ts|js)$/.test(name) && !name.endsWith('.d.ts')) t = Math.max(t, st.mtimeMs)
  }
  return t
}

/** Runs `npm run build` when dist/cli/monk.js is missing or older than a source file. Returns whether it built. */
export function ensureBuilt (): boolean {
  const built = existsSync(monkJs) ? statSync(monkJs).mtimeMs : 0
  const src = Math.max(...['cli', 'actors', 'mesh', 'grammar'].map(d => newest(join(root, d))), statSync(join(root, 'polyfill.ts')).mtimeMs)
  if (built >= src) return false
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'pipe' })
  return true
}

export interface Ran { code: number, out: string, err: string }

/** Runs the built monk with `args` (no --home added), optional stdin. */
export function monkBin (args: string[], opts: { input?: string, env?: Record<string, string> } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [monkJs, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out, err }))
    child.stdin.end(opts.input ?? '')
  })
}

/** A peer: a temp home whose monkd `monk daemon start` launched. */
export interface E2ePeer {
  name: string
  home: string
  /** monk --home HOME ARGS... */
  monk: (...args: string[]) => Promise<Ran>
  /** monk --home HOME --output json ARGS..., parsed (throws with the output when not JSON). */
  json: <T = unknown>(...args: string[]) => Promise<T>
  /** The monkd pid `daemon start` recorded. */
  pid: () => number | undefined
}

export function peerIn (name: string, base: string): E2ePeer {
  const home = mkdtempSync(join(base, `${name}-`))
  const monk = (...args: string[]): Promise<Ran> => monkBin(['--home', home, ...args])
  return {
    name, home, monk,
    json: async <T>(...args: string[]): Promise<T> => {
      const r = await monk('--output', 'json', ...args)
      try { return JSON.parse(r.out) as T } catch { throw new Error(`monk ${args.join(' ')} (exit ${r.code}) did not print JSON: ${r.out}${r.err}`) }
    },
    pid: () => {
      try { return (JSON.parse(readFileSync(join(home, 'monkd-args.json'), 'utf8')) as { pid?: number }).pid } catch { return undefined }
    },
  }
}

/** A temp base directory for the homes of one test file. */
export function e2eBase (tag: string): string {
  return mkdtempSync(join(tmpdir(), `monk-e2e-${tag}-`))
}

/** Starts monkd for a peer with the process runtime on a loopback port; extra monkd flags after. */
export async function startPeer (p: E2ePeer, extra: string[] = []): Promise<void> {
  const r = await p.monk('daemon', 'start', '--runtime', 'process', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', p.name, ...extra)
  if (r.code !== 0) throw new Error(`monk daemon start for ${p.name} failed (exit ${r.code}): ${r.err}${r.out}`)
}

/** Pids of workload processes the process runtime recorded in a home. */
function workloadPids (home: string): number[] {
  const dir = join(home, 'runtime', 'process')
  if (!existsSync(dir)) return []
  const pids: number[] = []
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n)
      if (statSync(p).isDirectory()) walk(p)
      else if (n.endsWith('.json')) {
        try { const pid = (JSON.parse(readFileSync(p, 'utf8')) as { pid?: unknown }).pid; if (typeof pid === 'number') pids.push(pid) } catch { /* not a record */ }
      }
    }
  }
  walk(dir)
  return pids
}

/** Stops each peer's daemon, kills what is left of them (daemon and recorded workload process groups), then removes `base`. */
export async function cleanup (peers: readonly E2ePeer[], base?: string): Promise<void> {
  await Promise.all(peers.map(p => p.monk('daemon', 'stop').catch(() => undefined)))
  for (const p of peers) {
    const pid = p.pid()
    if (pid !== undefined) try { process.kill(pid, 'SIGKILL') } catch { /* gone */ }
    for (const w of workloadPids(p.home)) {
      try { process.kill(-w, 'SIGKILL') } catch { try { process.kill(w, 'SIGKILL') } catch { /* gone */ } }
    }
  }
  if (base !== undefined) rmSync(base, { recursive: true, force: true })
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function until<T> (what: string, fn: () => T | Promise<T>, timeoutMs = 30_000, everyMs = 200): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v as NonNullable<T>
    } catch (e) { last = e }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last: ${(last as Error).message})` : ''}`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}
