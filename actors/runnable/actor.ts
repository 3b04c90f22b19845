// The runnable actor `runnable:<instance>`: the shell around the pure `decide`. It feeds decide the
// assignment, what it observes (containers, `depends` targets, its earlier status) and the results
// of the starts and readiness attempts it runs, and performs the effects decide returns. Starts and
// readiness attempts run beside the actor and report back by message, so requests (actions, exec,
// logs) are answered while a start waits; every timer goes through the system clock.
import { rmSync } from 'node:fs'
import { spawnActor, tell, type ActorContext, type ActorRef, type ActorSystem, type Timer } from '../kit/index.js'
import type { LogItem, LogStreams, RunnableMsg } from '../messages/runnable.js'
import { LABEL_CONTAINER, type ContainerSummary } from '../runtime/runtime.js'
import { decodeClaim, decodeStatus, encodeClaim, encodeStatus, keys, statusesOf, wantAt, type StatusRecord, type WantRecord } from '../state.js'
import { actionInfos, runAction, runHook } from './actions.js'
import { InstanceContext, type RunnableDeps } from './context.js'
import { decide, drives, initialRecord, type Plan, type RunnableEffect, type RunnableEvent, type RunnableRecord } from './decide.js'
import { instanceDir, secretFilesDir } from './dirs.js'
import { RunnableError } from './errors.js'
import { checkLive, checkReady, services, startContainers } from './start.js'
import { purgeVolumes, type VolumeRow } from './volumes.js'

export type { RunnableDeps }

class Shell {
  record: RunnableRecord
  private aborter: AbortController | null = null
  /** The start in flight (settles when it ended, however). */
  private inflight: Promise<void> = Promise.resolve()
  private wake: { at: number, timer: Timer } | null = null
  private status: StatusRecord | null = null
  /** The volumes the last start mounted (null: none started since the daemon came up). */
  private volumes: VolumeRow[] | null = null

  constructor (readonly ctx: InstanceContext, private readonly a: ActorContext<RunnableMsg>) {
    this.record = initialRecord(ctx.instance)
  }

  private get d (): RunnableDeps { return this.ctx.d }
  private now (): number { return this.a.clock.now() }

  async apply (ev: RunnableEvent): Promise<void> {
    const { record, effects } = decide(this.record, ev)
    this.record = record
    for (const e of effects) await this.perform(e)
  }

  async tick (): Promise<void> {
    if (this.wake !== null && this.wake.at <= this.now()) this.wake = null
    if (drives(this.record) && this.record.busy === null) await this.observe()
  }

  private want (): WantRecord | undefined { return this.record.assignment?.want }

  plan (): Plan {
    const want = this.want()
    const t = want ? this.ctx.template(want.template) : undefined
    const spec = t?.spec
    return {
      readiness: spec?.readiness ?? null,
      liveness: spec?.liveness ?? null,
      dependsTimeoutMs: spec?.depends.timeoutMs ?? 0,
      restart: spec === undefined || spec.containers.length === 0 || spec.containers.some(c => c.restart !== 'no'),
      containerless: t?.tpl.kind === 'service',
    }
  }

  private async observe (): Promise<void> {
    const want = this.want()
    const t = want ? this.ctx.template(want.template) : undefined
    const containers = await this.ctx.containers()
    const depends = (t?.spec.depends.runnables ?? []).map(target => ({
      target,
      ready: statusesOf(p => this.d.scan(p), target).some(e => { const s = decodeStatus(e.value); return s?.state === 'running' && s.ready }),
    }))
    const prior = decodeStatus(this.d.get(keys.status(this.ctx.instance, this.d.peerId)))
    if (prior && this.status === null) this.status = prior
    await this.apply({ type: 'runnable.observed', now: this.now(), containers: containers.map(c => ({ running: c.running })), depends, prior: prior ? { generation: prior.generation, state: prior.state } : null, plan: this.plan() })
  }

  private async perform (e: RunnableEffect): Promise<void> {
    const d = this.d
    const inst = this.ctx.instance
    switch (e.type) {
      case 'observe': return await this.observe()
      case 'abort': this.aborter?.abort(); return
      case 'claim': {
        if (decodeClaim(d.get(keys.claim(inst, d.peerId)))?.epoch !== e.epoch) await d.put(keys.claim(inst, d.peerId), encodeClaim({ epoch: e.epoch, startedAt: this.now() }))
        return
      }
      case 'unclaim': if (d.get(keys.claim(inst, d.peerId)) !== undefined) await d.del(keys.claim(inst, d.peerId)); return
      case 'remove': return await this.remove(e.hooks)
      case 'start': return this.start(e.op, e.replace === true)
      case 'check': return this.check(e.op)
      case 'live': return this.live(e.op)
      case 'status': return await this.writeStatus(e)
      case 'unstatus': {
        // a stopped instance whose containers or status stay here (e.g. found again after a daemon
        // restart) says so, so its logs and the volumes it keeps can be found until purge
        const mine = decodeStatus(d.get(keys.status(inst, d.peerId)))
        const a = this.record.assignment
        if (a?.want?.state === 'stop' && !a.purge && (mine !== undefined || (await this.ctx.containers()).length > 0)) {
          if (mine !== undefined) this.status ??= mine
          if (mine?.state !== 'stopped') await this.writeStatus({ type: 'status', state: 'stopped', ready: false, error: null, waiting: null })
          return
        }
        this.status = null
        if (mine !== undefined) await d.del(keys.status(inst, d.peerId))
        return
      }
      case 'purge':
        rmSync(instanceDir(d.home, inst), { recursive: true, force: true })
        rmSync(secretFilesDir(d.home, inst), { recursive: true, force: true })
        purgeVolumes(d.home, inst)
        this.volumes = null
        return
      case 'wake': {
        if (this.wake !== null && this.wake.at <= e.at) return
        this.wake?.timer.cancel()
        this.wake = { at: e.at, timer: this.a.after(Math.max(0, e.at - this.now()), { type: 'runnable.tick' }) }
      }
    }
  }

