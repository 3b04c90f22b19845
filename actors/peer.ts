// The peer: one per monkd. Owns the mesh, the runtime and the actor tree (peer → runnable:<instance>);
// turns replica changes and membership into placement, and placement into runnable reconciles.
// Requests for an instance placed elsewhere are forwarded over `/monk/actor/1`.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { decode as decodeCbor, encode as encodeCbor } from 'cborg'
import type { ArrowValue } from '../grammar/arrow/index.js'
import type { Value } from '../grammar/monkscript/index.js'
import type { Mesh } from '../mesh/mesh.js'
import { parseToken } from '../mesh/cluster.js'
import { ask, spawnActor, startSystem, tell, type ActorRef, type ActorSystem, type Logger, type ReplyTo } from './kit/index.js'
import { place, type Claim, type DesiredInstance, type PeerView } from './placement.js'
import { Runnable, RunnableError, type Assignment } from './runnable.js'
import { LABEL_INSTANCE, LABEL_PEER, type Runtime } from './runtime/runtime.js'
import { checkScope, SecretBox, SecretError } from './secrets.js'
import { decodeClaim, decodePeer, decodeStatus, decodeTpl, decodeWant, keys, type StatusRecord, type WantRecord } from './state.js'
import { compileTemplates } from './templates.js'
import { buildScope, missingRequired } from '../grammar/monkscript/variables.js'

export const ACTOR_PROTOCOL = '/monk/actor/1'
/** How often every runnable re-reads its containers (crash detection, status refresh). */
const TICK_MS = 1000
/** Coalesces bursts of replica changes into one placement pass. */
const PLACE_DEBOUNCE_MS = 15
/**
 * How long after start a peer known only from its record (no heartbeat heard yet) counts as alive:
 * a few heartbeat periods (500 ms each), so a joiner first hears the peers that are up.
 */
const UNKNOWN_GRACE_MS = 3000
/** How often a follow of another peer's logs asks for new lines. */
const LOG_POLL_MS = 500

interface LogItem { time: string, stream: string, container: string, text: string }

export class PeerError extends Error {
  override readonly name = 'PeerError'
  constructor (readonly code: string, message: string, options?: { cause?: unknown }) { super(message, options) }
}

export interface PeerOptions {
  home: string
  name: string
  tags: string[]
  mesh: Mesh
  runtime: Runtime
  log: Logger
}

type RunnableMsg =
  | { type: 'runnable.reconcile', assignment: Assignment }
  | { type: 'runnable.tick' }
  | { type: 'runnable.call', fn: (r: Runnable) => Promise<unknown>, replyTo: ReplyTo<{ ok: true, value: unknown } | { ok: false, error: unknown }> }

export class Peer {
  readonly id: string
  private readonly system: ActorSystem
  private readonly actors = new Map<string, { ref: ActorRef<RunnableMsg>, last: Assignment | null }>()
  private readonly box: SecretBox
  private placeTimer: NodeJS.Timeout | null = null
  private tickTimer: NodeJS.Timeout | null = null
  private readonly unsubscribe: Array<() => void> = []
  private stopped = false
  private readonly startedAt = Date.now()

  private constructor (private readonly o: PeerOptions) {
    this.id = o.mesh.peerId
    this.system = startSystem(`monkd-${this.id.slice(-8)}`, { logger: o.log })
    this.box = new SecretBox(parseToken(o.mesh.token()).key)
  }

  static async start (o: PeerOptions): Promise<Peer> {
    const p = new Peer(o)
    await p.begin()
    return p
  }

