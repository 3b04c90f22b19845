// Client operations of a chaos run, through the real control API of a random live peer: load a tiny
// kit, run, stop, purge (sometimes excise), and a register of secrets written and removed. Every
// operation that writes a replicated key is recorded with its outcome for the checker. A key is only
// written through a peer that already holds its current value (read first through `fault.read`),
// so every acknowledged write is causally after the previous one of that key.
import { ApiRequestError, DaemonDownError } from '../cli/api/errors.js'
import type { FaultRead } from '../cli/fault.js'
import type { KeyOp, Outcome, PeerValues, RunOp } from './checker.js'
import { allowedValues, settledOps } from './checker.js'
import type { Cluster, Node } from './cluster.js'
import type { Rng } from './random.js'

export const TEST_IMAGE = 'monk-test/busybox:1'
const INSTANCES = 4
const REGISTER_KEYS = 6

export interface OpRecord {
  seq: number
  round: number
  kind: string
  via: string
  target: string
  outcome: Outcome | 'skipped'
  error?: string
  invokedAt: number
  ackAt: number
}

export class Workload {
  readonly keyOps: KeyOp[] = []
  readonly runOps: RunOp[] = []
  readonly instances: string[]
  private seq = 0
  private freshKey = REGISTER_KEYS

  constructor (readonly ns: string, private readonly cluster: Cluster, private readonly rng: Rng, private readonly record: (r: OpRecord) => void) {
    this.instances = Array.from({ length: INSTANCES }, (_, i) => `${ns}/w${i}`)
  }

  /** Replicated-key prefixes the checker compares on every peer. */
  get prefixes (): string[] { return [`secret/${this.ns}/`, `want/${this.ns}/`, `tpl/${this.ns}/`] }
  private get scope (): string { return `${this.ns}/reg` }

  kit (): { files: Record<string, string>, paths: string[] } {
    const yaml = [`namespace: ${this.ns}`, ...this.instances.map(i => `${i.slice(this.ns.length + 1)}:\n  defines: runnable\n  containers:\n    main:\n      image: ${TEST_IMAGE}\n      bash: exec sleep 3600`)].join('\n') + '\n'
    return { files: { '/chaos/kit.yaml': yaml }, paths: ['/chaos/kit.yaml'] }
  }

  /** Acknowledged writes so far. */
  get acked (): number { return new Set(this.keyOps.filter(o => o.outcome === 'ok' && o.settled !== true).map(o => o.seq)).size }

  /** After a converged heal: keys left ambiguous by `info` ops take the value every peer holds (checker.settledOps). */
  settle (views: readonly PeerValues[]): KeyOp[] {
    const settled = settledOps(this.keyOps, views)
    this.keyOps.push(...settled)
    return settled
  }

  /** Loads the kit (round -1); throws if it is refused. */
  async setup (): Promise<void> {
    const r = await this.op(-1, 'load', 'kit', this.cluster.nodes[0]!)
    if (r !== 'ok') throw new Error('loading the chaos kit failed')
  }

  /** One random operation from a random live peer; half of them through `focus` (the faulted peer) when it is live. */
  async step (round: number, focus?: number): Promise<void> {
    const live = this.cluster.live()
    const onFocus = this.rng.chance(0.5)
    const drawn = this.rng.int(0, this.cluster.nodes.length - 1)
    const start = onFocus && focus !== undefined && this.cluster.nodes[focus]?.live === true ? focus : drawn
    const roll = this.rng.next()
    const pickKey = this.rng.int(0, REGISTER_KEYS - 1)
    const pickInst = this.rng.int(0, INSTANCES - 1)
    const excise = this.rng.chance(0.3)
    if (live.length === 0) { this.skip(round, 'any', 'no live peer'); return }
    const via = live.find(n => n.index >= start) ?? live[0]!
    if (roll < 0.35) await this.put(round, via, pickKey)
    else if (roll < 0.5) await this.del(round, via, pickKey)
    else if (roll < 0.7) await this.runOp(round, via, 'run', pickInst, false)
    else if (roll < 0.8) await this.runOp(round, via, 'stop', pickInst, false)
    else if (roll < 0.9) await this.runOp(round, via, 'purge', pickInst, excise)
    else await this.load(round, via)
  }

  /** Loads the kit through `via` if it holds the current template of every instance (else its load could lose by HLC). */
  private async load (round: number, via: Node): Promise<void> {
    const view = await this.read(via, `tpl/${this.ns}/`)
    if (!view) { this.skip(round, 'load', 'peer unreadable', via); return }
    const stale = this.instances.filter(i => !this.current(`tpl/${i}`, view))
    if (stale.length) { this.skip(round, 'load', `${stale.join(', ')} stale on ${via.name}`, via); return }
    await this.op(round, 'load', 'kit', via)
  }

  private async put (round: number, via: Node, k: number): Promise<void> {
    const view = await this.read(via, `secret/${this.ns}/`)
    if (!view) { this.skip(round, 'put', 'peer unreadable', via); return }
    let key = this.secretKey(`k${k}`)
    if (!this.current(key, view)) key = this.secretKey(`k${this.freshKey++}`)
    await this.op(round, 'put', key, via)
  }