  /**
   * Removes this peer's containers of the instance once any start in flight has ended. A stop on
   * the owner stops them instead and keeps them, so their logs stay readable until purge.
   */
  private async remove (hooks: boolean): Promise<void> {
    await this.inflight
    this.d.ports?.release(this.ctx.instance)
    const a = this.record.assignment
    const keep = a !== null && a.want?.state === 'stop' && !a.purge
    const list = (await this.ctx.containers()).filter(c => !keep || c.running)
    if (list.length === 0) return
    const want = this.want()
    const t = want ? this.ctx.template(want.template) : undefined
    const hook = (c: ContainerSummary, event: 'container-stopping' | 'container-stopped'): void => {
      if (!hooks || !want || !t) return
      runHook(this.ctx, want, t.spec.containers.find(x => x.name === c.labels[LABEL_CONTAINER])?.hooks[event], event)
    }
    for (const c of list) hook(c, 'container-stopping')
    if (keep) await this.ctx.stopContainers(list)
    else await this.ctx.removeContainers(list)
    for (const c of list) hook(c, 'container-stopped')
  }

  private start (op: number, replace = false): void {
    const want = this.want()
    if (!want) return
    this.aborter?.abort()
    const aborter = new AbortController()
    this.aborter = aborter
    const self = this.a.self
    const previous = this.inflight
    this.inflight = (async () => {
      await previous
      try {
        const vols = await startContainers(this.ctx, want, aborter.signal, waiting => tell(self, { type: 'runnable.progressed', op, waiting }), { replace })
        if (!aborter.signal.aborted) this.volumes = vols
        if (!aborter.signal.aborted) tell(self, { type: 'runnable.started', op })
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        if (err instanceof RunnableError && err.code === 'secret-wait') {
          if (!aborter.signal.aborted) this.d.log.info({ instance: this.ctx.instance }, `${this.ctx.instance}: ${message}`)
          tell(self, { type: 'runnable.start-blocked', op, waiting: message })
          return
        }
        if (!aborter.signal.aborted) this.d.log.warn({ instance: this.ctx.instance, err }, `failed to start ${this.ctx.instance}: ${message}`)
        tell(self, { type: 'runnable.start-failed', op, error: message })
      }
    })()
  }

  private check (op: number): void {
    const want = this.want()
    if (!want) return
    const self = this.a.self
    void checkReady(this.ctx, want).then(r => tell(self, { type: 'runnable.checked', op, ready: r.ready, detail: r.detail }), (err: unknown) => tell(self, { type: 'runnable.checked', op, ready: false, detail: `the check failed: ${String(err)}` }))
  }

  private live (op: number): void {
    const want = this.want()
    if (!want) return
    const self = this.a.self
    void checkLive(this.ctx, want).then(r => tell(self, { type: 'runnable.live-checked', op, alive: r.alive, detail: r.detail }), (err: unknown) => tell(self, { type: 'runnable.live-checked', op, alive: false, detail: err instanceof Error ? err.message : String(err) }))
  }

  private async writeStatus (e: Extract<RunnableEffect, { type: 'status' }>): Promise<void> {
    // a failure is said in monkd's log too, once per new error (describe shows the same words)
    if (e.state === 'failed' && e.error !== null && this.status?.error !== e.error) this.d.log.warn({ instance: this.ctx.instance }, e.error)
    const want = this.want()
    const cs = e.state === 'stopped' ? [] : await this.ctx.containers()
    let svc = this.status?.services ?? {}
    if (e.state === 'running' && want) svc = await services(this.ctx, want).catch(() => svc)
    const next: StatusRecord = {
      state: e.state,
      containers: cs.map(c => ({ name: c.labels[LABEL_CONTAINER] ?? c.name, image: c.image, status: c.state, id: c.id })),
      services: svc,
      volumes: this.volumes ?? this.status?.volumes ?? [],
      events: this.record.events.length ? this.record.events : this.status?.events ?? [],
      ready: e.ready,
      error: e.error,
      waiting: e.waiting,
      generation: this.record.started?.generation ?? want?.generation ?? this.status?.generation ?? 0,
      updatedAt: this.now(),
    }
    const same = this.status !== null && JSON.stringify({ ...this.status, updatedAt: 0 }) === JSON.stringify({ ...next, updatedAt: 0 })
    this.status = next
    if (!same) await this.d.put(keys.status(this.ctx.instance, this.d.peerId), encodeStatus(next))
  }

