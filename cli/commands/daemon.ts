// `monk daemon start|stop|status`: monkd in the background for the user. `start` launches the monkd
// that sits next to this monk (cli/monkd.ts under tsx, or dist/cli/monkd.js), detached, logging to
// <home>/logs/monkd.log, and waits until its socket answers; the flags it was started with are kept
// in <home>/monkd-args.json so `cluster join`/`exit` can restart it the same way.
import type { Command } from 'commander'
import { printJson } from '../output.js'
import { DAEMON_START_TIMEOUT_MS, DAEMON_STOP_TIMEOUT_MS, POLL_MS } from './defaults.js'
import { cliErrorOf, session, type Session } from './session.js'

export interface DaemonFlags {
  name?: string
  tag?: string[]
  p2pPort?: string
  listen?: string
  join?: string
  runtime?: string
  logLevel?: string
  cpu?: string
  memory?: string
  templateAutoupdate?: string
  /** false: --no-hub-defaults */
  hubDefaults?: boolean
  apiPort?: string
  apiHost?: string
  networkName?: string
}

/**
 * monkd arguments for the flags given (without --home, which start adds). Never the join token:
 * it carries the cluster key, and argv is in the process list; startDaemon passes it in
 * MONK_JOIN_TOKEN, which monkd reads once and removes.
 */
export function daemonArgs (f: DaemonFlags): string[] {
  return [
    ...(f.name !== undefined ? ['--name', f.name] : []),
    ...(f.tag ?? []).flatMap(t => ['--tag', t]),
    ...(f.p2pPort !== undefined ? ['--p2p-port', f.p2pPort] : []),
    ...(f.listen !== undefined ? ['--listen', f.listen] : []),
    ...(f.runtime !== undefined ? ['--runtime', f.runtime] : []),
    ...(f.networkName !== undefined ? ['--network-name', f.networkName] : []),
    ...(f.logLevel !== undefined ? ['--log-level', f.logLevel] : []),
    ...(f.cpu !== undefined ? ['--cpu', f.cpu] : []),
    ...(f.memory !== undefined ? ['--memory', f.memory] : []),
    ...(f.templateAutoupdate !== undefined ? ['--template-autoupdate', f.templateAutoupdate] : []),
    ...(f.hubDefaults === false ? ['--no-hub-defaults'] : []),
    ...(f.apiPort !== undefined ? ['--api-port', f.apiPort] : []),
    ...(f.apiHost !== undefined ? ['--api-host', f.apiHost] : []),
  ]
}

/** Drops `--join TOKEN` from recorded arguments (cluster exit, or before a new join). */
export function withoutJoin (args: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--join') { i++; continue }
    if (args[i]!.startsWith('--join=')) continue
    out.push(args[i]!)
  }
  return out
}

interface Recorded { args: string[], pid?: number }

async function recordFile (s: Session): Promise<string> {
  return (await import('node:path')).join(s.home, 'monkd-args.json')
}

export async function readRecorded (s: Session): Promise<Recorded | undefined> {
  const { readFile } = await import('node:fs/promises')
  try {
    const r = JSON.parse(await readFile(await recordFile(s), 'utf8')) as Partial<Recorded>
    return Array.isArray(r.args) && r.args.every(a => typeof a === 'string') ? { args: r.args, ...(typeof r.pid === 'number' ? { pid: r.pid } : {}) } : undefined
  } catch {
    return undefined
  }
}

/** Node arguments and script of the monkd next to this module. */
async function monkdCommand (): Promise<{ node: string[], script: string }> {
  const { fileURLToPath, pathToFileURL } = await import('node:url')
  const here = import.meta.url
  const ts = here.endsWith('.ts')
  const script = fileURLToPath(new URL(`../monkd.${ts ? 'ts' : 'js'}`, here))
  const polyfill = pathToFileURL(fileURLToPath(new URL(`../../polyfill.${ts ? 'ts' : 'js'}`, here))).href
  const { MONKD_NODE_FLAGS } = await import('../node-flags.js')
  if (!ts) return { node: [...MONKD_NODE_FLAGS, '--import', polyfill], script }
  let tsx: string
  try { tsx = import.meta.resolve('tsx') } catch { tsx = new URL('../../node_modules/tsx/dist/loader.mjs', here).href }
  return { node: [...MONKD_NODE_FLAGS, '--import', tsx, '--import', polyfill], script }
}

async function answers (s: Session, timeoutMs = 2_000): Promise<Record<string, unknown> | undefined> {
  try {
    return await s.ping({ timeoutMs })
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === 'daemon-down' || code === 'timeout' || code === 'connection-failed') return undefined
    throw e
  }
}

/**
 * Starts monkd detached with `args` (recorded for later restarts) and waits for the line it writes
 * on a pipe when it is ready (MONK_READY_FD), then asks it once for its ping info. Returns its pid
 * and that info. Fails with `daemon-start-failed` (and the log's tail) if it exits first.
 */
