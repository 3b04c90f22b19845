// The entity actor `runnable:<instance>` for an entity instance: it speaks the runnable actor's
// message protocol at the seam (assign, tick, action, status, actions), so placement, claims,
// `monk do` forwarding and waited runs treat entities like runnables. The owner runs the lifecycle
// (create → start on run; update → start on update; stop; purge), readiness and liveness checks,
// and custom actions, one at a time, and persists the record after each successful action before
// it replies. A failed action keeps the previous state and reports the thrown message.
import type { ArrowHost, ArrowValue } from '../../grammar/arrow/index.js'
import type { MapValue } from '../../grammar/monkscript/types.js'
import type { Value } from '../../mesh/value.js'
import { spawnActor, type ActorContext, type ActorRef, type ActorSystem, type Logger } from '../kit/index.js'
import type { RunnableMsg } from '../messages/runnable.js'
import { normalisePath } from '../paths.js'
import type { Assignment } from '../runnable/decide.js'
import type { SecretSealer } from '../secrets.js'
import { decodeClaim, decodeStatus, decodeTpl, encodeClaim, encodeStatus, keys, type StatusRecord, type WantRecord } from '../state.js'
import { entityOperators } from './arrow-host.js'
import { EntityError } from './errors.js'
import type { CloudCredentials } from './host/cloud.js'
import type { SecretStore } from './host/modules.js'
import { runAction, type EntityState } from './lifecycle.js'
import { emptyRecord, encodeEntity, entityKey, entityPrefix, newestEntity, type EntityRecord } from './record.js'
import { resolveDefinition } from './resolve.js'
import { customActions, definitionHash, entityType, missingRequired, type CheckSpec, type EntityType } from './type.js'

export interface EntityDeps {
  peerId: string
  log: Logger
  secrets: SecretSealer
  get: (key: string) => unknown
  scan: (prefix: string) => Array<{ key: string, value: unknown }>
  put: (key: string, value: Value) => Promise<void>
  del: (key: string) => Promise<void>
  act: (path: string, args: Record<string, ArrowValue>) => Promise<ArrowValue>
  cloud: CloudCredentials
}

interface Loaded { type: EntityType, value: MapValue, definition: MapValue, hash: string, permitted: string[], files: Record<string, string> }

const message = (err: unknown): string => err instanceof Error ? err.message : String(err)
const isMap = (v: unknown): v is MapValue => v !== null && typeof v === 'object' && !Array.isArray(v)

class EntityShell {
  private assignment: Assignment | null = null
  /** Lifecycle work runs one at a time, beside the actor. */
  private chain: Promise<void> = Promise.resolve()
  /** Bumped on every assignment: a check scheduled for an older one is dropped. */
  private op = 0
  private check: { kind: 'readiness' | 'liveness', at: number, attempts: number, op: number } | null = null
  private ready = false
  private status: StatusRecord | null = null
  private record: EntityRecord | null = null

  constructor (readonly instance: string, private readonly d: EntityDeps, private readonly a: ActorContext<RunnableMsg>) {}

