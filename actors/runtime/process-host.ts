// How a process-runtime workload becomes a host process: its argv (with ulimits through prlimit),
// environment, user, what of its spec a host process cannot honour, and running one command.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { constants as osConstants } from 'node:os'
import type { Writable } from 'node:stream'
import { EXEC_CAPTURE_BYTES, PASS_ENV } from './defaults.js'
import type { ContainerSpec, ExecResult, FieldNote } from './runtime.js'
import { hostNetworkPortNotes } from './spec.js'

export interface Ids { uid: number, gid: number }

function parseIdFile (path: string): string[][] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(l => l && !l.startsWith('#')).map(l => l.split(':'))
  } catch {
    return []
  }
}

/** `uid`, `uid:gid`, `name`, `name:group` against the host's /etc/passwd and /etc/group (Docker's rules: an unknown numeric uid gets gid 0). */
export function resolveUser (user: string): Ids | undefined {
  const [u, g] = user.split(':') as [string, string | undefined]
  const passwd = parseIdFile('/etc/passwd')
  const entry = /^\d+$/.test(u) ? passwd.find(p => p[2] === u) : passwd.find(p => p[0] === u)
  if (!entry && !/^\d+$/.test(u)) return undefined
  const uid = Number(entry?.[2] ?? u)
  let gid = Number(entry?.[3] ?? 0)
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g)
    else {
      const grp = parseIdFile('/etc/group').find(x => x[0] === g)
      if (!grp) return undefined
      gid = Number(grp[2])
    }
  }
  return { uid, gid }
}

/** The ids to switch to for `user`, when this daemon can (it is root); undefined = run as the daemon. */
export function switchableIds (user: string | undefined): Ids | undefined {
  if (user === undefined || process.getuid?.() !== 0) return undefined
  return resolveUser(user)
}

export function signalNumber (signal: NodeJS.Signals | null): number {
  return signal ? (osConstants.signals[signal] ?? 9) : 0
}

/** Signal a whole process group (a workload leads its own); a group already gone is fine. */
export function killGroup (pgid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pgid, signal) } catch { /* already gone */ }
}

let prlimitPath: string | null | undefined
function prlimit (): string | null {
  if (prlimitPath === undefined) prlimitPath = ['/usr/bin/prlimit', '/bin/prlimit', '/usr/local/bin/prlimit'].find(p => existsSync(p)) ?? null
  return prlimitPath
}

/** entrypoint + cmd, behind `prlimit --name=soft:hard --` when there are ulimits (prlimit execs, so the pid stays the workload's). */
export function workloadArgv (spec: ContainerSpec): string[] {
  const argv = [...(spec.entrypoint ?? []), ...(spec.cmd ?? [])]
  const pl = prlimit()
  if (spec.ulimits.length === 0 || !pl) return argv
  const limits = spec.ulimits.map(u => `--${u.name}=${u.soft === -1 ? 'unlimited' : u.soft}:${u.hard === -1 ? 'unlimited' : u.hard}`)
  return [pl, ...limits, '--', ...argv]
}

/** A few of the daemon's variables (not its tokens), then the spec's, then `extra`. */
export function workloadEnv (spec: ContainerSpec, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const k of PASS_ENV) { const v = process.env[k]; if (v !== undefined) env[k] = v }
  return { ...env, ...spec.env, ...extra }
}

/** Fields of `spec` a host process cannot honour, with why. */
export function hostNotes (spec: ContainerSpec): FieldNote[] {
  const notes: FieldNote[] = hostNetworkPortNotes(spec, 'processes share the host network')
  spec.mounts.forEach((m, i) => {
    if (m.hostPath !== m.containerPath) notes.push({ field: `paths[${i}]`, reason: `${m.hostPath}:${m.containerPath} cannot be remapped: a process sees the host filesystem (use the same path on both sides)` })
    else if (m.readOnly) notes.push({ field: `paths[${i}]`, reason: `${m.hostPath} is not made read-only for a process` })
  })
  if (spec.capAdd.length > 0) notes.push({ field: 'cap-add', reason: `${spec.capAdd.join(', ')} not added: processes run with the daemon's own capabilities` })
  if (spec.ulimits.length > 0 && !prlimit()) notes.push({ field: 'ulimits', reason: 'not applied: prlimit (util-linux) is not installed' })
  if (spec.user !== undefined) {
    const ids = resolveUser(spec.user)
    const uid = process.getuid?.()
    if (ids && uid !== 0 && (ids.uid !== uid || ids.gid !== process.getgid?.())) notes.push({ field: 'user', reason: `not applied: the daemon runs as uid ${uid ?? '?'} and cannot switch to ${spec.user}` })
  }
  return notes
}

export interface CommandOptions {
  env: Record<string, string>
  cwd: string
  ids: Ids | undefined
  stdin?: string | Buffer
  stdout?: Writable
  stderr?: Writable
  signal?: AbortSignal
}

/** Run `cmd` in its own process group and wait: exit code (127/126 when it cannot be executed), captured output; abort kills the group. */
export async function runCommand (cmd: string[], opts: CommandOptions): Promise<ExecResult> {
  const child = spawn(cmd[0] as string, cmd.slice(1), {
    detached: true,
    stdio: [opts.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: opts.env,
    cwd: opts.cwd,
    ...(opts.ids ? { uid: opts.ids.uid, gid: opts.ids.gid } : {})
  })
  // a command that exits without reading all its input must not fail the exec (EPIPE)
  child.stdin?.on('error', () => {})
  child.stdin?.end(opts.stdin)
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] }
  const size = { stdout: 0, stderr: 0 }
  for (const s of ['stdout', 'stderr'] as const) {
    child[s]?.on('data', (chunk: Buffer) => {
      opts[s]?.write(chunk)
      if (size[s] < EXEC_CAPTURE_BYTES) { out[s].push(chunk); size[s] += chunk.length }
    })
  }
  const exitCode = await new Promise<number>((resolve, reject) => {
    const onAbort = (): void => { if (child.pid) killGroup(child.pid, 'SIGKILL'); reject(opts.signal?.reason) }
    if (opts.signal?.aborted) { onAbort(); return }
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    child.once('error', (err: NodeJS.ErrnoException) => {
      opts.signal?.removeEventListener('abort', onAbort)
      // What a shell answers: 127 command not found, 126 found but not runnable.
      out.stderr.push(Buffer.from(`exec: ${cmd[0] ?? ''}: ${err.code === 'ENOENT' ? 'executable file not found' : err.message}\n`))
      resolve(err.code === 'ENOENT' ? 127 : 126)
    })
    child.once('close', (code, signal) => {
      opts.signal?.removeEventListener('abort', onAbort)
      resolve(code ?? 128 + signalNumber(signal))
    })
  })
  return { exitCode, stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8') }
}