  private async begin (): Promise<void> {
    const m = this.o.mesh
    mkdirSync(join(this.o.home, 'volumes'), { recursive: true })
    await m.announce({ name: this.o.name, tags: this.o.tags, runtime: this.o.runtime.kind })
    await m.handle(ACTOR_PROTOCOL, bytes => this.onRemote(bytes))
    for (const prefix of ['want/', 'claim/', 'tpl/', 'peer/']) this.unsubscribe.push(m.onChange(prefix, () => this.schedulePlacement()))
    this.unsubscribe.push(m.onPeerUp(() => this.schedulePlacement()), m.onPeerDown(() => this.schedulePlacement()))
    // Containers this peer ran before a restart: give each an actor so it is adopted or stopped.
    for (const c of await this.o.runtime.list({ [LABEL_PEER]: this.id })) {
      const inst = c.labels[LABEL_INSTANCE]
      if (inst) this.actorFor(inst)
    }
    void m.whenSynced().then(() => this.schedulePlacement())
    // Place again when the grace for unheard peers ends (their instances may have to move then).
    setTimeout(() => this.schedulePlacement(), UNKNOWN_GRACE_MS + 50).unref()
    this.tickTimer = setInterval(() => { for (const a of this.actors.values()) tell(a.ref, { type: 'runnable.tick' }) }, TICK_MS)
  }

  /**
   * Before a clean leave: remove this peer's containers and claims so the remaining peers take the
   * work at once (they see the leave and the claims gone).
   */
  async handOver (): Promise<void> {
    await this.stop()
    const mine = new Set<string>()
    for (const c of await this.o.runtime.list({ [LABEL_PEER]: this.id })) {
      const inst = c.labels[LABEL_INSTANCE]
      if (inst) mine.add(inst)
      await this.o.runtime.remove(c.id, { force: true }).catch(() => {})
    }
    for (const { key } of this.o.mesh.scan('claim/')) if (key.endsWith(`/${this.id}`)) await this.o.mesh.delete(key)
    for (const { key } of this.o.mesh.scan('status/')) if (key.endsWith(`/${this.id}`)) await this.o.mesh.delete(key)
    this.o.log.info({ instances: [...mine] }, `handed over ${mine.size} instance(s)`)
  }

  /** Leaves containers running (a restarted daemon adopts them) and stops the actors. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.placeTimer) clearTimeout(this.placeTimer)
    if (this.tickTimer) clearInterval(this.tickTimer)
    for (const u of this.unsubscribe) u()
    this.system.stop()
  }

  // ---- placement ----

  schedulePlacement (): void {
    if (this.stopped || this.placeTimer) return
    this.placeTimer = setTimeout(() => { this.placeTimer = null; this.placeNow() }, PLACE_DEBOUNCE_MS)
  }

  /**
   * Who is alive, for placement. A peer this one has not heard from yet ('unknown': known only from
   * its replicated record) counts as alive for a short grace after start, unless it left: a peer
   * that just joined must not take running work from peers whose heartbeats it has not received yet.
   */
  private peerViews (): PeerView[] {
    const young = Date.now() - this.startedAt < UNKNOWN_GRACE_MS
    return this.o.mesh.peers().map(p => {
      const r = decodePeer(p.record)
      const alive = p.self || p.state === 'alive' || (young && p.state === 'unknown' && r.leftAt === null)
      const unsynced = typeof p.record === 'object' && p.record !== null && !Array.isArray(p.record) && !(p.record instanceof Uint8Array) && p.record.synced === false
      return { id: p.id, name: r.name || p.id, tags: r.tags, alive, unsynced }
    })
  }

  private wants (): Map<string, WantRecord> {
    const out = new Map<string, WantRecord>()
    for (const { key, value } of this.o.mesh.scan('want/')) {
      const w = decodeWant(value)
      if (w) out.set(key.slice('want/'.length), w)
    }
    return out
  }

  private claims (): Map<string, Claim[]> {
    const out = new Map<string, Claim[]>()
    for (const { key, value } of this.o.mesh.scan('claim/')) {
      const rest = key.slice('claim/'.length)
      const i = rest.lastIndexOf('/')
      const c = decodeClaim(value)
      if (i < 0 || !c) continue
      const inst = rest.slice(0, i)
      const list = out.get(inst) ?? []
      list.push({ peerId: rest.slice(i + 1), epoch: c.epoch, startedAt: c.startedAt })
      out.set(inst, list)
    }
    return out
  }

