// The workloads handler: `workload.run/update/restart/stop/purge` write `want/` records for every
// instance a path stands for (a runnable, or the runnable members of a group, recursively) and,
// with `wait: true`, stream the daemon's progress until the work is done or failed; `workload.ps`
// answers from the local replica.
import { buildScope, missingRequired } from '../../grammar/monkscript/variables.js'
import type { Mesh } from '../../mesh/mesh.js'
import type { Value } from '../../mesh/value.js'
import type { InstanceViews } from '../cluster/views.js'
import type { Scheduler } from '../kit/clock.js'
import type { Handlers, HandlerContext } from '../messages/index.js'
import type { Goal, Skipped, UpdatePlan, WorkEvent, WorkReply, WorkRequest } from '../messages/workload.js'
import { isMap } from '../../grammar/monkscript/index.js'
import { evaluateApplied } from './update-eval.js'
import { appliedKey, decodeApplied, encodeApplied, planUpdate, type Applied } from './update-plan.js'
import { normalisePath } from '../paths.js'
import { didYouMean } from '../suggest.js'
import { decodeTpl, decodeWant, encodeTpl, encodeWant, instanceKeys, keys, readWants, type WantRecord } from '../state.js'
import { composeTemplates, currentTpls, decodeDef, priorDefs } from '../templates.js'
import { watchWork } from './progress.js'
import { materialise } from '../hub/materialise.js'

export class WorkloadError extends Error {
  override readonly name = 'WorkloadError'
  constructor (readonly code: string, message: string) { super(message) }
}

/** Seconds a waited request is watched when the asker gives no timeout. */
export const DEFAULT_WAIT_S = 300

interface RunOptions { dryRun?: boolean | undefined, tags?: string[] | undefined, peer?: string | undefined, set?: Record<string, string> | undefined, forceMove?: boolean | undefined, restart?: boolean | undefined, replaceAll?: boolean | undefined }

export function workloadHandlers (mesh: Mesh, views: InstanceViews, clock: Scheduler): Handlers<'workloads'> {
  const w = new Workloads(mesh, views, clock)
  return {
    'workload.run': (m, ctx) => w.answer(m, ctx, 'running', () => w.run(m.path, m)),
    'workload.update': (m, ctx) => m.dryRun === true ? w.run(m.path, { ...m, restart: true }) : w.answer(m, ctx, 'running', () => w.run(m.path, { ...m, restart: true })),
    'workload.restart': (m, ctx) => w.answer(m, ctx, 'running', () => w.run(m.path, { restart: true, replaceAll: true })),
    'workload.stop': (m, ctx) => w.answer(m, ctx, 'stopped', () => w.stop(m)),
    'workload.purge': (m, ctx) => w.answer(m, ctx, 'gone', () => w.purge(m.path, m.excise === true)),
    'workload.scale': (m, ctx) => w.answer(m, ctx, 'running', () => w.scale(m.path, m.replicas)),
    'workload.ps': m => Promise.resolve(views.ps(m)),
  }
}

class Workloads {
  constructor (private readonly mesh: Mesh, private readonly views: InstanceViews, private readonly clock: Scheduler) {}

  /** ` (did you mean ns/app?)` for a mistyped template path, or ''. */
  nearest (path: string): string {
    return didYouMean(path, this.mesh.scan('tpl/').map(e => e.key.slice('tpl/'.length)))
  }

  /** The plain reply, or (wait: true) a stream of progress that starts with the request's effect. */
  answer (m: WorkRequest, ctx: HandlerContext, goal: Goal, act: () => Promise<WorkReply>): Promise<WorkReply | AsyncIterable<WorkEvent>> {
    if (m.wait !== true) return act()
    // a refused request (unknown path, missing variable) is the request's error, not a broken stream
    return act().then(({ instances, skipped }): AsyncIterable<WorkEvent> => watchWork(this.mesh, this.views, this.clock, { instances, ...(skipped ? { skipped } : {}), goal, timeoutS: m.timeout ?? DEFAULT_WAIT_S, signal: ctx.signal }))
  }

