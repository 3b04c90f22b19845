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
  }, { enabled: !s.json && !s.g.quiet, note: s.note, what: `${msg.type} ${msg.path}` })
}
