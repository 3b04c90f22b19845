// The workloads handler: `workload.run/update/restart/stop/purge` write `want/` records for every
// instance a path stands for (a runnable, or the runnable members of a group, recursively) and,
// with `wait: true`, stream the daemon's progress until the work is done or failed; `workload.ps`
// answers from the local replica.
import { buildScope, missingRequired } from '../../grammar/monkscript/variables.js'
import type { Mesh } from '../../mesh/mesh.js'
import type { InstanceViews } from '../cluster/views.js'
import type { Scheduler } from '../kit/clock.js'
import type { Handlers, HandlerContext } from '../messages/index.js'
import type { Goal, WorkEvent, WorkReply, WorkRequest } from '../messages/workload.js'
import { normalisePath } from '../paths.js'
import { decodeTpl, decodeWant, encodeWant, instanceKeys, keys, type WantRecord } from '../state.js'
import { watchWork } from './progress.js'

export class WorkloadError extends Error {
  override readonly name = 'WorkloadError'
  constructor (readonly code: string, message: string) { super(message) }
}

/** Seconds a waited request is watched when the asker gives no timeout. */
export const DEFAULT_WAIT_S = 300

interface RunOptions { tags?: string[] | undefined, peer?: string | undefined, set?: Record<string, string> | undefined, forceMove?: boolean | undefined, restart?: boolean | undefined }

export function workloadHandlers (mesh: Mesh, views: InstanceViews, clock: Scheduler): Handlers<'workloads'> {
  const w = new Workloads(mesh, views, clock)
  return {
    'workload.run': (m, ctx) => w.answer(m, ctx, 'running', () => w.run(m.path, m)),
    'workload.update': (m, ctx) => w.answer(m, ctx, 'running', () => w.run(m.path, { ...m, restart: true })),
    'workload.restart': (m, ctx) => w.answer(m, ctx, 'running', () => w.run(m.path, { restart: true })),
    'workload.stop': (m, ctx) => w.answer(m, ctx, 'stopped', () => w.stop(m.path)),
    'workload.purge': (m, ctx) => w.answer(m, ctx, 'gone', () => w.purge(m.path, m.excise === true)),
    'workload.scale': (m, ctx) => w.answer(m, ctx, 'running', () => w.scale(m.path, m.replicas)),
    'workload.ps': m => Promise.resolve(views.ps(m)),
  }
}

class Workloads {
  constructor (private readonly mesh: Mesh, private readonly views: InstanceViews, private readonly clock: Scheduler) {}

  /** The plain reply, or (wait: true) a stream of progress that starts with the request's effect. */
  answer (m: WorkRequest, ctx: HandlerContext, goal: Goal, act: () => Promise<WorkReply>): Promise<WorkReply | AsyncIterable<WorkEvent>> {
    if (m.wait !== true) return act()
    // a refused request (unknown path, missing variable) is the request's error, not a broken stream
    return act().then(({ instances }): AsyncIterable<WorkEvent> => watchWork(this.mesh, this.views, this.clock, { instances, goal, timeoutS: m.timeout ?? DEFAULT_WAIT_S, signal: ctx.signal }))
  }

  /** Instances a path stands for: a runnable itself, or every runnable member of a group (recursively). */
  instancesOf (path: string): Array<{ instance: string, template: string }> {
    const p = normalisePath(path)
    const tpl = decodeTpl(this.mesh.get(keys.tpl(p)))
    if (!tpl) throw new WorkloadError('not-found', `no template "${p}" is loaded (monk load it first; monk list shows what is loaded)`)
    if (tpl.kind === 'runnable') return [{ instance: p, template: p }]
    if (tpl.kind !== 'group' && tpl.kind !== 'process-group') throw new WorkloadError('not-runnable', `${p} is a ${tpl.kind}; only runnables and groups can run`)
    const out: Array<{ instance: string, template: string }> = []
    const seen = new Set<string>([p])
    const walk = (g: string): void => {
      for (const m of decodeTpl(this.mesh.get(keys.tpl(g)))?.members ?? []) {
        if (seen.has(m)) continue
        seen.add(m)
        const mt = decodeTpl(this.mesh.get(keys.tpl(m)))
        if (mt?.kind === 'runnable') out.push({ instance: m, template: m })
        else if (mt?.kind === 'group' || mt?.kind === 'process-group') walk(m)
      }
    }
    walk(p)
    return out
  }

