// `monk stop`, `monk restart`, `monk purge`: one request each; with waiting (the default) the
// daemon streams its progress on that request until the change took effect.
import type { Command } from 'commander'
import type { WorkRequest } from '../api/messages.js'
import { CliError, exitCodes, printJson } from '../output.js'
import { requirePath, session, type Session } from './session.js'
import { followWork } from './wait.js'

interface Flags { wait: boolean, timeout: string, excise?: boolean, all?: boolean, tag?: string }

function seconds (v: string): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new CliError('bad-flag', `--timeout wants a number of seconds, got "${v}"`, exitCodes.usage)
  return n
}

async function apply (s: Session, paths: readonly string[], message: (path: string) => WorkRequest, flags: Flags, done: string): Promise<void> {
  await send(s, paths.map(p => message(requirePath(p))), flags, done)
}

async function send (s: Session, messages: readonly WorkRequest[], flags: Flags, done: string): Promise<void> {
  const timeoutS = seconds(flags.timeout)
  const instances: string[] = []
  for (const msg of messages) {
    // `purge -x GROUP MEMBER`: the group's purge already took the member (and excised its
    // template), so asking again would fail after the work succeeded
    if (msg.type === 'workload.purge' && instances.includes(msg.path)) continue
    instances.push(...(flags.wait ? (await followWork(s, msg, timeoutS)).instances : (await s.request('peer', msg)).instances))
  }
  if (s.json) { printJson({ instances }); return }
  s.print(instances.join('\n'))
  s.note(`${done} ${instances.length} instance${instances.length === 1 ? '' : 's'}`)
}

/** The action of `monk stop` (its flags are in registry.ts). */
export async function stop (paths: string[], flags: Flags, cmd: Command): Promise<void> {
  const s = session(cmd)
  const tag = flags.tag !== undefined ? { tag: flags.tag } : {}
  if (flags.all === true && paths.length) throw new CliError('bad-args', 'stop takes paths or --all, not both', exitCodes.usage)
  if (flags.all === true || (paths.length === 0 && flags.tag !== undefined)) {
    await send(s, [{ type: 'workload.stop', ...(flags.all === true ? { all: true } : {}), ...tag }], flags, 'Stopped')
    return
  }
  if (paths.length === 0) throw new CliError('bad-args', 'stop needs a path, --all or --tag', exitCodes.usage)
  await apply(s, paths, path => ({ type: 'workload.stop', path, ...tag }), flags, 'Stopped')
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
