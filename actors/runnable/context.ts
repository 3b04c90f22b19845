// What every part of a runnable actor shares: the peer's services (RunnableDeps) and one
// instance's view of them: its template as a typed spec, its variables, its containers.
import type { ArrowHost, ArrowValue } from '../../grammar/arrow/index.js'
import type { MapValue, Value } from '../../grammar/monkscript/index.js'
import { runnableSpec, type ConnectionDecl, type RunnableSpec } from '../../grammar/monkscript/runnable-spec.js'
import { buildScope, builtinVariables, ScopeVars } from '../../grammar/monkscript/variables.js'
import type { Scheduler, Logger } from '../kit/index.js'
import { containerName } from '../runtime/spec.js'
import { LABEL_CONTAINER, LABEL_INSTANCE, LABEL_PEER, type ContainerSummary, type Runtime } from '../runtime/runtime.js'
import type { SecretSealer } from '../secrets.js'
import { decodeTpl, keys, type TplRecord, type WantRecord } from '../state.js'
import { RunnableError } from './errors.js'
import { instanceVolumeDir } from './volumes.js'
import type { HostPorts } from './ports.js'
import type { Assignment } from './decide.js'

/** What a runnable needs from the peer around it. */
export interface RunnableDeps {
  peerId: string
  peerName: string
  home: string
  runtime: Runtime
  log: Logger
  secrets: SecretSealer
  /** Replica access (only keys this peer may write are written). */
  get: (key: string) => unknown
  scan: (prefix: string) => Array<{ key: string, value: unknown }>
  put: (key: string, value: Value) => Promise<void>
  del: (key: string) => Promise<void>
  /** Host address other peers reach this peer's services on (from its advertised addresses). */
  hostOf: (peerId: string) => string
  /** `act`: run an action of another runnable wherever it lives. */
  act: (path: string, args: Record<string, ArrowValue>) => Promise<ArrowValue>
  /** Host ports held by the instances of this peer (shared by its runnable actors). */
  ports?: HostPorts
  /**
   * The assignment placement last gave `instance`. An actor restarted after a crash starts from it:
   * placement tells an actor only what changed, so without it a restarted owner would sit idle.
   */
  assignment?: (instance: string) => Assignment | null
  /** The overlay (actors/cluster/overlay.ts): the local endpoint of a connection of an instance here. */
  overlay?: { endpoint: (consumer: string, conn: ConnectionDecl) => Promise<{ host: string, port: number }> }
}

/** A template with its typed spec (computed once per loaded version). */
export interface Template { tpl: TplRecord, spec: RunnableSpec }

export class InstanceContext {
  private cached: { key: string, loadedAt: number, t: Template } | null = null

  constructor (readonly instance: string, readonly d: RunnableDeps, readonly clock: Scheduler) {}

  /** The loaded template at `path`, with its spec; problems of the spec are logged once per load. */
  template (path: string): Template | undefined {
    const tpl = decodeTpl(this.d.get(keys.tpl(path)))
    if (!tpl) return undefined
    if (this.cached?.key === path && this.cached.loadedAt === tpl.loadedAt) return this.cached.t
    const { spec, problems } = runnableSpec(tpl.path, tpl.value)
    for (const p of problems) this.d.log.warn({ instance: this.instance, field: p.field }, `${tpl.path} (${tpl.file}): ${p.message}`)
    const t = { tpl, spec }
    this.cached = { key: path, loadedAt: tpl.loadedAt, t }
    return t
  }

  /** The template of a want, or an error saying why it cannot run. */
  runnable (want: WantRecord): Template {
    const t = this.template(want.template)
    if (!t) throw new RunnableError('template-missing', `template ${want.template} is not loaded on this peer (run \`monk load\` first)`)
    if (t.tpl.kind !== 'runnable' && t.tpl.kind !== 'service') throw new RunnableError('not-runnable', `${want.template} is a ${t.tpl.kind}, not a runnable or service`)
    return t
  }

  /** The variables of this instance in spec §2.6 order, evaluated lazily with `host`. */
  vars (want: WantRecord, t: Template, host: ArrowHost, args?: Record<string, ArrowValue>): ScopeVars {
    const groups = t.tpl.groups.map(g => decodeTpl(this.d.get(keys.tpl(g)))?.value).filter((v): v is MapValue => v !== undefined)
    const builtins = builtinVariables({ volumePath: instanceVolumeDir(this.d.home, this.instance), ...(args ? { args } : {}) })
    return new ScopeVars(buildScope(t.tpl.value, groups, want.set, builtins), { host })
  }

  /**
   * Runtime name of a container: per instance, container and peer, so two peers sharing one engine
   * (several monkd on one host) never take each other's containers by name.
   */
  nameOf (container: string): string {
    return containerName(`${this.instance}@${this.d.peerId.slice(-8)}`, container)
  }

  async containers (): Promise<ContainerSummary[]> {
    return await this.d.runtime.list({ [LABEL_INSTANCE]: this.instance, [LABEL_PEER]: this.d.peerId })
  }

  /** The container named `container` (or the first) of this instance on this peer. */
  async pick (container?: string): Promise<ContainerSummary> {
    const list = await this.containers()
    const c = container ? list.find(x => x.labels[LABEL_CONTAINER] === container) : list[0]
    if (!c) {
      const names = list.map(x => x.labels[LABEL_CONTAINER] ?? x.name).sort()
      throw new RunnableError('not-found', container ? `${this.instance} has no container "${container}" on this peer (its containers: ${names.join(', ') || 'none'})` : `${this.instance} runs no container on this peer`)
    }
    return c
  }

  async stopContainers (list: ContainerSummary[]): Promise<void> {
    for (const c of list) {
      try { await this.d.runtime.stop(c.id) } catch (err) { this.d.log.warn({ err, container: c.name }, `could not stop container ${c.name} of ${this.instance}`) }
    }
  }

  async removeContainers (list: ContainerSummary[]): Promise<void> {
    for (const c of list) {
      try { await this.d.runtime.remove(c.id, { force: true }) } catch (err) { this.d.log.warn({ err, container: c.name }, `could not remove container ${c.name} of ${this.instance}`) }
    }
  }
}
