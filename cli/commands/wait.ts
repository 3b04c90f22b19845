// Following work the daemon does for a waited `run/update/restart/stop/purge`: one request with
// `wait: true`, whose reply streams the daemon's progress (actors/handlers/progress.ts). Whether an
// instance runs is the daemon's call; this file only renders its events.
import type { Describe, WorkEvent, WorkRequest } from '../api/messages.js'
import { renderEvents, type Step } from '../format/events.js'
import { CliError, exitCodes } from '../output.js'
import type { Session } from './session.js'

/** What the last event carried: the instances and their state when the daemon said done. */
export interface WorkDone { instances: string[], describe: Describe[] }

function step (e: WorkEvent, more: () => string): Step<WorkDone> {
  switch (e.event) {
    case 'accepted': return { progress: `${e.instances.length} instance(s) accepted, waiting until ${e.goal}` }
    case 'phase': return { progress: `${e.instance}: ${e.detail}${more()}` }
    case 'done': return { done: { value: { instances: e.instances, describe: e.describe } } }
    case 'failed': throw new CliError(e.code, e.message, exitCodes.failure)
  }
}

/** Sends `msg` with `wait: true` and renders the daemon's progress until it says done or failed. */
export async function followWork (s: Session, msg: WorkRequest, timeoutS: number): Promise<WorkDone> {
  const pending = new Set<string>()
  const more = (): string => pending.size > 1 ? ` (+${pending.size - 1} more)` : ''
  const events = s.stream('peer', { ...msg, wait: true, timeout: timeoutS })
  return await renderEvents(events, e => {
    if (e.event === 'accepted') for (const i of e.instances) pending.add(i)
    if (e.event === 'phase' && ['running', 'stopped', 'gone'].includes(e.phase)) pending.delete(e.instance)
    return step(e, more)
  }, { enabled: !s.json && !s.g.quiet, note: s.note, what: `${msg.type} ${msg.path}` })
}