  private placeNow (): void {
    if (this.stopped || !this.o.mesh.synced) return
    const wants = this.wants()
    const claims = this.claims()
    const instances: DesiredInstance[] = []
    for (const [inst, w] of wants) {
      if (w.state !== 'run') continue
      const tpl = decodeTpl(this.o.mesh.get(keys.tpl(w.template)))
      const aff = tpl?.value.affinity
      const affinity = aff && typeof aff === 'object' && !Array.isArray(aff) ? aff : undefined
      instances.push({
        key: inst,
        ...(w.tags.length ? { tags: w.tags } : {}),
        ...(w.peer !== null ? { peer: w.peer } : {}),
        ...(affinity ? { affinity: { ...(typeof affinity.tag === 'string' ? { tag: affinity.tag } : {}), ...(typeof affinity.name === 'string' ? { name: affinity.name } : {}), resident: affinity.resident === true, ignorePressure: affinity['ignore-pressure'] === true } } : {}),
        ...(w.forceMove > 0 ? { forceMove: w.forceMove } : {}),
      })
    }
    const result = place({ instances, peers: this.peerViews(), claims })
    const names = new Set<string>([...wants.keys(), ...[...claims.entries()].filter(([, cs]) => cs.some(c => c.peerId === this.id)).map(([i]) => i), ...this.actors.keys()])
    for (const inst of names) {
      const w = wants.get(inst)
      const p = result.byInstance.get(inst)
      const owner = p !== undefined && p.owner === this.id
      const a: Assignment = {
        want: w,
        owner,
        epoch: p && p.owner !== null ? p.epoch : 0,
        ownerId: p?.owner ?? null,
        unplacedReason: p && p.owner === null ? p.message : null,
        purge: w === undefined,
      }
      const actor = this.actorFor(inst)
      if (actor.last && JSON.stringify(actor.last) === JSON.stringify(a)) continue
      actor.last = a
      tell(actor.ref, { type: 'runnable.reconcile', assignment: a })
    }
  }

  private actorFor (instance: string): { ref: ActorRef<RunnableMsg>, last: Assignment | null } {
    const have = this.actors.get(instance)
    if (have) return have
    const runnable = new Runnable(instance, {
      peerId: this.id,
      peerName: this.o.name,
      home: this.o.home,
      runtime: this.o.runtime,
      log: this.o.log,
      secrets: this.box,
      get: k => this.o.mesh.get(k),
      scan: p => this.o.mesh.scan(p),
      put: (k, v) => this.o.mesh.put(k, v as never),
      del: k => this.o.mesh.delete(k),
      hostOf: id => this.hostOf(id),
      act: (path, args) => this.act(path, args),
      now: () => Date.now(),
    })
    let last: Assignment | null = null
    const entry = {
      ref: spawnActor<null, RunnableMsg>(this.system, `runnable:${instance}`, {
        initialState: null,
        handle: async (s, msg) => {
          if (msg.type === 'runnable.reconcile') { last = msg.assignment; await runnable.reconcile(msg.assignment) }
          else if (msg.type === 'runnable.tick') { if (last?.owner && last.want?.state === 'run') await runnable.reconcile(last) }
          else {
            try { msg.replyTo({ ok: true, value: await msg.fn(runnable) }) } catch (error) { msg.replyTo({ ok: false, error }) }
          }
          return s
        },
      }),
      last: null as Assignment | null,
    }
    this.actors.set(instance, entry)
    return entry
  }

  /** Runs `fn` inside the instance's actor (serialised with its reconciles). */
  private async call<T> (instance: string, fn: (r: Runnable) => Promise<T>, timeoutMs = 120_000): Promise<T> {
    const r = await ask(this.actorFor(instance).ref, replyTo => ({ type: 'runnable.call' as const, fn, replyTo }), timeoutMs)
    if (!r.ok) throw r.error
    return r.value as T
  }

  private hostOf (peerId: string): string {
    const rec = decodePeer(this.o.mesh.get(`peer/${peerId}`))
    for (const a of rec.addrs) {
      const m = /^\/ip[46]\/([^/]+)\//.exec(a)
      if (m && m[1] !== '0.0.0.0') return m[1] as string
    }
    return '127.0.0.1'
  }

  // ---- requests: location transparency ----

  /** The peer that runs `instance` (its live claimant), or null. */
  ownerOf (instance: string, claims: ReadonlyMap<string, Claim[]> = this.claims()): string | null {
    const alive = new Set(this.o.mesh.alive())
    alive.add(this.id)
    const cs = (claims.get(instance) ?? []).filter(c => alive.has(c.peerId)).sort((a, b) => b.epoch - a.epoch)
    return cs[0]?.peerId ?? null
  }

