// The daemon's side of a waited `monk run/update/restart/stop/purge`: watches the local replica
// (woken by its changes, no network hop) and streams WorkEvents — accepted, one `phase` event each
// time an instance moves (placing, depends, pulling, readiness, running, stopping, removing...),
// then `done` or `failed`. Deciding whether a workload runs happens here, not in the CLI.
import type { Mesh } from '../../mesh/mesh.js'
import type { InstanceViews } from '../cluster/views.js'
import type { Scheduler } from '../kit/clock.js'
import type { Describe, Goal, Phase, Skipped, WorkEvent } from '../messages/workload.js'
import { decodeStatus, decodeWant, keys, wantAt } from '../state.js'

/** Fallback re-check when no replica change arrives (peer deaths show up through heartbeats). */
const RECHECK_MS = 250

export interface WatchOptions {
  readonly instances: readonly string[]
  /** Group members the run does not start (said once, in the accepted event). */
  readonly skipped?: readonly Skipped[]
  readonly goal: Goal
  readonly timeoutS: number
  readonly signal: AbortSignal
}

interface Progress { reached: boolean, phase: Phase, failed?: string }

export async function * watchWork (mesh: Mesh, views: InstanceViews, clock: Scheduler, o: WatchOptions): AsyncGenerator<WorkEvent> {
  yield { event: 'accepted', instances: [...o.instances], goal: o.goal, ...(o.skipped?.length ? { skipped: [...o.skipped] } : {}) }
  const bell: { wake: (() => void) | null } = { wake: null }
  const ring = (): void => { const w = bell.wake; bell.wake = null; w?.() }
  const offs = ['want/', 'claim/', 'status/'].map(p => mesh.onChange(p, ring))
  const onAbort = (): void => ring()
  o.signal.addEventListener('abort', onAbort, { once: true })
  const deadline = clock.now() + o.timeoutS * 1000
  const last = new Map<string, string>()
  try {
    for (;;) {
      if (o.signal.aborted) return
      const claims = views.claims()
      const pending: string[] = []
      for (const inst of o.instances) {
        const d = views.describe(inst, claims)
        const p = progressOf(mesh, o.goal, inst, d)
        const detail = detailOf(p.phase, d)
        const key = `${p.phase}\u0000${d.peer ?? ''}\u0000${detail}`
        if (last.get(inst) !== key) {
          last.set(inst, key)
          yield { event: 'phase', instance: inst, phase: p.phase, peer: d.peer, peerName: d.peerName, detail }
        }
        const end = o.goal === 'running' && d.peer === null ? views.unplaceable(inst) : null
        if (end !== null) {
          yield { event: 'failed', code: 'unplaceable', instance: inst, message: `${inst} cannot be placed: ${end}. monkd keeps the request and starts it if such a peer joins; monk stop ${inst} cancels it`, describe: o.instances.map(i => views.describe(i)) }
          return
        }
        if (p.failed !== undefined) {
          yield { event: 'failed', code: 'run-failed', instance: inst, message: `${inst} failed on peer ${d.peerName ?? d.peer ?? '?'}: ${p.failed} (see monk logs ${inst})`, describe: o.instances.map(i => views.describe(i)) }
          return
        }
        if (!p.reached) pending.push(inst)
      }
      if (pending.length === 0) {
        yield { event: 'done', goal: o.goal, instances: [...o.instances], describe: o.instances.map(i => views.describe(i)) }
        return
      }
      if (clock.now() > deadline) {
        const first = pending[0] ?? ''
        const verb = o.goal === 'running' ? 'running' : o.goal === 'stopped' ? 'stopped' : 'removed'
        yield { event: 'failed', code: 'timeout', instance: first, message: `${pending.join(', ')} not ${verb} after ${o.timeoutS} s (${first}: ${detailOf(progressOf(mesh, o.goal, first, views.describe(first)).phase, views.describe(first))}); monkd keeps going, see monk describe ${first}`, describe: o.instances.map(i => views.describe(i)) }
        return
      }
      await new Promise<void>(resolve => {
        bell.wake = resolve
        clock.setTimeout(ring, RECHECK_MS)
      })
    }
  } finally {
    for (const off of offs) off()
    o.signal.removeEventListener('abort', onAbort)
  }
}

/** Where an instance is on the way to `goal`. Only a status of the wanted generation counts. */
function progressOf (mesh: Mesh, goal: Goal, inst: string, d: Describe): Progress {
  if (goal === 'gone') {
    const left = d.state === null && d.peer === null
    return { reached: left, phase: left ? 'gone' : 'removing' }
  }
  const st = d.peer !== null ? decodeStatus(mesh.get(keys.status(inst, d.peer))) : undefined
  if (goal === 'stopped') {
    const done = d.peer === null || st?.state === 'stopped' || (st?.state === 'failed' && st.containers.every(c => c.status !== 'running'))
    return { reached: done, phase: done ? 'stopped' : 'stopping' }
  }
  const want = wantAt(k => mesh.get(k), inst)
  const current = st !== undefined && want !== undefined && st.generation >= want.generation
  if (current && st.state === 'failed') return { reached: false, phase: 'failed', failed: st.error ?? 'it failed' }
  if (current && st.state === 'running') return { reached: true, phase: 'running' }
  if (d.peer === null) return { reached: false, phase: 'placing' }
  const w = d.waiting ?? (current ? 'readiness' : '')
  if (w.startsWith('depends')) return { reached: false, phase: 'depends' }
  if (w.startsWith('image')) return { reached: false, phase: 'pulling' }
  if (w.startsWith('readiness')) return { reached: false, phase: 'readiness' }
  return { reached: false, phase: 'placing' }
}

function detailOf (phase: Phase, d: Describe): string {
  const on = d.peerName ?? d.peer ?? ''
  switch (phase) {
    case 'placing': return d.status === 'not placed' ? 'waiting for a peer to take it' : `waiting for ${on || 'a peer'} to start it`
    case 'depends': return `waiting for ${d.waiting ?? 'depends'}`
    case 'pulling': return `pulling ${(d.waiting ?? 'image').replace(/^image /, '')} on ${on}`
    case 'readiness': return `waiting for readiness on ${on}`
    case 'running': return `running on ${on}`
    case 'failed': return d.error ?? 'failed'
    case 'stopping': return `stopping on ${on}`
    case 'stopped': return 'stopped'
    case 'removing': return `removing${on ? ` from ${on}` : ''}`
    case 'gone': return 'removed'
  }
}
