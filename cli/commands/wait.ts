// Waiting for instances to reach a goal (running after run/update/restart, stopped after stop,
// gone after purge) by polling `workload.ps`, with progress naming what each one waits for.
import type { PsRow } from '../api/messages.js'
import { progress } from '../format/spinner.js'
import { CliError, exitCodes } from '../output.js'
import { POLL_MS } from './defaults.js'
import { runnableActor, type Session } from './session.js'

export type Goal = 'running' | 'stopped' | 'gone'

export interface WaitOptions {
  readonly goal: Goal
  readonly timeoutS: number
  /** Poll period (tests make it short). */
  readonly pollMs?: number
  /**
   * For restart/update: each instance's status generation before the request. Such an instance
   * counts as running (or failed) only once its owner reports a newer generation, so a stale
   * `running` from before the restart does not end the wait.
   */
  readonly newerThan?: ReadonlyMap<string, number>
}

/** The generation in a `runnable.describe` reply's status record, if any. */
function generationOf (reply: unknown): number | undefined {
  const g = (reply as { status?: { generation?: unknown } | null } | null)?.status?.generation
  return typeof g === 'number' ? g : undefined
}

/**
 * Status generations now of the instances on the way to being restarted by a request for `path`:
 * the instance itself, or (for a group) the instances of its namespace. Taken before the request.
 */
export async function generationsBefore (s: Session, path: string): Promise<Map<string, number>> {
  const rows = await s.request('peer', { type: 'workload.ps', all: true })
  const ns = path.split('/')[0]!
  const exact = rows.some(r => r.instance === path)
  const candidates = [...new Set(rows.filter(r => exact ? r.instance === path : r.instance.startsWith(`${ns}/`)).map(r => r.instance))]
  const out = new Map<string, number>()
  await Promise.all(candidates.map(async i => {
    const g = await s.request(runnableActor(i), { type: 'runnable.describe' }).then(generationOf, () => undefined)
    if (g !== undefined) out.set(i, g)
  }))
  return out
}

/** The row that says most about an instance when several peers report it (running wins). */
export function rowOf (rows: readonly PsRow[], instance: string): PsRow | undefined {
  const mine = rows.filter(r => r.instance === instance)
  const rank = (r: PsRow): number => ({ running: 0, starting: 1, failed: 2, stopped: 3 })[r.status] ?? 4
  return mine.sort((a, b) => rank(a) - rank(b))[0]
}

/** Whether `row` has reached the goal; a `failed` row never reaches `running`. */
function reached (goal: Goal, row: PsRow | undefined): boolean {
  if (goal === 'gone') return row === undefined
  if (goal === 'stopped') return row === undefined || row.status === 'stopped' || (row.status === 'failed' && row.containers.every(c => c.status !== 'running'))
  return row?.status === 'running'
}

/** What a starting instance waits for, from how far it got: no containers yet, or not ready yet. */
export function waitingFor (row: PsRow | undefined): string | undefined {
  if (row?.status !== 'starting') return undefined
  return row.containers.length === 0 ? 'its depends and images' : 'its readiness check'
}

function pendingText (goal: Goal, instance: string, row: PsRow | undefined, waiting: string | undefined): string {
  if (goal === 'running') {
    if (!row) return `${instance}: waiting for a peer to take it`
    const on = row.peerName || row.peer
    return `${instance}: ${row.status} on ${on}${waiting ? `, waiting for ${waiting}` : ''}`
  }
  if (goal === 'stopped') return `${instance}: stopping${row ? ` on ${row.peerName || row.peer}` : ''}`
  return `${instance}: removing${row ? ` from ${row.peerName || row.peer}` : ''}`
}

/**
 * Polls until every instance reaches the goal; returns the last rows of those instances.
 * Fails with `run-failed` when an instance fails on its way to running, `timeout` past the deadline.
 */
export async function waitForInstances (s: Session, instances: readonly string[], opts: WaitOptions): Promise<PsRow[]> {
  const p = progress({ enabled: !s.json && !s.g.quiet })
  const deadline = Date.now() + opts.timeoutS * 1000
  const stale = new Map(opts.newerThan ?? [])
  try {
    for (;;) {
      const polled = await s.request('peer', { type: 'workload.ps', all: true })
      // An instance still at its old generation is as good as not started yet.
      for (const [i, g] of [...stale]) {
        const now = await s.request(runnableActor(i), { type: 'runnable.describe' }).then(generationOf, () => undefined)
        if (now !== undefined && now > g) stale.delete(i)
      }
      const rows = polled.map(r => stale.has(r.instance) ? { ...r, status: 'starting' as const } : r)
      const pending = instances.filter(i => !reached(opts.goal, rowOf(rows, i)))
      const failed = opts.goal === 'running' ? instances.map(i => rowOf(rows, i)).find(r => r?.status === 'failed') : undefined
      if (failed) {
        const why = failed.error ? `: ${failed.error}` : ''
        throw new CliError('run-failed', `${failed.instance} failed on peer ${failed.peerName || failed.peer}${why} (see monk logs ${failed.instance})`, exitCodes.failure)
      }
      if (pending.length === 0) return rows.filter(r => instances.includes(r.instance))
      const first = pending[0]!
      const waiting = waitingFor(rowOf(rows, first))
      const more = pending.length > 1 ? ` (+${pending.length - 1} more)` : ''
      p.update(`${pendingText(opts.goal, first, rowOf(rows, first), waiting)}${more}`)
      if (Date.now() > deadline) {
        const verb = opts.goal === 'running' ? 'running' : opts.goal === 'stopped' ? 'stopped' : 'removed'
        throw new CliError('timeout', `${pending.join(', ')} not ${verb} after ${opts.timeoutS} s (${pendingText(opts.goal, first, rowOf(rows, first), waiting)}); see monk describe ${first}`, exitCodes.failure)
      }
      await new Promise(resolve => setTimeout(resolve, opts.pollMs ?? POLL_MS))
    }
  } finally {
    p.done()
  }
}