  /** Handles a runnable request here if this peer owns the instance, else forwards it to the owner. */
  async runnableRequest (instance: string, msg: { type: string } & Record<string, unknown>): Promise<unknown> {
    const inst = instance.replace(/^\/+/, '')
    const want = decodeWant(this.o.mesh.get(keys.want(inst)))
    if (!want) throw new PeerError('not-found', `${inst} is not running (run it with monk run ${inst})`)
    const owner = this.ownerOf(inst)
    if (owner === null) throw new PeerError('not-placed', `${inst} has no running owner yet`)
    if (owner !== this.id) {
      const reply = await this.o.mesh.request(owner, ACTOR_PROTOCOL, encodeCbor({ v: 1, instance: inst, msg }), { timeoutMs: 120_000 })
      const r = decodeCbor(reply) as { ok: boolean, value?: unknown, error?: { code: string, message: string } }
      if (!r.ok) throw new PeerError(r.error?.code ?? 'remote-error', r.error?.message ?? 'the owner peer failed')
      return r.value
    }
    return await this.localRunnableRequest(inst, want, msg)
  }

  private async localRunnableRequest (inst: string, want: WantRecord, msg: { type: string } & Record<string, unknown>): Promise<unknown> {
    switch (msg.type) {
      case 'runnable.action': return { output: await this.call(inst, r => r.action(want, String(msg.action), (msg.args ?? {}) as Record<string, unknown>)) }
      case 'runnable.exec': return await this.call(inst, r => r.exec(msg.cmd as string[], msg.container as string | undefined))
      case 'runnable.describe': return this.describe(inst)
      case 'runnable.logs-page': return await this.call(inst, r => r.logPage({ ...(typeof msg.tail === 'number' ? { tail: msg.tail } : {}), ...(typeof msg.since === 'string' ? { since: new Date(msg.since) } : {}), ...(typeof msg.container === 'string' ? { container: msg.container } : {}) }))
      case 'runnable.actions': return this.actionsOf(want.template)
      default: throw new PeerError('unknown-type', `unknown runnable message ${msg.type}`)
    }
  }

  private async onRemote (bytes: Uint8Array): Promise<Uint8Array> {
    try {
      const req = decodeCbor(bytes) as { v?: number, instance?: unknown, msg?: unknown }
      if (req.v !== 1 || typeof req.instance !== 'string' || typeof req.msg !== 'object' || req.msg === null || typeof (req.msg as { type?: unknown }).type !== 'string') {
        throw new PeerError('bad-request', 'malformed actor request')
      }
      const want = decodeWant(this.o.mesh.get(keys.want(req.instance)))
      if (!want) throw new PeerError('not-found', `${req.instance} is not wanted`)
      const value = await this.localRunnableRequest(req.instance, want, req.msg as { type: string })
      return encodeCbor({ ok: true, value: plain(value) })
    } catch (err) {
      const e = err as { code?: unknown, message?: unknown }
      return encodeCbor({ ok: false, error: { code: typeof e.code === 'string' ? e.code : 'remote-error', message: String(e.message ?? err) } })
    }
  }

  /**
   * Logs of an instance. On the owner they stream straight from the runtime; elsewhere they come
   * from the owner over `/monk/actor/1` as pages (`runnable.logs-page`), and a follow polls for the
   * lines written since the last page, re-finding the owner each time (it may move).
   */
  async logs (instance: string, opts: { follow?: boolean, tail?: number, container?: string }, signal: AbortSignal): Promise<AsyncIterable<unknown>> {
    const inst = instance.replace(/^\/+/, '')
    const owner = this.ownerOf(inst)
    if (owner === this.id) {
      const streams = await this.call(inst, r => r.logs(opts))
      return merge(streams, signal)
    }
    const page = async (o: { tail?: number, since?: string }): Promise<LogItem[]> =>
      await this.runnableRequest(inst, { type: 'runnable.logs-page', ...o, ...(opts.container ? { container: opts.container } : {}) }) as LogItem[]
    const first = await page(opts.tail !== undefined ? { tail: opts.tail } : {})
    const self = this
    return (async function * () {
      let last = first.at(-1)?.time
      yield * first
      while (opts.follow === true && !signal.aborted && !self.stopped) {
        await new Promise(resolve => setTimeout(resolve, LOG_POLL_MS))
        const next = await page(last !== undefined ? { since: last } : {}).catch(() => [] as LogItem[])
        for (const item of next) if (last === undefined || item.time > last) { yield item; last = item.time }
      }
    })()
  }