  /**
   * Instances a path stands for: a runnable, service or entity instance itself, or every such
   * member of a group (recursively). Members monk does not run (entity types, modules, abstract nodes) go to
   * `skipped` with the reason, so a group walk never drops one silently.
   */
  instancesOf (path: string, skipped: Skipped[] = []): Array<{ instance: string, template: string }> {
    const p = normalisePath(path)
    const tpl = decodeTpl(this.mesh.get(keys.tpl(p)))
    if (!tpl) throw new WorkloadError('not-found', `no template "${p}" is loaded${this.nearest(p)} (monk load it first; monk list shows what is loaded)`)
    if (tpl.problem !== undefined) throw new WorkloadError('template-broken', `${p}: ${tpl.problem} (load it again, or what it builds on, to run or update it)`)
    if (tpl.kind === 'runnable' || tpl.kind === 'service' || tpl.kind === 'entity-instance') return [{ instance: p, template: p }]
    if (tpl.kind !== 'group' && tpl.kind !== 'process-group') throw new WorkloadError('not-runnable', `${p} is a ${tpl.kind}; only runnables, services, entity instances and groups can run`)
    const out: Array<{ instance: string, template: string }> = []
    const seen = new Set<string>([p])
    const walk = (g: string): void => {
      for (const m of decodeTpl(this.mesh.get(keys.tpl(g)))?.members ?? []) {
        if (seen.has(m)) continue
        seen.add(m)
        const mt = decodeTpl(this.mesh.get(keys.tpl(m)))
        if (mt?.kind === 'runnable' || mt?.kind === 'service' || mt?.kind === 'entity-instance') out.push({ instance: m, template: m })
        else if (mt?.kind === 'group' || mt?.kind === 'process-group') walk(m)
        else skipped.push({ path: m, kind: mt?.kind ?? 'missing', why: mt === undefined ? 'it is not loaded' : mt.kind === 'entity' ? 'an entity type does not run (its instances do)' : mt.kind === 'module' ? 'a module is code that entities require; it does not run' : mt.kind === 'abstract' ? 'an abstract node (no defines) does not run' : `a ${mt.kind} does not run` })
      }
    }
    walk(p)
    return out
  }