  /** A request on the owner: answered beside the actor, so a slow action blocks nothing. */
  request (msg: Extract<RunnableMsg, { replyTo: unknown }>): void {
    const want = wantAt(k => this.d.get(k), this.ctx.instance)
    const fail = (err: unknown): void => { msg.replyTo.fail(err instanceof Error ? err : new Error(String(err))) }
    const run = async (): Promise<void> => {
      switch (msg.type) {
        case 'runnable.status': {
          const r = this.record
          msg.replyTo({ instance: r.instance, phase: r.phase, waiting: r.waiting, error: r.error, failures: r.failures, retryAt: r.retryAt, ready: r.ready })
          return
        }
        case 'runnable.actions': {
          const t = want ? this.ctx.template(want.template) : undefined
          msg.replyTo(t ? actionInfos(t.spec) : [])
          return
        }
        case 'runnable.action':
          if (!want) throw new RunnableError('not-found', `${this.ctx.instance} is not running`)
          msg.replyTo({ output: await runAction(this.ctx, want, msg.action, msg.args) })
          return
        case 'runnable.exec': {
          const c = await this.ctx.pick(msg.container)
          msg.replyTo(await this.d.runtime.exec(c.id, [...msg.cmd], msg.stdin !== undefined ? { stdin: msg.stdin } : {}))
          return
        }
        case 'runnable.logs': msg.replyTo(await this.logs(msg)); return
        case 'runnable.logs-page': msg.replyTo(await this.logPage(msg))
      }
    }
    run().catch(fail)
  }

  private async logs (o: { follow: boolean, tail?: number, container?: string }): Promise<LogStreams> {
    const list = o.container !== undefined ? [await this.ctx.pick(o.container)] : await this.ctx.containers()
    const out: LogStreams = []
    for (const c of list) out.push({ container: c.labels[LABEL_CONTAINER] ?? c.name, stream: await this.d.runtime.logs(c.id, { follow: o.follow, ...(o.tail !== undefined ? { tail: o.tail } : {}) }) })
    return out
  }

  /** The lines written so far (the last `tail`, or those after `since`), oldest first. */
  private async logPage (o: { tail?: number, since?: string, container?: string }): Promise<LogItem[]> {
    const since = o.since !== undefined ? new Date(o.since) : undefined
    const list = o.container !== undefined ? [await this.ctx.pick(o.container)] : await this.ctx.containers()
    const out: LogItem[] = []
    for (const c of list) {
      const stream = await this.d.runtime.logs(c.id, { follow: false, ...(o.tail !== undefined ? { tail: o.tail } : {}), ...(since ? { since } : {}) })
      for await (const l of stream) out.push({ time: l.time.toISOString(), stream: l.stream, container: c.labels[LABEL_CONTAINER] ?? c.name, text: l.text })
    }
    return out.filter(l => o.since === undefined || l.time > o.since).sort((a, b) => a.time.localeCompare(b.time))
  }
}

/** Spawns the actor of one instance under `parent`. */
export function spawnRunnable (parent: ActorSystem, instance: string, deps: RunnableDeps): ActorRef<RunnableMsg> {
  return spawnActor<Shell, RunnableMsg>(parent, `runnable:${instance}`, {
    init: ctx => {
      // at spawn and after every crash: a restarted actor takes up its last assignment again (a
      // claim write that failed on a full disk crashed it, and the instance would never start)
      const last = deps.assignment?.(instance)
      if (last) tell(ctx.self, { type: 'runnable.assign', assignment: last })
      return new Shell(new InstanceContext(instance, deps, ctx.clock), ctx)
    },
    handle: async (s, msg) => {
      const now = s.ctx.clock.now()
      switch (msg.type) {
        case 'runnable.assign': await s.apply({ type: 'runnable.assigned', now, assignment: msg.assignment }); break
        case 'runnable.tick': await s.tick(); break
        case 'runnable.nudge': await s.apply({ type: 'runnable.nudged', now }); break
        case 'runnable.start-blocked': await s.apply({ type: 'runnable.start-blocked', now, op: msg.op, waiting: msg.waiting }); break
        case 'runnable.started': await s.apply({ type: 'runnable.started', now, op: msg.op, plan: s.plan() }); break
        case 'runnable.start-failed': await s.apply({ type: 'runnable.start-failed', now, op: msg.op, error: msg.error, plan: s.plan() }); break
        case 'runnable.progressed': await s.apply({ type: 'runnable.progressed', now, op: msg.op, waiting: msg.waiting }); break
        case 'runnable.checked': await s.apply({ type: 'runnable.checked', now, op: msg.op, ready: msg.ready, detail: msg.detail, plan: s.plan() }); break
        case 'runnable.live-checked': await s.apply({ type: 'runnable.live-checked', now, op: msg.op, alive: msg.alive, detail: msg.detail, plan: s.plan() }); break
        default: s.request(msg)
      }
      return s
    },
  })
}