  private async del (round: number, via: Node, k: number): Promise<void> {
    const view = await this.read(via, `secret/${this.ns}/`)
    if (!view) { this.skip(round, 'del', 'peer unreadable', via); return }
    const key = this.secretKey(`k${k}`)
    if (!this.current(key, view) || view.values[key] === undefined) { this.skip(round, 'del', `${key} absent or stale on ${via.name}`, via); return }
    await this.op(round, 'del', key, via)
  }

  private async runOp (round: number, via: Node, kind: 'run' | 'stop' | 'purge', i: number, excise: boolean): Promise<void> {
    const inst = this.instances[i]!
    const views = [await this.read(via, `want/${this.ns}/`), await this.read(via, `tpl/${this.ns}/`)]
    if (!views[0] || !views[1]) { this.skip(round, kind, 'peer unreadable', via); return }
    const tplHere = views[1].values[`tpl/${inst}`] !== undefined
    if (!this.current(`want/${inst}`, views[0]) || !this.current(`tpl/${inst}`, views[1])) { this.skip(round, kind, `${inst} stale on ${via.name}`, via); return }
    if (!tplHere) { await this.load(round, via); return }
    if (kind === 'stop' && views[0].values[`want/${inst}`] === undefined) { this.skip(round, kind, `${inst} not wanted`, via); return }
    await this.op(round, excise && kind === 'purge' ? 'excise' : kind, inst, via)
  }

  /** Whether `view` holds the one value the history allows for `key`. */
  private current (key: string, view: FaultRead): boolean {
    const { allowed } = allowedValues(this.keyOps.filter(o => o.key === key))
    if (allowed.length !== 1) return false
    const have = view.values[key]
    return allowed[0] === '<absent>' ? have === undefined : allowed[0] === '*' ? have !== undefined : have === allowed[0]
  }

  private secretKey (name: string): string { return `secret/${this.scope}/${name}` }

  private async read (n: Node, prefix: string): Promise<FaultRead | undefined> {
    return await n.fault<FaultRead>({ type: 'fault.read', prefix }, 5000).catch(() => undefined)
  }

  private skip (round: number, kind: string, why: string, via?: Node): void {
    const now = Date.now()
    this.record({ seq: ++this.seq, round, kind, via: via?.name ?? '', target: '', outcome: 'skipped', error: why, invokedAt: now, ackAt: now })
  }

  /** Sends one operation and records it and the keys it writes. */
  private async op (round: number, kind: string, target: string, via: Node): Promise<Outcome> {
    const seq = ++this.seq
    const invokedAt = Date.now()
    const name = target.slice(target.lastIndexOf('/') + 1)
    const message: { type: string } & Record<string, unknown> =
      kind === 'put' ? { type: 'secrets.add', scope: this.scope, name, value: `v${seq}` }
        : kind === 'del' ? { type: 'secrets.rm', scope: this.scope, name }
          : kind === 'load' ? { type: 'templates.load', ...this.kit() }
            : kind === 'run' ? { type: 'workload.run', path: target }
              : kind === 'stop' ? { type: 'workload.stop', path: target }
                : { type: 'workload.purge', path: target, ...(kind === 'excise' ? { excise: true } : {}) }
    let outcome: Outcome = 'ok'
    let error: string | undefined
    try {
      await via.client.request('peer', message, { timeoutMs: 15_000 })
    } catch (err) {
      error = `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`.trim()
      outcome = classify(err)
    }
    const ackAt = Date.now()
    // Several keys in one operation: a refusal may come after some were written, so it is unknown.
    const multi = kind === 'load' || kind === 'excise' || kind === 'purge'
    const keyOutcome: Outcome = outcome === 'fail' && multi ? 'info' : outcome
    const written = this.keysOf(kind, target)
    const after = outcome === 'ok' ? await this.read(via, written[0]!.key.slice(0, written[0]!.key.indexOf('/') + 1) + this.ns + '/') : undefined
    for (const w of written) {
      const value = w.op === 'del' ? undefined : after?.values[w.key] ?? '*'
      this.keyOps.push({ key: w.key, op: w.op, ...(value !== undefined ? { value } : {}), outcome: keyOutcome, seq })
    }
    const inst = kind === 'run' || kind === 'stop' || kind === 'purge' || kind === 'excise' ? target : undefined
    if (inst) this.runOps.push({ instance: inst, op: kind === 'excise' ? 'purge' : kind as RunOp['op'], outcome: keyOutcome, seq })
    this.record({ seq, round, kind, via: via.name, target, outcome, ...(error ? { error } : {}), invokedAt, ackAt })
    return outcome
  }

  private keysOf (kind: string, target: string): Array<{ key: string, op: 'put' | 'del' }> {
    switch (kind) {
      case 'put': return [{ key: target, op: 'put' }]
      case 'del': return [{ key: target, op: 'del' }]
      case 'load': return this.instances.map(i => ({ key: `tpl/${i}`, op: 'put' as const }))
      case 'run': case 'stop': return [{ key: `want/${target}`, op: 'put' }]
      case 'purge': return [{ key: `want/${target}`, op: 'del' }]
      default: return [{ key: `want/${target}`, op: 'del' }, { key: `tpl/${target}`, op: 'del' }]
    }
  }
}

/** A definite refusal (4xx, or no daemon to send to) is `fail`; anything that may have been applied is `info`. */
export function classify (err: unknown): Outcome {
  if (err instanceof DaemonDownError) return 'fail'
  if (err instanceof ApiRequestError) return err.status >= 400 && err.status < 500 ? 'fail' : 'info'
  return 'info'
}