  async run (given: string, o: RunOptions): Promise<WorkReply> {
    const skipped: Skipped[] = []
    // a hub template runs from a copy taken now (update takes the hub's version again)
    const path = o.dryRun === true ? normalisePath(given) : await materialise(this.mesh, given, o.restart === true)
    const list = this.instancesOf(path, skipped)
    const root = normalisePath(path)
    const claims = this.views.claims()
    const wants: Array<[string, WantRecord]> = []
    const applied: Array<[string, Applied]> = []
    const plan: UpdatePlan[] = []
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
        restarts: (prev?.restarts ?? 0) + (o.replaceAll === true ? 1 : 0),
        updatedAt: this.clock.now(),
        // replicas set by `monk scale` stay through run and update
        ...(prev?.scale !== undefined ? { scale: prev.scale } : {}),
      }
      // A required variable without a value fails the run before anything starts anywhere.
      const tpl = decodeTpl(this.mesh.get(keys.tpl(template)))
      if (tpl) {
        const groups = tpl.groups.map(g => decodeTpl(this.mesh.get(keys.tpl(g)))?.value).filter(v => v !== undefined)
        const missing = missingRequired(buildScope(tpl.value, groups, w.set))
        if (missing.length) throw new WorkloadError('required-variable', `${instance}: required variable ${missing.join(', ')} has no value (give it with --set ${instance}/${missing[0] ?? ''}=VALUE or a variables file)`)
        const now: Applied = { value: tpl.value, set: w.set, groups: groups.map(g => isMap(g.variables) ? { variables: g.variables } : {}) }
        applied.push([instance, now])
        if (o.dryRun === true) {
          const before = decodeApplied(this.mesh.get(appliedKey(instance)))
          const evaluated = before !== undefined ? { before: await evaluateApplied(instance, before), after: await evaluateApplied(instance, now) } : undefined
          plan.push(planUpdate(instance, before, now, prev?.state === 'run', evaluated))
        }
      }
      wants.push([instance, w])
    }
    const more = skipped.length ? { skipped } : {}
    if (o.dryRun === true) return { instances: list.map(l => l.instance), plan, ...more }
    await this.commitRun(wants, applied)
    return { instances: this.expand(wants), ...more }
  }

  /**
   * Writes the `applied/` records, then the `want/` records (a want is what starts work, so it goes
   * last). When a write fails (a full disk), the records this call already wrote are put back, so a run
   * that answers an error starts nothing; what cannot be put back makes the error say so (status 500:
   * the outcome is unknown to the caller).
   */
  private async commitRun (wants: ReadonlyArray<[string, WantRecord]>, applied: ReadonlyArray<[string, Applied]>): Promise<void> {
    const writes: Array<[string, Value]> = [
      ...applied.map(([instance, a]): [string, Value] => [appliedKey(instance), encodeApplied(a)]),
      ...wants.map(([instance, w]): [string, Value] => [keys.want(instance), encodeWant(w)]),
    ]
    const done: Array<[string, Value | undefined]> = []
    for (const [key, value] of writes) {
      const before = this.mesh.get(key)
      try {
        await this.mesh.put(key, value)
      } catch (err) {
        // a failed write leaves no trace (mesh.write persists first); undo the ones before it
        const stuck: string[] = []
        for (const [k, v] of done.reverse()) {
          try {
            if (v === undefined) await this.mesh.delete(k)
            else await this.mesh.put(k, v)
          } catch { stuck.push(k) }
        }
        if (stuck.length === 0) throw err
        throw Object.assign(new WorkloadError('partly-applied', `${(err as Error).message}; written before the failure and not put back: ${stuck.join(', ')} (run again, or stop the instance)`), { status: 500 })
      }
      done.push([key, before])
    }
  }

  /** Instance keys of the wants: a scaled runnable's replicas (what a waited request watches). */
  private expand (wants: ReadonlyArray<[string, WantRecord]>): string[] {
    return wants.flatMap(([instance, w]) => instanceKeys(instance, w, decodeTpl(this.mesh.get(keys.tpl(w.template)))))
  }

  /** `monk scale`: sets the replicas of a runnable (and runs it when it was not running). */
  async scale (path: string, replicas: number): Promise<WorkReply> {
    const p = normalisePath(path)
    const tpl = decodeTpl(this.mesh.get(keys.tpl(p)))
    if (!tpl) throw new WorkloadError('not-found', `no template "${p}" is loaded${this.nearest(p)} (monk load it first; monk list shows what is loaded)`)
    if (tpl.kind !== 'runnable') throw new WorkloadError('not-runnable', `${p} is a ${tpl.kind}; only a runnable scales (scale the members of a group one by one)`)
    const prev = decodeWant(this.mesh.get(keys.want(p)))
    if (!prev || prev.state !== 'run') await this.run(p, {})
    const w = decodeWant(this.mesh.get(keys.want(p)))
    if (!w) throw new WorkloadError('not-found', `${p} could not be run`)
    const next: WantRecord = { ...w, scale: replicas, updatedAt: this.clock.now() }
    await this.mesh.put(keys.want(p), encodeWant(next))
    return { instances: this.expand([[p, next]]) }
  }

  /**
   * Stops a path's instances, or (`all`) every instance that is wanted running; `tag` keeps only
   * instances run with that tag (`run --tag T`) or owned by a peer that carries it.
   */
  async stop (m: { path?: string | undefined, all?: boolean | undefined, tag?: string | undefined }): Promise<WorkReply> {
    if (m.path === undefined && m.all !== true && m.tag === undefined) throw new WorkloadError('bad-request', 'stop needs a path, --all or --tag')
    if (m.path !== undefined && m.all === true) throw new WorkloadError('bad-request', 'stop takes a path or --all, not both')
    const wants = readWants(this.mesh.scan('want/'))
    let list = m.path !== undefined ? this.instancesOf(m.path).map(l => l.instance) : [...wants].filter(([, w]) => w.state === 'run').map(([i]) => i).sort()
    if (m.tag !== undefined) {
      const tag = m.tag
      const peers = this.views.peerTags()
      list = list.filter(i => {
        const owner = this.views.ownerOf(i)
        return (wants.get(i)?.tags ?? []).includes(tag) || (owner !== null && (peers.get(owner) ?? []).includes(tag))
      })
    }
    for (const instance of list) {
      const prev = wants.get(instance)
      if (prev) await this.mesh.put(keys.want(instance), encodeWant({ ...prev, state: 'stop', updatedAt: this.clock.now() }))
    }
    return { instances: list }
  }

  async purge (path: string, excise: boolean): Promise<WorkReply> {
    const list = this.instancesOf(path)
    for (const { instance } of list) { await this.mesh.delete(keys.want(instance)); await this.mesh.delete(appliedKey(instance)) }
    if (excise) {
      const gone = new Set([...list.map(l => l.template), normalisePath(path)])
      for (const p of gone) {
        await this.mesh.delete(keys.tpl(p))
        for (const e of this.mesh.scan('def/')) if (decodeDef(e.value)?.path === p) await this.mesh.delete(e.key)
      }
      // templates built on what was excised keep their last definition, marked with the problem
      const c = composeTemplates(priorDefs(this.mesh), currentTpls(this.mesh), {}, [], this.clock.now())
      for (const r of c.records) await this.mesh.put(keys.tpl(r.path), encodeTpl(r))
    }
    return { instances: list.map(l => l.instance) }
  }
}
