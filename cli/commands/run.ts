// `monk run`, `monk update` and `monk up`: one request per path; the daemon streams its progress
// until the instances run or one fails, and the CLI prints the run summary tree of spec §4.1.
import type { Command } from 'commander'
import type { Describe, RequestOf, UpdatePlan } from '../api/messages.js'
import { CliError, exitCodes, printJson } from '../output.js'
import { requirePath, session, type Session } from './session.js'
import { runVariables } from './vars.js'
import { followWork } from './wait.js'

interface RunFlags {
  tag?: string[]
  peer?: string
  set?: string[]
  variablesFile?: string
  forceMove?: boolean
  dryRun?: boolean
  wait: boolean
  timeout: string
}

function timeoutOf (flags: RunFlags): number {
  const n = Number(flags.timeout)
  if (!Number.isFinite(n) || n <= 0) throw new CliError('bad-flag', `--timeout wants a number of seconds, got "${flags.timeout}"`, exitCodes.usage)
  return n
}

/** The workload.run / workload.update message for one path. */
async function workloadMessage (type: 'workload.run' | 'workload.update', path: string, flags: RunFlags): Promise<RequestOf<'workload.run'> | RequestOf<'workload.update'>> {
  const tags = (flags.tag ?? []).flatMap(t => t.split(',')).map(t => t.trim()).filter(t => t !== '')
  const set = await runVariables(flags)
  return {
    type,
    path,
    ...(tags.length ? { tags } : {}),
    ...(flags.peer !== undefined ? { peer: flags.peer } : {}),
    ...(set ? { set } : {}),
    ...(flags.forceMove === true ? { forceMove: true } : {}),
  }
}

/** Prints the run summary tree (text) and the hint lines (stderr). */
export async function printSummary (s: Session, replies: readonly Describe[]): Promise<void> {
  const { renderSummary } = await import('../format/summary.js')
  s.print(renderSummary(replies, { fancy: s.g.color, status: s.status }))
  const first = replies[0]?.instance
  if (first !== undefined) s.note(`\nLogs: monk logs ${first}   Shell: monk shell ${first}   Actions: monk actions ${first}`)
}

/**
 * Sends run/update for each path — one request per path; with waiting (the default) the daemon
 * streams its progress on that same request until the instances run or one fails — then prints
 * the summary from the daemon's last event.
 */
export async function runPaths (s: Session, type: 'workload.run' | 'workload.update', paths: readonly string[], flags: RunFlags, extra: Record<string, unknown> = {}): Promise<void> {
  const timeoutS = timeoutOf(flags)
  const instances: string[] = []
  const described: Describe[] = []
  for (const p of paths) {
    const message = await workloadMessage(type, requirePath(p), flags)
    if (!flags.wait) {
      const reply = await s.request('peer', message)
      for (const x of reply.skipped ?? []) s.note(`not started: ${x.path} (${x.kind}): ${x.why}`)
      instances.push(...reply.instances)
      continue
    }
    const done = await followWork(s, message, timeoutS)
    instances.push(...done.instances)
    described.push(...done.describe)
  }
  if (!flags.wait) {
    if (s.json) printJson({ ...extra, instances })
    else {
      s.print(instances.join('\n'))
      s.note(`${type === 'workload.run' ? 'Started' : 'Updating'} ${instances.length} instance(s); follow with monk ps`)
    }
    return
  }
  if (s.json) { printJson({ ...extra, instances, describe: described }); return }
  await printSummary(s, described)
}

/** The action of `monk run` (its flags are in registry.ts). */
export async function run (paths: string[], flags: RunFlags, cmd: Command): Promise<void> {
  await runPaths(session(cmd), 'workload.run', paths, flags)
}

/** The action of `monk update` (its flags are in registry.ts). */
export async function update (paths: string[], flags: RunFlags, cmd: Command): Promise<void> {
  const s = session(cmd)
  if (flags.dryRun !== true) { await runPaths(s, 'workload.update', paths, flags); return }
  const plan: UpdatePlan[] = []
  for (const p of paths) plan.push(...(await s.request('peer', { ...await workloadMessage('workload.update', requirePath(p), flags), type: 'workload.update', dryRun: true })).plan ?? [])
  if (s.json) { printJson({ plan }); return }
  for (const x of plan) {
    if (x.action === 'unchanged') s.print(`${x.instance}: unchanged`)
    else if (x.action === 'start') s.print(`${x.instance}: not running; update starts it${x.replace.length ? ` (${x.replace.join(', ')})` : ''}`)
    else s.print(`${x.instance}: update replaces ${x.replace.length ? x.replace.join(', ') : 'no container'}${x.keep.length ? `, keeps ${x.keep.join(', ')}` : ''}`)
    for (const c of x.changes) s.print(`  ${c}`)
  }
}

/** The action of `monk up` (its flags are in registry.ts). */
export async function up (source: string, path: string | undefined, flags: RunFlags, cmd: Command): Promise<void> {
  const s = session(cmd)
  const { loadKit, printLoadReply } = await import('./load.js')
  const { reply, kit } = await loadKit(s, [source])
  if (!s.json) await printLoadReply(s, reply)
  if (reply.errors.length) {
    if (s.json) printJson({ load: reply })
    process.exitCode = exitCodes.failure
    return
  }
  const target = path ?? defaultTarget(kit.entries, kit.nodes, source)
  s.note(`Running ${target}`)
  await runPaths(s, 'workload.run', [target], flags, { load: reply })
}

/** `up`'s default: the first MANIFEST ENTRY (without `env:`), else the only group, else the only runnable. */
export function defaultTarget (entries: readonly string[], nodes: ReadonlyArray<{ path: string, kind: string }>, source: string): string {
  const entry = entries[0]
  if (entry !== undefined) return entry.includes(':') ? entry.slice(entry.indexOf(':') + 1) : entry
  const groups = nodes.filter(n => n.kind === 'group' || n.kind === 'process-group')
  if (groups.length === 1) return groups[0]!.path
  const runnables = nodes.filter(n => n.kind === 'runnable')
  if (groups.length === 0 && runnables.length === 1) return runnables[0]!.path
  const choices = (groups.length ? groups : runnables).map(n => n.path)
  throw new CliError('ambiguous-target', choices.length
    ? `${source} defines ${choices.length} ${groups.length ? 'groups' : 'runnables'} (${choices.join(', ')}); say which to run: monk up ${source} PATH`
    : `${source} defines nothing to run (no group or runnable)`, exitCodes.usage)
}