  private actionsOf (template: string): Array<{ name: string, description: string, arguments: Record<string, unknown> }> {
    const tpl = decodeTpl(this.o.mesh.get(keys.tpl(template)))
    const acts = tpl?.value.actions
    if (!acts || typeof acts !== 'object' || Array.isArray(acts)) return []
    return Object.entries(acts).map(([name, a]) => {
      const m = (a ?? {}) as Record<string, unknown>
      return { name, description: typeof m.description === 'string' ? m.description : '', arguments: (m.arguments ?? {}) as Record<string, unknown> }
    })
  }

  describe (inst: string): Record<string, unknown> {
    const want = decodeWant(this.o.mesh.get(keys.want(inst)))
    const rows = this.o.mesh.scan(keys.statusPrefix(inst)).map(e => ({ peer: e.key.slice(e.key.lastIndexOf('/') + 1), status: decodeStatus(e.value) }))
    const owner = this.ownerOf(inst)
    const st = rows.find(r => r.peer === owner)?.status ?? null
    return { instance: inst, template: want?.template ?? null, state: want?.state ?? null, peer: owner, peerName: owner ? decodePeer(this.o.mesh.get(`peer/${owner}`)).name : null, status: st }
  }

  // ---- peer requests ----

  async act (path: string, args: Record<string, ArrowValue>): Promise<ArrowValue> {
    const p = path.replace(/^\/+/, '')
    const i = p.lastIndexOf('/')
    const out = await this.runnableRequest(p.slice(0, i), { type: 'runnable.action', action: p.slice(i + 1), args: args as Record<string, unknown> }) as { output: ArrowValue }
    return out.output
  }

  async loadTemplates (files: Record<string, string>, paths: string[]): Promise<Record<string, unknown>> {
    const c = compileTemplates(files, paths, Date.now())
    const shape = (d: { code: string, message: string, file: string, line: number, column: number }) => ({ code: d.code, message: d.message, file: d.file, line: d.line, column: d.column })
    if (c.errors.length === 0) for (const r of c.records) await this.o.mesh.put(keys.tpl(r.path), r as unknown as never)
    return { files: c.files, loaded: c.errors.length ? [] : c.records.map(r => r.path), nodes: c.counts, errors: c.errors.map(shape), warnings: c.warnings.map(shape) }
  }

