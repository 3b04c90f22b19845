// One runnable instance on this peer: reconciles desired state (replica) with actual containers
// (runtime). Only the placed peer starts containers; a peer that is not the owner stops any copy
// it still has. Calls are serialised by the runnable's actor (see peer.ts).
import { mkdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { ArrowError, compile, renderTemplate, toPlain, toS, truthy, type ArrowHost, type ArrowValue } from '../grammar/arrow/index.js'
import type { MapValue, Value } from '../grammar/monkscript/index.js'
import { buildScope, builtinVariables, missingRequired, resolveEnv, ScopeVars } from '../grammar/monkscript/variables.js'
import type { Logger } from './kit/index.js'
import { containerName, containerSpec } from './runtime/spec.js'
import { LABEL_CONTAINER, LABEL_INSTANCE, LABEL_PEER, type ContainerSummary, type ExecResult, type LogLine, type Runtime, type Stream } from './runtime/runtime.js'
import type { SecretBox } from './secrets.js'
import { decodeStatus, decodeTpl, keys, type StatusRecord, type TplRecord, type WantRecord } from './state.js'

/** What the runnable needs from the peer around it. */
export interface RunnableDeps {
  peerId: string
  peerName: string
  home: string
  runtime: Runtime
  log: Logger
  secrets: SecretBox
  /** Replica access (only keys this peer may write are written). */
  get: (key: string) => unknown
  scan: (prefix: string) => Array<{ key: string, value: unknown }>
  put: (key: string, value: Value) => Promise<void>
  del: (key: string) => Promise<void>
  /** Host address other peers reach this peer's services on (from its advertised addresses). */
  hostOf: (peerId: string) => string
  /** `act`: run an action of another runnable wherever it lives. */
  act: (path: string, args: Record<string, ArrowValue>) => Promise<ArrowValue>
  now: () => number
}

/** This peer's part for one instance, from placement. */
export interface Assignment {
  want: WantRecord | undefined
  /** True when this peer is the placed owner. */
  owner: boolean
  epoch: number
  /** Peer id of the owner (for status mirrors and forwarding), or null when unplaced. */
  ownerId: string | null
  unplacedReason: string | null
  purge: boolean
}

const DEFAULT_WAIT_TIMEOUT_S = 120
const DEFAULT_CHECK_ATTEMPTS = 10

export class RunnableError extends Error {
  override readonly name = 'RunnableError'
  constructor (readonly code: string, message: string, options?: { cause?: unknown }) { super(message, options) }
}

export class Runnable {
  private started: { generation: number, template: string } | null = null
  private status: StatusRecord | null = null
  private aborter: AbortController | null = null

  constructor (readonly instance: string, private readonly d: RunnableDeps) {}

  /** Brings actual state in line with the assignment. Never throws: failures end in status `failed`. */
  async reconcile (a: Assignment): Promise<void> {
    const mine = await this.containers()
    const run = a.want !== undefined && a.want.state === 'run'
    if (!a.owner || !run) {
      const hooks = a.want ? this.containerHooks(a.want) : new Map<string, MapValue>()
      for (const c of mine) if (a.want) this.hook(a.want, hooks.get(c.labels[LABEL_CONTAINER] ?? '') ?? {}, 'container-stopping')
      if (mine.length) await this.removeContainers(mine)
      for (const c of mine) if (a.want) this.hook(a.want, hooks.get(c.labels[LABEL_CONTAINER] ?? '') ?? {}, 'container-stopped')
      this.started = null
      if (this.d.get(keys.claim(this.instance, this.d.peerId)) !== undefined) await this.d.del(keys.claim(this.instance, this.d.peerId))
      if (a.owner && a.want?.state === 'stop') await this.writeStatus({ state: 'stopped', containers: [], ready: false, error: null })
      else if (this.d.get(keys.status(this.instance, this.d.peerId)) !== undefined) await this.d.del(keys.status(this.instance, this.d.peerId))
      if (a.purge) rmSync(this.instanceDir(), { recursive: true, force: true })
      return
    }
    const want = a.want as WantRecord
    const claim = this.d.get(keys.claim(this.instance, this.d.peerId)) as { epoch?: number } | undefined
    if (claim?.epoch !== a.epoch) await this.d.put(keys.claim(this.instance, this.d.peerId), { epoch: a.epoch, startedAt: this.d.now() })
    // Up to date unless a container vanished (removed behind our back): then it starts again.
    const upToDate = this.started !== null && this.started.generation === want.generation && this.started.template === want.template &&
      (mine.length > 0 || this.status?.state === 'failed')
    if (upToDate || (this.started === null && mine.length > 0 && this.adoptable(mine, want))) {
      this.started ??= { generation: want.generation, template: want.template }
      const tpl = this.tpl(want.template)
      if (tpl && mine.length > 0 && mine.every(c => c.running) && this.status?.ready !== true) {
        // Containers came (back) up after a failed or unfinished start: check readiness again, once per tick.
        const vars = this.vars(want, tpl)
        const ready = await this.readiness(tpl.value, vars, new AbortController().signal, 1)
        await this.refreshStatus(mine, ready, null, ready ? await this.services(tpl.value, vars) : undefined)
        return
      }
      await this.refreshStatus(mine)
      return
    }
    if (mine.length) await this.removeContainers(mine)
    await this.start(want)
  }

  /** Stops everything this peer runs for the instance (daemon shutdown leaves containers; this is for purge/stop). */
  async abort (): Promise<void> {
    this.aborter?.abort()
  }

  private containerHooks (want: WantRecord): Map<string, MapValue> {
    const out = new Map<string, MapValue>()
    for (const [name, c] of Object.entries(asMap(this.tpl(want.template)?.value.containers) ?? {})) out.set(name, asMap(asMap(c)?.hooks) ?? {})
    return out
  }

  /** Runs the action a container hook names, in the background (spec §2.7.10); failures are logged. */
  private hook (want: WantRecord, hooks: MapValue, event: string): void {
    const action = hooks[event]
    if (typeof action !== 'string') return
    void this.action(want, action, {}).then(
      () => this.d.log.info({ instance: this.instance, event, action }, `${this.instance}: hook ${event} ran ${action}`),
      err => this.d.log.warn({ instance: this.instance, event, action, err }, `${this.instance}: hook ${event} (${action}) failed: ${(err as Error).message}`))
  }

  private adoptable (mine: ContainerSummary[], want: WantRecord): boolean {
    const s = decodeStatus(this.d.get(keys.status(this.instance, this.d.peerId)))
    return mine.every(c => c.running) && s !== undefined && s.generation === want.generation && s.state === 'running'
  }

  private async containers (): Promise<ContainerSummary[]> {
    return await this.d.runtime.list({ [LABEL_INSTANCE]: this.instance, [LABEL_PEER]: this.d.peerId })
  }

  private async removeContainers (list: ContainerSummary[]): Promise<void> {
    for (const c of list) {
      try { await this.d.runtime.remove(c.id, { force: true }) } catch (err) { this.d.log.warn({ err, container: c.name }, `could not remove container ${c.name} of ${this.instance}`) }
    }
  }

  private tpl (path: string): TplRecord | undefined {
    return decodeTpl(this.d.get(keys.tpl(path)))
  }

  /**
   * Runtime name of a container: per instance, container and peer, so two peers sharing one engine
   * (several monkd on one host) never take each other's containers by name.
   */
  nameOf (container: string): string {
    return containerName(`${this.instance}@${this.d.peerId.slice(-8)}`, container)
  }

  private instanceDir (): string {
    return join(this.d.home, 'instances', this.instance.replace(/[^a-zA-Z0-9_.-]+/g, '_'))
  }

  /** The variables of this instance in spec §2.6 order, evaluated lazily with this runnable's host. */
  vars (want: WantRecord, tpl: TplRecord, args?: Record<string, ArrowValue>): ScopeVars {
    const groups = tpl.groups.map(g => this.tpl(g)?.value).filter((v): v is MapValue => v !== undefined)
    const builtins = builtinVariables({ volumePath: join(this.d.home, 'volumes'), ...(args ? { args } : {}) })
    const scope = buildScope(tpl.value, groups, want.set, builtins)
    return new ScopeVars(scope, { host: this.host(tpl) })
  }

  private async start (want: WantRecord): Promise<void> {
    this.aborter?.abort()
    const aborter = new AbortController()
    this.aborter = aborter
    const tpl = this.tpl(want.template)
    const generation = want.generation
    try {
      if (!tpl) throw new RunnableError('template-missing', `template ${want.template} is not loaded on this peer (run \`monk load\` first)`)
      if (tpl.kind !== 'runnable') throw new RunnableError('not-runnable', `${want.template} is a ${tpl.kind}, not a runnable`)
      await this.writeStatus({ state: 'starting', containers: [], ready: false, error: null, generation })
      const vars = this.vars(want, tpl)
      const missing = missingRequired(vars.scope)
      if (missing.length) throw new RunnableError('required-variable', `${this.instance}: required variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ha${missing.length > 1 ? 've' : 's'} no value (set with --set ${missing[0]}=...)`)
      await this.waitForDepends(tpl.value, aborter.signal)
      const env = await resolveEnv(vars)
      const containers = asMap(tpl.value.containers)
      if (!containers || Object.keys(containers).length === 0) throw new RunnableError('no-containers', `${want.template} has no containers`)
      const filesDir = join(this.instanceDir(), 'files')
      const files = await this.renderFiles(tpl.value, vars)
      const created: string[] = []
      for (const [cname, raw] of Object.entries(containers)) {
        if (aborter.signal.aborted) return
        const fields = await this.evaluateFields(asMap(raw) ?? {}, vars)
        const environment = Array.isArray(fields.environment) ? fields.environment : []
        const built = containerSpec(fields, { instance: this.instance, container: cname, peer: this.d.peerId, name: this.nameOf(cname) })
        const spec = built.spec
        for (const n of built.notes) this.d.log.warn({ instance: this.instance, container: cname, field: n.field }, `${this.instance}/${cname}: ${n.field} ${n.reason}`)
        const rootfs = join(filesDir, cname)
        spec.env = { ...env, ...spec.env, MONK_ROOTFS: this.d.runtime.kind === 'process' ? rootfs : '' }
        for (const e of environment) if (typeof e === 'string' && e.includes('=')) spec.env[e.slice(0, e.indexOf('='))] = e.slice(e.indexOf('=') + 1)
        if (!spec.restart || spec.restart.name === 'no') spec.restart = fields.restart === undefined ? { name: 'always' } : spec.restart
        for (const f of files.filter(f => f.container === cname)) {
          const hostPath = join(rootfs, f.path)
          mkdirSync(dirname(hostPath), { recursive: true })
          writeFileSync(hostPath, f.contents)
          chmodSync(hostPath, f.mode)
          if (this.d.runtime.kind === 'docker') spec.mounts.push({ hostPath, containerPath: f.path, readOnly: false })
        }
        spec.labels = { ...spec.labels, [LABEL_INSTANCE]: this.instance, [LABEL_CONTAINER]: cname, [LABEL_PEER]: this.d.peerId }
        if (spec.image !== '') await this.d.runtime.ensureImage(spec.image)
        try { await this.d.runtime.remove(spec.name, { force: true }) } catch { /* not there */ }
        const hooks = asMap(asMap(raw)?.hooks) ?? {}
        this.hook(want, hooks, 'container-starting')
        const c = await this.d.runtime.create(spec)
        await this.d.runtime.start(c.id)
        created.push(c.id)
        this.hook(want, hooks, 'container-started')
      }
      this.started = { generation, template: want.template }
      await this.refreshStatus(await this.containers(), false)
      const ready = await this.readiness(tpl.value, vars, aborter.signal)
      if (aborter.signal.aborted) return
      await this.refreshStatus(await this.containers(), ready, ready ? null : `${this.instance}: readiness check failed`, await this.services(tpl.value, vars))
    } catch (err) {
      if (aborter.signal.aborted) return
      const message = err instanceof Error ? err.message : String(err)
      this.d.log.warn({ instance: this.instance, err }, `failed to start ${this.instance}: ${message}`)
      this.started = { generation, template: want.template }
      await this.writeStatus({ state: 'failed', containers: [], ready: false, error: message, generation })
    }
  }

  private async waitForDepends (value: MapValue, signal: AbortSignal): Promise<void> {
    const wf = asMap(asMap(value.depends)?.['wait-for'])
    if (!wf) return
    const list = Array.isArray(wf.runnables) ? wf.runnables.filter((x): x is string => typeof x === 'string') : []
    const timeoutS = typeof wf.timeout === 'number' ? wf.timeout : DEFAULT_WAIT_TIMEOUT_S
    const deadline = this.d.now() + timeoutS * 1000
    for (const raw of list) {
      const target = raw.replace(/^\/+/, '')
      for (;;) {
        if (signal.aborted) throw new RunnableError('aborted', 'start aborted')
        const statuses = this.d.scan(keys.statusPrefix(target)).map(e => decodeStatus(e.value))
        if (statuses.some(s => s?.state === 'running' && s.ready)) break
        if (this.d.now() > deadline) throw new RunnableError('depends-timeout', `${this.instance}: ${target} was not running and ready within ${timeoutS} s (depends.wait-for)`)
        await sleep(250)
      }
    }
  }

  /** Container fields with every arrow value evaluated (lists keep order; nil items are dropped). */
  private async evaluateFields (fields: MapValue, vars: ScopeVars): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(fields)) out[k] = await this.evaluateValue(v, vars)
    return out
  }

  private async evaluateValue (v: Value, vars: ScopeVars): Promise<unknown> {
    if (typeof v === 'string' && v.trimStart().startsWith('<-')) return toPlain(await compile(v, 'value').run({ ...vars.ctx, vars }))
    if (Array.isArray(v)) {
      const out: unknown[] = []
      for (const x of v) { const e = await this.evaluateValue(x, vars); if (e !== null && e !== undefined) out.push(e) }
      return out
    }
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) out[k] = await this.evaluateValue(x, vars)
      return out
    }
    return v
  }

  private async renderFiles (value: MapValue, vars: ScopeVars): Promise<Array<{ container: string, path: string, contents: string, mode: number }>> {
    const files = asMap(value.files)
    if (!files) return []
    const out: Array<{ container: string, path: string, contents: string, mode: number }> = []
    const all = await vars.all()
    for (const [id, raw] of Object.entries(files)) {
      const f = asMap(raw)
      if (!f) continue
      const container = typeof f.container === 'string' ? f.container : Object.keys(asMap(value.containers) ?? {})[0] ?? ''
      if (typeof f.path !== 'string' || !f.path.startsWith('/')) throw new RunnableError('bad-file', `${this.instance}: files.${id}.path must be an absolute path`)
      let contents = toS(await this.evaluateValue(f.contents ?? '', vars) as ArrowValue)
      if (f.raw !== true) contents = renderTemplate(contents, name => all.get(name) ?? null)
      const modeRaw = f.mode ?? f.chmod
      const mode = modeRaw === undefined ? 0o600 : parseInt(String(modeRaw), 8)
      out.push({ container, path: f.path, contents, mode: Number.isFinite(mode) ? mode : 0o600 })
    }
    return out
  }

  private async readiness (value: MapValue, vars: ScopeVars, signal: AbortSignal, maxAttempts?: number): Promise<boolean> {
    const r = asMap(asMap(value.checks)?.readiness)
    if (!r || typeof r.code !== 'string') return true
    const period = (typeof r.period === 'number' ? r.period : 5) * 1000
    const delay = (typeof r.initialDelay === 'number' ? r.initialDelay : 0) * 1000
    const attempts = maxAttempts ?? (typeof r.attempts === 'number' ? r.attempts : DEFAULT_CHECK_ATTEMPTS)
    if (delay > 0 && maxAttempts === undefined) await sleep(delay)
    for (let i = 0; i < attempts && !signal.aborted; i++) {
      try {
        if (truthy(await compile(r.code, 'code').run({ ...vars.ctx, vars }))) return true
      } catch (err) {
        this.d.log.debug({ instance: this.instance, err }, `readiness attempt ${i + 1} of ${this.instance} failed`)
      }
      if (i + 1 < attempts) await sleep(period)
    }
    return false
  }

  private async services (value: MapValue, vars: ScopeVars): Promise<StatusRecord['services']> {
    const out: StatusRecord['services'] = {}
    const s = asMap(value.services)
    if (!s) return out
    for (const [name, raw] of Object.entries(s)) {
      const svc = asMap(raw)
      if (!svc) continue
      const port = Number(await this.evaluateValue(svc['host-port'] ?? svc.port ?? null, vars))
      if (Number.isFinite(port)) out[name] = { host: this.d.hostOf(this.d.peerId), port }
    }
    return out
  }

  /** Re-reads container states into `status/<instance>/<me>`; a dead container after start means failed. */
  async refreshStatus (list?: ContainerSummary[], ready?: boolean, error?: string | null, services?: StatusRecord['services']): Promise<void> {
    const cs = list ?? await this.containers()
    const prev = this.status
    const isReady = ready ?? prev?.ready ?? false
    const anyDown = cs.length === 0 || cs.some(c => !c.running)
    const state = error ? 'failed' : anyDown ? (prev?.state === 'starting' ? 'starting' : 'failed') : isReady ? 'running' : 'starting'
    await this.writeStatus({
      state,
      containers: cs.map(c => ({ name: c.labels[LABEL_CONTAINER] ?? c.name, image: c.image, status: c.state, id: c.id })),
      ready: isReady && !anyDown,
      error: error ?? (anyDown && state === 'failed' ? `a container of ${this.instance} is not running` : null),
      ...(services ? { services } : {}),
    })
  }

  private async writeStatus (s: Partial<StatusRecord> & Pick<StatusRecord, 'state' | 'containers' | 'ready' | 'error'>): Promise<void> {
    const next: StatusRecord = {
      services: s.services ?? this.status?.services ?? {},
      generation: s.generation ?? this.started?.generation ?? this.status?.generation ?? 0,
      updatedAt: this.d.now(),
      ...s,
    } as StatusRecord
    const same = this.status !== null && JSON.stringify({ ...this.status, updatedAt: 0 }) === JSON.stringify({ ...next, updatedAt: 0 })
    this.status = next
    if (same) return
    await this.d.put(keys.status(this.instance, this.d.peerId), next as unknown as Value)
  }

  // ---- requests (on the owner) ----

  async exec (cmd: string[], container?: string): Promise<ExecResult> {
    const c = await this.pick(container)
    return await this.d.runtime.exec(c.id, cmd)
  }

  async logs (opts: { follow?: boolean, tail?: number, container?: string }): Promise<Array<{ container: string, stream: Stream<LogLine> }>> {
    const list = opts.container ? [await this.pick(opts.container)] : await this.containers()
    const out: Array<{ container: string, stream: Stream<LogLine> }> = []
    for (const c of list) out.push({ container: c.labels[LABEL_CONTAINER] ?? c.name, stream: await this.d.runtime.logs(c.id, { follow: opts.follow === true, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) }) })
    return out
  }

  /** The lines written so far (optionally the last `tail`, or those after `since`), oldest first. */
  async logPage (opts: { tail?: number, since?: Date, container?: string }): Promise<Array<{ time: string, stream: string, container: string, text: string }>> {
    const list = opts.container ? [await this.pick(opts.container)] : await this.containers()
    const out: Array<{ time: string, stream: string, container: string, text: string }> = []
    for (const c of list) {
      const stream = await this.d.runtime.logs(c.id, { follow: false, ...(opts.tail !== undefined ? { tail: opts.tail } : {}), ...(opts.since ? { since: opts.since } : {}) })
      for await (const l of stream) out.push({ time: l.time.toISOString(), stream: l.stream, container: c.labels[LABEL_CONTAINER] ?? c.name, text: l.text })
    }
    return out.filter(l => !opts.since || l.time > opts.since.toISOString()).sort((a, b) => a.time.localeCompare(b.time))
  }

  private async pick (container?: string): Promise<ContainerSummary> {
    const list = await this.containers()
    const c = container ? list.find(x => x.labels[LABEL_CONTAINER] === container) : list[0]
    if (!c) throw new RunnableError('not-found', container ? `${this.instance} has no container "${container}" on this peer` : `${this.instance} runs no container on this peer`)
    return c
  }

  /** Runs action `name` with typed arguments and defaults (spec §2.7.7); returns its result as plain data. */
  async action (want: WantRecord, name: string, given: Record<string, unknown>): Promise<unknown> {
    const tpl = this.tpl(want.template)
    if (!tpl) throw new RunnableError('template-missing', `template ${want.template} is not loaded`)
    const action = asMap(asMap(tpl.value.actions)?.[name])
    if (!action || typeof action.code !== 'string') {
      const names = Object.keys(asMap(tpl.value.actions) ?? {})
      throw new RunnableError('unknown-action', `${want.template} has no action "${name}"${names.length ? ` (actions: ${names.join(', ')})` : ''}`)
    }
    const declared = asMap(action.arguments) ?? {}
    const args: Record<string, ArrowValue> = {}
    for (const [arg, specRaw] of Object.entries(declared)) {
      const spec = asMap(specRaw) ?? {}
      const v = Object.prototype.hasOwnProperty.call(given, arg) ? given[arg] : spec.default
      if (v === undefined || v === null) throw new RunnableError('missing-argument', `action ${want.template}/${name} needs argument "${arg}"${typeof spec.description === 'string' ? ` (${spec.description})` : ''}`)
      args[arg] = coerceArg(arg, typeof spec.type === 'string' ? spec.type : 'string', v)
    }
    for (const k of Object.keys(given)) if (!Object.prototype.hasOwnProperty.call(declared, k)) throw new RunnableError('unknown-argument', `action ${want.template}/${name} has no argument "${k}" (arguments: ${Object.keys(declared).join(', ') || 'none'})`)
    const vars = this.vars(want, tpl, args)
    try {
      return toPlain(await compile(action.code, 'code').run({ ...vars.ctx, vars }))
    } catch (err) {
      if (err instanceof ArrowError) throw new RunnableError(`action-${err.code}`, `action ${want.template}/${name} failed: ${err.message}`, { cause: err })
      throw err
    }
  }

  // ---- the Arrow host of this runnable ----

  private host (tpl: TplRecord): ArrowHost {
    const d = this.d
    const self = this
    const containers = Object.keys(asMap(tpl.value.containers) ?? {})
    const permitted = asMap(tpl.value['permitted-secrets'])
    const connection = (name: string): { target: string, service: string } => {
      const c = asMap(asMap(tpl.value.connections)?.[name])
      const target = c && (typeof c.runnable === 'string' ? c.runnable : typeof c.target === 'string' ? c.target : undefined)
      if (!c || !target) throw new ArrowError('host-error', `${tpl.path} has no connection "${name}"`)
      return { target: target.replace(/^\/+/, ''), service: typeof c.service === 'string' ? c.service : '' }
    }
    const endpoint = (name: string): { host: string, port: number } => {
      const { target, service } = connection(name)
      for (const e of d.scan(keys.statusPrefix(target))) {
        const s = decodeStatus(e.value)
        const svc = s?.services[service] ?? Object.values(s?.services ?? {})[0]
        if (s?.state === 'running' && svc) return svc
      }
      throw new ArrowError('host-error', `connection ${name}: ${target} is not running (no published service "${service}")`)
    }
    return {
      secret (name: string): string | null {
        if (!permitted || permitted[name] === undefined || permitted[name] === false) throw new ArrowError('host-error', `${tpl.path} may not read secret "${name}": list it under permitted-secrets`)
        for (const scope of [tpl.path, self.instance, 'global']) {
          const sealed = d.get(keys.secret(scope, name))
          if (sealed !== undefined) return d.secrets.open(scope, name, sealed)
        }
        throw new ArrowError('host-error', `secret "${name}" does not exist (add it with monk secrets add)`)
      },
      async exec (args: string[]): Promise<string> {
        let cname = args[0] ?? ''
        let cmd = args.slice(1)
        if (!containers.includes(cname) && args.length > 2 && containers.includes(args[1] ?? '')) { cname = args[1] ?? ''; cmd = args.slice(2) }
        if (!containers.includes(cname)) throw new ArrowError('host-error', `exec: ${tpl.path} has no container "${cname}" (containers: ${containers.join(', ')})`)
        const r = await self.exec(cmd, cname)
        return r.stdout
      },
      containerName: (c: string) => self.nameOf(c),
      getHostname: (runnable: string) => hostOfRunnable(runnable),
      peerIpAddress: (runnable: string) => hostOfRunnable(runnable),
      localIp: () => d.hostOf(d.peerId),
      connectionHostname: (name: string) => endpoint(name).host,
      connectionIp: (name: string) => endpoint(name).host,
      connectionPort: (name: string) => endpoint(name).port,
      servicePort: (runnable: string, service: string) => {
        for (const e of d.scan(keys.statusPrefix(runnable.replace(/^\/+/, '')))) { const p = decodeStatus(e.value)?.services[service]?.port; if (p !== undefined) return p }
        throw new ArrowError('host-error', `service-port: ${runnable} publishes no service "${service}"`)
      },
      runnablePeers: (runnable: string) => d.scan(keys.claimPrefix(runnable.replace(/^\/+/, ''))).map(e => e.key.slice(e.key.lastIndexOf('/') + 1)),
      async httpGet (url: string): Promise<string | null> {
        try { const r = await fetch(url, { signal: AbortSignal.timeout(10_000) }); return await r.text() } catch { return null }
      },
      async httpPost (url: string, body: ArrowValue): Promise<string | null> {
        try { const r = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(toPlain(body)), signal: AbortSignal.timeout(10_000) }); return await r.text() } catch { return null }
      },
      act: (path: string, args) => d.act(path, Object.fromEntries(Object.entries(args))),
      sleep: (ms: number) => sleep(ms),
    }
    function hostOfRunnable (runnable: string): string {
      const claims = d.scan(keys.claimPrefix(runnable.replace(/^\/+/, '')))
      const peer = claims[0]?.key.slice(claims[0].key.lastIndexOf('/') + 1)
      if (!peer) throw new ArrowError('host-error', `${runnable} is not running anywhere`)
      return d.hostOf(peer)
    }
  }
}

function asMap (v: unknown): MapValue | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as MapValue : undefined
}

function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

function coerceArg (name: string, type: string, v: unknown): ArrowValue {
  switch (type) {
    case 'int': { const n = typeof v === 'number' ? v : Number(String(v)); if (!Number.isInteger(n)) throw new RunnableError('bad-argument', `argument ${name} must be an int, got ${JSON.stringify(v)}`); return n }
    case 'float': { const n = typeof v === 'number' ? v : Number(String(v)); if (!Number.isFinite(n)) throw new RunnableError('bad-argument', `argument ${name} must be a float, got ${JSON.stringify(v)}`); return n }
    case 'bool': { if (typeof v === 'boolean') return v; if (v === 'true' || v === 'false') return v === 'true'; throw new RunnableError('bad-argument', `argument ${name} must be true or false, got ${JSON.stringify(v)}`) }
    default: return typeof v === 'string' ? v : JSON.stringify(v)
  }
}