  private now (): number { return this.a.clock.now() }
  private want (): WantRecord | undefined { return this.assignment?.want }
  private enqueue<T> (fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn)
    this.chain = p.then(() => {}, () => {})
    return p
  }

  assign (a: Assignment): void {
    this.assignment = a
    this.op++
    this.check = null
    void this.enqueue(() => this.reconcile()).catch(err => { this.d.log.warn({ instance: this.instance, err }, `entity ${this.instance}: ${message(err)}`) })
  }

  tick (): void {
    const c = this.check
    if (c === null || c.at > this.now() || c.op !== this.op) return
    this.check = null
    void this.enqueue(() => this.runCheck(c)).catch(() => {})
  }

  // ---- the record ----

  private current (): EntityRecord {
    return this.record ?? newestEntity(this.d.scan(entityPrefix(this.instance))) ?? emptyRecord()
  }

  private async persist (r: EntityRecord): Promise<void> {
    const next = { ...r, seq: Math.max(r.seq, this.current().seq) + 1, updatedAt: this.now() }
    await this.d.put(entityKey(this.instance, this.d.peerId), encodeEntity(next))
    this.record = next
  }

  // ---- templates ----

  private async load (want: WantRecord): Promise<Loaded> {
    const tpl = decodeTpl(this.d.get(keys.tpl(want.template)))
    if (!tpl) throw new EntityError('entity-not-found', `${this.instance}: template ${want.template} is not loaded`)
    const typePath = typeof tpl.value.defines === 'string' ? normalisePath(tpl.value.defines) : ''
    const tt = decodeTpl(this.d.get(keys.tpl(typePath)))
    if (!tt || tt.kind !== 'entity') throw new EntityError('entity-not-found', `${this.instance}: its entity type ${typePath} is not loaded (monk load the kit that defines it)`)
    const type = entityType(typePath, tt.value, tpl.value.checks)
    const permitted = isMap(tpl.value['permitted-secrets']) ? Object.entries(tpl.value['permitted-secrets']).filter(([, v]) => v !== false).map(([k]) => k) : []
    const host: ArrowHost = { ...this.arrowHost(tpl.value, permitted) }
    const definition = await resolveDefinition(type, this.instance, tpl.value, host, want.set)
    const missing = missingRequired(type, definition)
    if (missing.length) throw new EntityError('entity-bad-definition', `${this.instance}: required field ${missing.join(', ')} of ${typePath} has no value`)
    const files: Record<string, string> = {}
    if (isMap(tpl.value.files)) for (const [k, f] of Object.entries(tpl.value.files)) if (isMap(f) && typeof f.contents === 'string') files[k] = f.contents
    return { type, value: tpl.value, definition, hash: definitionHash(type, definition), permitted, files }
  }

  private arrowHost (value: MapValue, permitted: string[]): ArrowHost {
    return {
      ...entityOperators(this.d, this.instance, value, { state: () => this.current().created ? this.current().state as MapValue : undefined }),
      secret: (name: string) => {
        if (!permitted.includes(name)) throw new EntityError('entity-bad-definition', `${this.instance} may not read secret "${name}": list it under permitted-secrets`)
        const v = this.secrets().read(this.instance, name) ?? this.secrets().read('global', name)
        if (v === undefined) throw new EntityError('entity-bad-definition', `secret "${name}" does not exist (add it with monk secrets add)`)
        return v
      },
    }
  }

  private secrets (): SecretStore {
    const d = this.d
    return {
      read: (scope, name) => { const s = d.get(keys.secret(scope, name)); return s === undefined ? undefined : d.secrets.open(scope, name, s) },
      write: async (scope, name, value) => { await d.put(keys.secret(scope, name), d.secrets.seal(scope, name, value) as unknown as Value) },
      remove: async (scope, name) => { await d.del(keys.secret(scope, name)) },
    }
  }

  /** Runs one action and persists its state; a failure keeps the old state and is recorded. */
  private async act (l: Loaded, action: string, args: Record<string, string> = {}, extra: Partial<EntityRecord> = {}): Promise<{ output: string[], state: EntityState }> {
    const before = this.current()
    try {
      const r = await runAction({
        type: l.type, instance: this.instance, action, definition: l.definition, state: before.state, args, status: this.status?.state ?? '',
        moduleSource: name => { const t = decodeTpl(this.d.get(keys.tpl(normalisePath(name)))); return t?.kind === 'module' && typeof t.value.source === 'string' ? t.value.source : undefined },
        host: {
          instance: this.instance, permittedSecrets: l.permitted, secrets: this.secrets(), files: l.files, cloud: this.d.cloud,
          act: async (path, a) => JSON.stringify(await this.d.act(path, a)),
          sleep: ms => new Promise<void>(resolve => { this.a.clock.setTimeout(resolve, ms) }),
        },
      })
      // a passing readiness or liveness check keeps the last action's name, output and error in
      // describe (a check every few seconds would hide them); a failing one is recorded like any
      if (action.startsWith('check-')) {
        const checkFailedBefore = before.lastAction?.startsWith('check-') === true && before.lastError !== null
        await this.persist({ ...before, ...extra, state: r.state, ...(checkFailedBefore ? { lastAction: action, lastOutput: r.output, lastError: null } : {}) })
      } else {
        await this.persist({ ...before, ...extra, state: r.state, lastAction: action, lastOutput: r.output, lastError: null })
      }
      return { output: r.output, state: r.state }
    } catch (err) {
      await this.persist({ ...before, lastAction: action, lastOutput: [], lastError: message(err) }).catch(() => {})
      throw err
    }
  }

  // ---- reconcile ----

  private async reconcile (): Promise<void> {
    const a = this.assignment
    const want = a?.want
    const d = this.d
    if (!a) return
    if (a.owner && want) {
      if (decodeClaim(d.get(keys.claim(this.instance, d.peerId)))?.epoch !== a.epoch) await d.put(keys.claim(this.instance, d.peerId), encodeClaim({ epoch: a.epoch, startedAt: this.now() }))
      let l: Loaded
      try { l = await this.load(want) } catch (err) { await this.writeStatus('failed', false, message(err), want.generation); return }
      const rec = this.current()
      if (want.state === 'stop') {
        if (rec.created && rec.startedGen !== null && (rec.stoppedGen === null || rec.stoppedGen < rec.startedGen || rec.stoppedGen !== want.generation)) {
          try { await this.act(l, 'stop', {}, { stoppedGen: want.generation }) } catch (err) { await this.writeStatus('failed', false, message(err), want.generation); return }
        }
        this.ready = false
        await this.writeStatus('stopped', false, null, want.generation)
        return
      }
      try {
        if (!rec.created) {
          await this.writeStatus('starting', false, null, want.generation, 'create')
          await this.act(l, 'create', {}, { created: true, hash: l.hash })
          await this.act(l, 'start', {}, { startedGen: want.generation, stoppedGen: null })
        } else if (rec.startedGen !== want.generation) {
          const wasStopped = rec.startedGen === null || (rec.stoppedGen !== null && rec.stoppedGen >= rec.startedGen)
          if (rec.hash !== l.hash) {
            await this.writeStatus('starting', false, null, want.generation, 'update')
            await this.act(l, 'update', {}, { hash: l.hash })
            await this.act(l, 'start', {}, { startedGen: want.generation, stoppedGen: null })
          } else if (wasStopped) {
            await this.act(l, 'start', {}, { startedGen: want.generation, stoppedGen: null })
          } else {
            await this.persist({ ...this.current(), startedGen: want.generation, lastAction: 'update', lastOutput: ['update skipped: the definition hash is unchanged'], lastError: null })
          }
        }
      } catch (err) {
        this.ready = false
        await this.writeStatus('failed', false, message(err), want.generation)
        return
      }
      this.ready = false
      if (l.type.readiness) {
        await this.writeStatus('running', false, null, want.generation, 'readiness')
        this.schedule('readiness', l.type.readiness.initialDelayS, 0)
      } else {
        this.ready = true
        await this.writeStatus('running', true, null, want.generation)
        if (l.type.liveness) this.schedule('liveness', l.type.liveness.periodS, 0)
      }
      return
    }
    // not the owner: give up a claim another peer took over; on purge the claimant runs purge
    const mine = decodeClaim(d.get(keys.claim(this.instance, d.peerId))) !== undefined
    if (a.purge) {
      const rec = this.current()
      const ownCopy = d.get(entityKey(this.instance, d.peerId)) !== undefined
      if (mine && rec.created) {
        try {
          const l = await this.loadForPurge()
          if (l) await this.act(l, 'purge')
        } catch (err) {
          d.log.warn({ instance: this.instance, err }, `entity ${this.instance}: purge failed: ${message(err)}`)
          await this.writeStatus('failed', false, `purge failed: ${message(err)}`, 0)
          return
        }
      }
      if (mine || ownCopy) await d.del(entityKey(this.instance, d.peerId))
      this.record = null
    }
    if (mine) await d.del(keys.claim(this.instance, d.peerId))
    if (d.get(keys.status(this.instance, d.peerId)) !== undefined) await d.del(keys.status(this.instance, d.peerId))
    this.status = null
    this.ready = false
  }

  /** The template data for purge (the want is gone; the template may still be loaded). */
  private async loadForPurge (): Promise<Loaded | null> {
    const tpl = decodeTpl(this.d.get(keys.tpl(this.instance)))
    if (!tpl) return null
    return await this.load({ template: this.instance, state: 'run', root: this.instance, set: {}, tags: [], peer: null, forceMove: 0, generation: 0, restarts: 0, updatedAt: 0 })
  }

  // ---- checks ----

  private schedule (kind: 'readiness' | 'liveness', afterS: number, attempts: number): void {
    const at = this.now() + Math.max(0, afterS) * 1000
    this.check = { kind, at, attempts, op: this.op }
    this.a.after(Math.max(0, at - this.now()), { type: 'runnable.tick' })
  }

  private async runCheck (c: { kind: 'readiness' | 'liveness', attempts: number, op: number }): Promise<void> {
    const want = this.want()
    if (!want || !this.assignment?.owner || want.state !== 'run' || c.op !== this.op) return
    let l: Loaded
    try { l = await this.load(want) } catch (err) { await this.writeStatus('failed', false, message(err), want.generation); return }
    const spec: CheckSpec | null = c.kind === 'readiness' ? l.type.readiness : l.type.liveness
    if (!spec) return
    try {
      await this.act(l, `check-${c.kind}`)
      this.ready = true
      await this.writeStatus('running', true, null, want.generation)
      if (l.type.liveness) this.schedule('liveness', l.type.liveness.periodS, 0)
    } catch (err) {
      if (c.op !== this.op) return
      const attempts = c.attempts + 1
      if (c.kind === 'readiness' && spec.attempts > 0 && attempts >= spec.attempts) {
        this.ready = false
        await this.writeStatus('failed', false, `readiness failed after ${attempts} attempts: ${message(err)}`, want.generation)
        return
      }
      this.ready = false
      await this.writeStatus('running', false, c.kind === 'liveness' ? `liveness failed: ${message(err)}` : null, want.generation, c.kind === 'readiness' ? `readiness (attempt ${attempts}: ${message(err)})` : null)
      this.schedule(c.kind, spec.periodS, c.kind === 'readiness' ? attempts : 0)
    }
  }

  private async writeStatus (state: StatusRecord['state'], ready: boolean, error: string | null, generation: number, waiting: string | null = null): Promise<void> {
    const next: StatusRecord = { state, containers: [], services: {}, ready, error, waiting, generation, updatedAt: this.now() }
    const same = this.status !== null && JSON.stringify({ ...this.status, updatedAt: 0 }) === JSON.stringify({ ...next, updatedAt: 0 })
    this.status = next
    if (!same) await this.d.put(keys.status(this.instance, this.d.peerId), encodeStatus(next))
  }

  // ---- requests ----

  request (msg: Extract<RunnableMsg, { replyTo: unknown }>): void {
    const fail = (err: unknown): void => { msg.replyTo.fail(err instanceof Error ? err : new Error(String(err))) }
    switch (msg.type) {
      case 'runnable.status': {
        const s = this.status ?? decodeStatus(this.d.get(keys.status(this.instance, this.d.peerId))) ?? null
        msg.replyTo({ instance: this.instance, phase: s?.state ?? 'idle', waiting: s?.waiting ?? null, error: s?.error ?? null, failures: 0, retryAt: 0, ready: this.ready })
        return
      }
      case 'runnable.actions': {
        const want = this.want()
        void (want ? this.load(want) : Promise.reject(new EntityError('entity-not-found', `${this.instance} is not running`)))
          .then(l => { msg.replyTo(customActions(l.type).map(name => ({ name, description: '', arguments: {} }))) }, fail)
        return
      }
      case 'runnable.action': {
        const want = this.want()
        if (!want || !this.assignment?.owner) { fail(new EntityError('entity-not-found', `${this.instance} is not running here`)); return }
        const args = Object.fromEntries(Object.entries(msg.args).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]))
        // persisted before the reply: act() writes the record, then the reply goes out
        void this.enqueue(async () => { const l = await this.load(want); return await this.act(l, msg.action, args) })
          .then(r => { msg.replyTo({ output: r.output.join('\n') }) }, fail)
        return
      }
      default:
        fail(new EntityError('entity-not-supported', `${this.instance} is an entity: it has no containers (${msg.type.replace('runnable.', '')} is for runnables)`))
    }
  }
}

/** Spawns the actor of one entity instance under `parent`. */
export function spawnEntity (parent: ActorSystem, instance: string, deps: EntityDeps): ActorRef<RunnableMsg> {
  return spawnActor<EntityShell, RunnableMsg>(parent, `runnable:${instance}`, {
    init: ctx => new EntityShell(instance, deps, ctx),
    handle: (s, msg) => {
      switch (msg.type) {
        case 'runnable.assign': s.assign(msg.assignment); break
        case 'runnable.tick': s.tick(); break
        default: if ('replyTo' in msg) s.request(msg)
      }
      return s
    },
  })
}