export async function startDaemon (s: Session, args: readonly string[], opts: { joinToken?: string | undefined } = {}): Promise<{ pid: number, log: string, info: Record<string, unknown> }> {
  const [{ spawn }, fs, { join }, { progress }] = await Promise.all([import('node:child_process'), import('node:fs'), import('node:path'), import('../format/spinner.js')])
  const logs = join(s.home, 'logs')
  fs.mkdirSync(logs, { recursive: true, mode: 0o700 })
  const log = join(logs, 'monkd.log')
  const fd = fs.openSync(log, 'a')
  // where this start's lines begin: a failure shows only them, never an earlier run's
  const from = fs.fstatSync(fd).size
  const { node, script } = await monkdCommand()
  const child = spawn(process.execPath, [...node, script, '--home', s.home, ...args], { detached: true, stdio: ['ignore', fd, fd, 'pipe'], env: { ...process.env, MONK_READY_FD: '3', ...(opts.joinToken !== undefined ? { MONK_JOIN_TOKEN: opts.joinToken } : {}) } })
  fs.closeSync(fd)
  const pid = child.pid ?? 0
  fs.writeFileSync(await recordFile(s), JSON.stringify({ args, pid }) + '\n', { mode: 0o600 })
  const p = progress({ enabled: !s.json && !s.g.quiet })
  p.update(`waiting for monkd (pid ${pid}) to be ready on ${s.socket}`)
  const ready = child.stdio[3]
  let timer: NodeJS.Timeout | undefined
  const outcome = await new Promise<{ ready: true } | { ready: false, why: string }>(resolve => {
    let said = ''
    ready?.on('data', (b: Buffer) => { said += b.toString('utf8'); if (said.includes('\n')) resolve({ ready: true }) })
    ready?.once('error', () => {})
    child.once('exit', (code, signal) => resolve({ ready: false, why: `monkd exited (${signal ?? String(code)}) before it was ready` }))
    child.once('error', e => resolve({ ready: false, why: `monkd could not start: ${e.message}` }))
    timer = setTimeout(() => resolve({ ready: false, why: `monkd was not ready within ${DAEMON_START_TIMEOUT_MS / 1000} s` }), DAEMON_START_TIMEOUT_MS)
  })
  clearTimeout(timer)
  ready?.destroy()
  child.unref()
  try {
    const info = outcome.ready ? await answers(s, 5_000) : undefined
    if (info) return { pid, log, info }
    const { CliError } = await import('../output.js')
    const tail = fs.readFileSync(log).subarray(from).toString('utf8').trimEnd().split('\n').filter(l => l !== '').slice(-8).map(l => `  ${l}`).join('\n')
    if (child.exitCode === null) try { process.kill(pid, 'SIGTERM') } catch {}
    const why = outcome.ready ? 'monkd said it was ready but does not answer' : outcome.why
    throw new CliError('daemon-start-failed', `${why} on ${s.socket}; see ${log}${tail ? `:\n${tail}` : ''}`)
  } finally {
    p.done()
  }
}

/** Asks monkd to stop and waits until its socket no longer answers. Returns false if it was not running. */
export async function stopDaemon (s: Session): Promise<boolean> {
  if (await answers(s) === undefined) return false
  const { progress } = await import('../format/spinner.js')
  const p = progress({ enabled: !s.json && !s.g.quiet })
  p.update(`waiting for monkd to leave its cluster and stop (${s.socket})`)
  try {
    try {
      await s.request('peer', { type: 'daemon.stop' }, { timeoutMs: DAEMON_STOP_TIMEOUT_MS })
    } catch (e) {
      // The daemon may close the connection as it goes; only a refusal it sent counts.
      const code = (e as { code?: string }).code
      if (code !== 'daemon-down' && code !== 'stream-interrupted' && code !== 'bad-response' && code !== 'connection-failed' && code !== 'timeout') throw e
    }
    const deadline = Date.now() + DAEMON_STOP_TIMEOUT_MS
    while (await answers(s, 1_000) !== undefined) {
      if (Date.now() > deadline) throw cliErrorOf(Object.assign(new Error(`monkd still answers on ${s.socket} ${DAEMON_STOP_TIMEOUT_MS / 1000} s after daemon.stop`), { code: 'timeout' }))
      await new Promise(resolve => setTimeout(resolve, POLL_MS / 2))
    }
    return true
  } finally {
    p.done()
  }
}

/** The action of `monk daemon start` (its flags are in registry.ts). */
export async function start (flags: DaemonFlags, cmd: Command): Promise<void> {
  const s = session(cmd)
  const running = await answers(s)
  if (running) {
    if (s.json) printJson({ running: true, started: false, socket: s.socket, home: s.home, ...running })
    else s.note(`monkd is already running on ${s.socket}`)
    return
  }
  if (flags.join !== undefined) process.stderr.write('monk: warning: daemon start --join TOKEN puts the cluster key in the process list, where every local user can read it; join with monk cluster join --join-file FILE (or --join-file -, or MONK_JOIN_TOKEN)\n')
  const given = daemonArgs(flags)
  // a file recorded by an older monk may hold --join TOKEN: the home remembers its cluster anyway
  const args = given.length ? given : withoutJoin((await readRecorded(s))?.args ?? [])
  const { pid, log, info } = await startDaemon(s, args, { joinToken: flags.join })
  if (s.json) { printJson({ running: true, started: true, pid, socket: s.socket, log, home: s.home, ...info }); return }
  s.print(`monkd started (pid ${pid})\n  socket: ${s.socket}\n  logs:   ${log}`)
}

/** The action of `monk daemon stop` (its flags are in registry.ts). */
export async function stop (_opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const stopped = await stopDaemon(s)
  if (s.json) { printJson({ running: false, stopped }); return }
  s.note(stopped ? 'monkd stopped' : `monkd was not running (${s.socket})`)
}

/** The action of `monk daemon status` (its flags are in registry.ts). */
export async function status (_opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const info = await answers(s)
  const recorded = await readRecorded(s)
  if (s.json) printJson({ running: info !== undefined, socket: s.socket, home: s.home, ...(recorded?.pid !== undefined && info ? { pid: recorded.pid } : {}), ...info })
  else if (info) s.print(`monkd: running\n  socket: ${s.socket}${recorded?.pid !== undefined ? `\n  pid:    ${recorded.pid}` : ''}${Object.entries(info).filter(([k]) => k !== 'ok' && k !== 'api').map(([k, v]) => `\n  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('')}`)
  else s.print(`monkd: not running (${s.socket}); start it with: monk daemon start`)
  if (!info) process.exitCode = 1
}