  /** Instances a path stands for: a runnable itself, or every runnable member of a group (recursively). */
  private instancesOf (path: string): Array<{ instance: string, template: string }> {
    const p = path.replace(/^\/+/, '').replace(/^templates\/[^/]+\//, '')
    const tpl = decodeTpl(this.o.mesh.get(keys.tpl(p)))
    if (!tpl) throw new PeerError('not-found', `no template "${p}" is loaded (monk load it first; monk list shows what is loaded)`)
    if (tpl.kind === 'runnable') return [{ instance: p, template: p }]
    if (tpl.kind === 'group' || tpl.kind === 'process-group') {
      const out: Array<{ instance: string, template: string }> = []
      const seen = new Set<string>([p])
      const walk = (g: string): void => {
        const t = decodeTpl(this.o.mesh.get(keys.tpl(g)))
        for (const m of t?.members ?? []) {
          if (seen.has(m)) continue
          seen.add(m)
          const mt = decodeTpl(this.o.mesh.get(keys.tpl(m)))
          if (mt?.kind === 'runnable') out.push({ instance: m, template: m })
          else if (mt?.kind === 'group' || mt?.kind === 'process-group') walk(m)
        }
      }
      walk(p)
      return out
    }
    throw new PeerError('not-runnable', `${p} is a ${tpl.kind}; only runnables and groups can run`)
  }

  async run (path: string, o: { tags?: string[], peer?: string, set?: Record<string, string>, forceMove?: boolean, restart?: boolean }): Promise<{ instances: string[] }> {
    const list = this.instancesOf(path)
    const root = path.replace(/^\/+/, '')
    const wants: Array<[string, WantRecord]> = []
    for (const { instance, template } of list) {
      const prev = decodeWant(this.o.mesh.get(keys.want(instance)))
      const claims = this.claims().get(instance) ?? []
      const set: Record<string, string> = {}
      for (const [k, v] of Object.entries(o.set ?? {})) {
        // `ns/runnable/var=value` addresses a member; a bare name the run target (every member).
        const i = k.lastIndexOf('/')
        if (i < 0) set[k] = v
        else if (k.slice(0, i).replace(/^\/+/, '') === instance) set[k.slice(i + 1)] = v
      }
      const w: WantRecord = {
        template, state: 'run', root,
        set: { ...(prev?.set ?? {}), ...set },
        tags: o.tags ?? prev?.tags ?? [],
        peer: o.peer ?? prev?.peer ?? null,
        forceMove: o.forceMove ? Math.max(0, ...claims.map(c => c.epoch)) + 1 : prev?.forceMove ?? 0,
        generation: (prev?.generation ?? 0) + (o.restart || !prev || prev.state !== 'run' ? 1 : 0),
        updatedAt: Date.now(),
      }
      // A required variable without a value fails the run before anything starts anywhere.
      const tpl = decodeTpl(this.o.mesh.get(keys.tpl(template)))
      if (tpl) {
        const groups = tpl.groups.map(g => decodeTpl(this.o.mesh.get(keys.tpl(g)))?.value).filter(v => v !== undefined)
        const missing = missingRequired(buildScope(tpl.value, groups, w.set))
        if (missing.length) throw new PeerError('required-variable', `${instance}: required variable ${missing.join(', ')} has no value (give it with --set ${instance}/${missing[0]}=VALUE or a variables file)`)
      }
      wants.push([instance, w])
    }
    for (const [instance, w] of wants) await this.o.mesh.put(keys.want(instance), w as unknown as never)
    return { instances: list.map(l => l.instance) }
  }

  async stopWorkload (path: string): Promise<{ instances: string[] }> {
    const list = this.instancesOf(path)
    for (const { instance } of list) {
      const prev = decodeWant(this.o.mesh.get(keys.want(instance)))
      if (prev) await this.o.mesh.put(keys.want(instance), { ...prev, state: 'stop', updatedAt: Date.now() } as unknown as never)
    }
    return { instances: list.map(l => l.instance) }
  }

  async purge (path: string, excise: boolean): Promise<{ instances: string[] }> {
    const list = this.instancesOf(path)
    for (const { instance } of list) await this.o.mesh.delete(keys.want(instance))
    if (excise) for (const { template } of list) await this.o.mesh.delete(keys.tpl(template))
    if (excise) await this.o.mesh.delete(keys.tpl(path.replace(/^\/+/, '')))
    return { instances: list.map(l => l.instance) }
  }

  ps (o: { all?: boolean, peer?: string, tag?: string }): Array<Record<string, unknown>> {
    const peers = new Map(this.o.mesh.peers().map(p => [p.id, { ...decodePeer(p.record), alive: p.state === 'alive' || p.self }]))
    const rows: Array<Record<string, unknown>> = []
    const claims = this.claims() // one scan of claim/ for the whole listing
    for (const [inst, w] of this.wants()) {
      if (w.state !== 'run' && !o.all) continue
      const owner = this.ownerOf(inst, claims)
      const st: StatusRecord | undefined = owner ? decodeStatus(this.o.mesh.get(keys.status(inst, owner))) : undefined
      const pr = owner ? peers.get(owner) : undefined
      if (o.peer && owner !== o.peer && pr?.name !== o.peer) continue
      if (o.tag && !(pr?.tags ?? []).includes(o.tag)) continue
      const status = w.state === 'stop' ? 'stopped' : st?.state ?? 'starting'
      rows.push({ instance: inst, peer: owner ?? '', peerName: pr?.name ?? '', status, containers: (st?.containers ?? []).map(c => ({ name: c.name, image: c.image, status: c.status })), ...(st?.error ? { error: st.error } : {}) })
    }
    return rows.sort((a, b) => String(a.instance).localeCompare(String(b.instance)))
  }

  listTemplates (kind?: string): Array<Record<string, unknown>> {
    return this.o.mesh.scan('tpl/').map(e => decodeTpl(e.value)).filter(t => t !== undefined && (!kind || t.kind === kind)).map(t => ({ path: t!.path, kind: t!.kind, file: t!.file }))
  }

  templateInfo (path: string): Record<string, unknown> {
    const t = decodeTpl(this.o.mesh.get(keys.tpl(path.replace(/^\/+/, ''))))
    if (!t) throw new PeerError('not-found', `no template "${path}" is loaded`)
    return { ...t }
  }

  async secretAdd (scope: string, name: string, value: string): Promise<{ scope: string, name: string }> {
    const s = checkScope(scope)
    await this.o.mesh.put(keys.secret(s, name), this.box.seal(s, name, value) as unknown as never)
    return { scope: s, name }
  }

  async secretRm (scope: string, name: string): Promise<{ scope: string, name: string }> {
    const s = checkScope(scope)
    if (this.o.mesh.get(keys.secret(s, name)) === undefined) throw new SecretError('secret-not-found', `no secret "${name}" in ${s}`)
    await this.o.mesh.delete(keys.secret(s, name))
    return { scope: s, name }
  }

  secretList (scope?: string): Array<{ scope: string, name: string }> {
    const s = scope === undefined ? undefined : checkScope(scope)
    return this.o.mesh.scan('secret/').map(e => {
      const rest = e.key.slice('secret/'.length)
      const i = rest.lastIndexOf('/')
      return { scope: rest.slice(0, i), name: rest.slice(i + 1) }
    }).filter(x => s === undefined || x.scope === s)
  }

  peersList (): Array<Record<string, unknown>> {
    return this.o.mesh.peers().map(p => {
      const r = decodePeer(p.record)
      return { id: p.id, name: r.name, tags: r.tags, alive: p.self || p.state === 'alive', addrs: r.addrs }
    }).filter(p => decodePeer(this.o.mesh.get(`peer/${String(p.id)}`)).leftAt === null || p.alive)
  }

  async setTags (tags: string[]): Promise<void> {
    this.o.tags.splice(0, this.o.tags.length, ...tags)
    await this.o.mesh.announce({ tags })
  }

  status (): Record<string, unknown> {
    return { peerId: this.id, name: this.o.name, tags: this.o.tags, runtime: this.o.runtime.kind, clusterId: this.o.mesh.clusterId, synced: this.o.mesh.synced, peers: this.o.mesh.alive().length, addrs: this.o.mesh.addresses() }
  }

  token (): string { return this.o.mesh.token() }
}

export { RunnableError }

/** Replies cross the wire as CBOR: keep them plain. */
function plain (v: unknown): Value {
  return JSON.parse(JSON.stringify(v ?? null)) as Value
}

async function * merge (streams: Array<{ container: string, stream: AsyncIterable<{ time: Date, stream: 'stdout' | 'stderr', text: string }> & { close: () => void } }>, signal: AbortSignal): AsyncGenerator<unknown> {
  const queue: unknown[] = []
  const bell: { wake: (() => void) | null } = { wake: null }
  const ring = (): void => { bell.wake?.() }
  let open = streams.length
  const onAbort = (): void => { for (const s of streams) s.stream.close(); ring() }
  signal.addEventListener('abort', onAbort, { once: true })
  for (const s of streams) {
    void (async () => {
      try { for await (const l of s.stream) { queue.push({ time: l.time.toISOString(), stream: l.stream, container: s.container, text: l.text }); ring() } } finally { open--; ring() }
    })()
  }
  try {
    while (!signal.aborted) {
      if (queue.length) { yield queue.shift(); continue }
      if (open === 0) break
      await new Promise<void>(resolve => { bell.wake = resolve })
      bell.wake = null
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    for (const s of streams) s.stream.close()
  }
}