  async run (path: string, o: RunOptions): Promise<WorkReply> {
    const list = this.instancesOf(path)
    const root = normalisePath(path)
    const claims = this.views.claims()
    const wants: Array<[string, WantRecord]> = []
    for (const { instance, template } of list) {
      const prev = decodeWant(this.mesh.get(keys.want(instance)))
      const set: Record<string, string> = {}
      for (const [k, v] of Object.entries(o.set ?? {})) {
        // `ns/runnable/var=value` addresses a member; a bare name the run target (every member).
        const i = k.lastIndexOf('/')
        if (i < 0) set[k] = v
        else if (normalisePath(k.slice(0, i)) === instance) set[k.slice(i + 1)] = v
      }
      const w: WantRecord = {
        template, state: 'run', root,
        set: { ...(prev?.set ?? {}), ...set },
        tags: o.tags ?? prev?.tags ?? [],
        peer: o.peer ?? prev?.peer ?? null,
        forceMove: o.forceMove === true ? Math.max(0, ...(claims.get(instance) ?? []).map(c => c.epoch)) + 1 : prev?.forceMove ?? 0,
        generation: (prev?.generation ?? 0) + (o.restart === true || !prev || prev.state !== 'run' ? 1 : 0),
        updatedAt: this.clock.now(),
      }
      // A required variable without a value fails the run before anything starts anywhere.
      const tpl = decodeTpl(this.mesh.get(keys.tpl(template)))
      if (tpl) {
        const groups = tpl.groups.map(g => decodeTpl(this.mesh.get(keys.tpl(g)))?.value).filter(v => v !== undefined)
        const missing = missingRequired(buildScope(tpl.value, groups, w.set))
        if (missing.length) throw new WorkloadError('required-variable', `${instance}: required variable ${missing.join(', ')} has no value (give it with --set ${instance}/${missing[0] ?? ''}=VALUE or a variables file)`)
      }
      wants.push([instance, w])
    }
    for (const [instance, w] of wants) await this.mesh.put(keys.want(instance), encodeWant(w))
    return { instances: this.expand(wants) }
  }

  /** Instance keys of the wants: a scaled runnable's replicas (what a waited request watches). */
  private expand (wants: ReadonlyArray<[string, WantRecord]>): string[] {
    return wants.flatMap(([instance, w]) => instanceKeys(instance, w, decodeTpl(this.mesh.get(keys.tpl(w.template)))))
  }

  /** `monk scale`: sets the replicas of a runnable (and runs it when it was not running). */
  async scale (path: string, replicas: number): Promise<WorkReply> {
    const p = normalisePath(path)
    const tpl = decodeTpl(this.mesh.get(keys.tpl(p)))
    if (!tpl) throw new WorkloadError('not-found', `no template "${p}" is loaded (monk load it first; monk list shows what is loaded)`)
    if (tpl.kind !== 'runnable') throw new WorkloadError('not-runnable', `${p} is a ${tpl.kind}; only a runnable scales (scale the members of a group one by one)`)
    const prev = decodeWant(this.mesh.get(keys.want(p)))
    if (!prev || prev.state !== 'run') await this.run(p, {})
    const w = decodeWant(this.mesh.get(keys.want(p)))
    if (!w) throw new WorkloadError('not-found', `${p} could not be run`)
    const next: WantRecord = { ...w, scale: replicas, updatedAt: this.clock.now() }
    await this.mesh.put(keys.want(p), encodeWant(next))
    return { instances: this.expand([[p, next]]) }
  }

  async stop (path: string): Promise<WorkReply> {
    const list = this.instancesOf(path)
    for (const { instance } of list) {
      const prev = decodeWant(this.mesh.get(keys.want(instance)))
      if (prev) await this.mesh.put(keys.want(instance), encodeWant({ ...prev, state: 'stop', updatedAt: this.clock.now() }))
    }
    return { instances: list.map(l => l.instance) }
  }

  async purge (path: string, excise: boolean): Promise<WorkReply> {
    const list = this.instancesOf(path)
    for (const { instance } of list) await this.mesh.delete(keys.want(instance))
    if (excise) {
      for (const { template } of list) await this.mesh.delete(keys.tpl(template))
      await this.mesh.delete(keys.tpl(normalisePath(path)))
    }
    return { instances: list.map(l => l.instance) }
  }
}
