// `monk stop`, `monk restart`, `monk purge`: one request each; with waiting (the default) the
// daemon streams its progress on that request until the change took effect.
import type { Command } from 'commander'
import type { WorkRequest } from '../api/messages.js'
import { CliError, exitCodes, printJson } from '../output.js'
import { requirePath, session, type Session } from './session.js'
import { followWork } from './wait.js'

interface Flags { wait: boolean, timeout: string, excise?: boolean }

function seconds (v: string): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new CliError('bad-flag', `--timeout wants a number of seconds, got "${v}"`, exitCodes.usage)
  return n
}

async function apply (s: Session, paths: readonly string[], message: (path: string) => WorkRequest, flags: Flags, done: string): Promise<void> {
  const timeoutS = seconds(flags.timeout)
  const instances: string[] = []
  for (const p of paths) {
    const msg = message(requirePath(p))
    instances.push(...(flags.wait ? (await followWork(s, msg, timeoutS)).instances : (await s.request('peer', msg)).instances))
  }
  if (s.json) { printJson({ instances }); return }
  s.print(instances.join('\n'))
  s.note(`${done} ${instances.length} instance${instances.length === 1 ? '' : 's'}`)
}

/** The action of `monk stop` (its flags are in registry.ts). */
export async function stop (paths: string[], flags: Flags, cmd: Command): Promise<void> {
  await apply(session(cmd), paths, path => ({ type: 'workload.stop', path }), flags, 'Stopped')
}

/** The action of `monk restart` (its flags are in registry.ts). */
export async function restart (paths: string[], flags: Flags, cmd: Command): Promise<void> {
  await apply(session(cmd), paths, path => ({ type: 'workload.restart', path }), flags, 'Restarted')
}

/** The action of `monk scale PATH N` (its flags are in registry.ts). */
export async function scale (path: string, replicas: string, flags: Flags, cmd: Command): Promise<void> {
  const n = Number(replicas)
  if (!/^\d+$/.test(replicas.trim()) || n > 1000) throw new CliError('bad-argument', `replicas must be a whole number from 0 to 1000, got "${replicas}"`, exitCodes.usage)
  await apply(session(cmd), [path], p => ({ type: 'workload.scale', path: p, replicas: n }), flags, 'Scaled to')
}

/** The action of `monk purge` (its flags are in registry.ts). */
export async function purge (paths: string[], flags: Flags, cmd: Command): Promise<void> {
  await apply(session(cmd), paths, path => ({ type: 'workload.purge', path, ...(flags.excise === true ? { excise: true } : {}) }), flags, 'Purged')
}
