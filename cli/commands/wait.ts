// Following work the daemon does for a waited `run/update/restart/stop/purge`: one request with
// `wait: true`, whose reply streams the daemon's progress (actors/handlers/progress.ts). Whether an
// instance runs is the daemon's call; this file only renders its events.
import type { Describe, WorkEvent, WorkRequest } from '../api/messages.js'
import { renderEvents, type Step } from '../format/events.js'
import { CliError, exitCodes } from '../output.js'
import type { Session } from './session.js'

/** What the last event carried: the instances and their state when the daemon said done. */
export interface WorkDone { instances: string[], describe: Describe[] }

/** How many instances the progress line names before "+N more". */
const SHOWN = 3

/** The progress line: where each instance not yet there is, as the daemon said. */
function line (where: ReadonlyMap<string, string>): string {
  const all = [...where].map(([i, d]) => `${i}: ${d}`)
  return all.slice(0, SHOWN).join('; ') + (all.length > SHOWN ? ` (+${all.length - SHOWN} more)` : '')
}

/** What Ctrl-C leaves running: monkd carries on with the request; how to watch it and undo it. */
export function interruptedLine (msg: WorkRequest, pending: readonly string[]): string {
  const what = pending.length ? pending.join(', ') : msg.path ?? 'the workloads'
  const first = pending[0] ?? msg.path ?? ''
  switch (msg.type) {
    case 'workload.stop': return `monk: interrupted; monkd goes on stopping ${what} (monk ps shows it; monk run ${first} starts it again)`
    case 'workload.purge': return `monk: interrupted; monkd goes on removing ${what} (monk ps -a shows it)`
    default: return `monk: interrupted; monkd goes on starting ${what} (monk ps and monk describe ${first} show where it is; monk stop ${first} cancels it)`
  }
}

/** Sends `msg` with `wait: true` and renders the daemon's progress until it says done or failed. */
export async function followWork (s: Session, msg: WorkRequest, timeoutS: number): Promise<WorkDone> {
  const where = new Map<string, string>()
  const events = s.stream('peer', { ...msg, wait: true, timeout: timeoutS })
  return await renderEvents(events, (e: WorkEvent): Step<WorkDone> => {
    switch (e.event) {
      case 'accepted':
        for (const x of e.skipped ?? []) s.note(`not started: ${x.path} (${x.kind}): ${x.why}`)
        for (const i of e.instances) where.set(i, 'accepted')
        return { progress: line(where) }
      case 'phase':
        if (e.phase === 'running' || e.phase === 'stopped' || e.phase === 'gone') where.delete(e.instance)
        else where.set(e.instance, e.detail)
        return { progress: line(where) }
      case 'done': return { done: { value: { instances: e.instances, describe: e.describe } } }
      case 'failed': throw new CliError(e.code, e.message, exitCodes.failure)
    }
  }, { enabled: !s.json && !s.g.quiet, note: s.note, what: `${msg.type} ${msg.path}`, interrupted: () => interruptedLine(msg, [...where.keys()]) })
}
