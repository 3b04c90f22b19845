// `monk stop`, `monk restart`, `monk purge`: one message each, then wait until it took effect.
import type { Command } from 'commander'
import { CliError, exitCodes, printJson } from '../output.js'
import { instancesOf, requirePath, session, type PeerMessage, type Session } from './session.js'
import { generationsBefore, waitForInstances, type Goal } from './wait.js'

interface Flags { wait: boolean, timeout: string, excise?: boolean }

function seconds (v: string): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new CliError('bad-flag', `--timeout wants a number of seconds, got "${v}"`, exitCodes.usage)
  return n
}

async function apply (s: Session, paths: readonly string[], message: (path: string) => PeerMessage, goal: Goal, flags: Flags, done: string): Promise<void> {
  const timeoutS = seconds(flags.timeout)
  const instances: string[] = []
  const before = new Map<string, number>()
  for (const p of paths) {
    const path = requirePath(p)
    const msg = message(path)
    if (msg.type === 'workload.restart' && flags.wait) for (const [i, g] of await generationsBefore(s, path)) before.set(i, g)
    const got = instancesOf(await s.request('peer', msg))
    instances.push(...(got.length ? got : [path]))
  }
  if (flags.wait && instances.length) await waitForInstances(s, instances, { goal, timeoutS, newerThan: before })
  if (s.json) { printJson({ instances }); return }
  s.print(instances.join('\n'))
  s.note(`${done} ${instances.length} instance${instances.length === 1 ? '' : 's'}`)
}

/** The action of `monk stop` (its flags are in registry.ts). */
export async function stop (paths: string[], flags: Flags, cmd: Command): Promise<void> {
  await apply(session(cmd), paths, path => ({ type: 'workload.stop', path }), 'stopped', flags, 'Stopped')
}

/** The action of `monk restart` (its flags are in registry.ts). */
export async function restart (paths: string[], flags: Flags, cmd: Command): Promise<void> {
  await apply(session(cmd), paths, path => ({ type: 'workload.restart', path }), 'running', flags, 'Restarted')
}

/** The action of `monk purge` (its flags are in registry.ts). */
export async function purge (paths: string[], flags: Flags, cmd: Command): Promise<void> {
  await apply(session(cmd), paths, path => ({ type: 'workload.purge', path, ...(flags.excise === true ? { excise: true } : {}) }), 'gone', flags, 'Purged')
}
