// The invariants of a chaos run, as pure functions of the history and of what the peers report, so
// a self-test can feed them a lost write or a resurrection and see it counted.
//
// Registers: every client operation that writes a replicated key is recorded with its outcome:
// `ok` (acknowledged), `fail` (a definite refusal: the daemon answered 4xx) or `info` (unknown:
// timeout, connection lost, 5xx; it may or may not have taken effect). After a heal, a key's value
// on every peer must be what the last acknowledged operation left, or what a later `info`
// operation may have left. The harness only writes a key through a peer that already has the
// key's current value, so each write is causally after the previous one and wins by HLC.
// An `info` operation leaves a key ambiguous (several allowed values); after a heal, once every
// peer holds one of them, that value is settled (settledOps) so later writes can go on: otherwise
// one timed-out load would stop every later load, run, stop and purge for the rest of the run.

export type Outcome = 'ok' | 'fail' | 'info'

export interface KeyOp {
  key: string
  /** put with the value's hash ('*' = any value), or delete. */
  op: 'put' | 'del'
  value?: string
  outcome: Outcome
  /** Sequence number of the client operation that wrote it. */
  seq: number
  /** Not a client write: the value every peer was seen to agree on after a heal (settledOps). */
  settled?: boolean
}

/** One peer's live values under the tracked prefixes: key → hash (absent = deleted or never written). */
export interface PeerValues { peer: string, values: Readonly<Record<string, string>> }

export interface Violation {
  kind: 'lost' | 'resurrected' | 'phantom'
  key: string
  peer: string
  /** What the history allows. */
  expected: string[]
  observed: string
  /** The acknowledged operation that was lost or undone (seq), when there is one. */
  seq?: number
}

const ABSENT = '<absent>'

/** The values a key may hold now, from its operations in issue order; undefined when nothing was ever attempted. */
export function allowedValues (ops: readonly KeyOp[]): { last: KeyOp | undefined, allowed: string[] } {
  let lastOk = -1
  for (let i = 0; i < ops.length; i++) if (ops[i]!.outcome === 'ok') lastOk = i
  const last = lastOk >= 0 ? ops[lastOk] : undefined
  const allowed = [last ? valueOf(last) : ABSENT]
  for (let i = lastOk + 1; i < ops.length; i++) if (ops[i]!.outcome === 'info') allowed.push(valueOf(ops[i]!))
  return { last, allowed: [...new Set(allowed)] }
}

function valueOf (op: KeyOp): string { return op.op === 'del' ? ABSENT : op.value ?? '*' }

function matches (allowed: readonly string[], observed: string): boolean {
  return allowed.some(a => a === observed || (a === '*' && observed !== ABSENT))
}

/**
 * Keys left ambiguous by `info` operations (more than one allowed value) on which every peer now
 * agrees on one allowed value: that value becomes the key's definite state (an `ok` op marked
 * `settled`). Call only after convergence. A key whose peers disagree, or hold a value the history
 * does not allow (a violation), is not settled.
 */
export function settledOps (ops: readonly KeyOp[], peers: readonly PeerValues[]): KeyOp[] {
  if (peers.length === 0) return []
  const byKey = new Map<string, KeyOp[]>()
  for (const op of ops) { const l = byKey.get(op.key) ?? []; l.push(op); byKey.set(op.key, l) }
  const out: KeyOp[] = []
  for (const [key, list] of byKey) {
    const { allowed } = allowedValues(list)
    if (allowed.length < 2) continue
    const seen = new Set(peers.map(p => p.values[key] ?? ABSENT))
    if (seen.size !== 1) continue
    const observed = [...seen][0]!
    if (!matches(allowed, observed)) continue
    const seq = list[list.length - 1]!.seq
    out.push(observed === ABSENT ? { key, op: 'del', outcome: 'ok', seq, settled: true } : { key, op: 'put', value: observed, outcome: 'ok', seq, settled: true })
  }
  return out
}

/** Register violations: lost acknowledged writes, deleted keys back, failed writes that took effect. */
export function checkRegisters (ops: readonly KeyOp[], peers: readonly PeerValues[], prefixes: readonly string[]): Violation[] {
  const byKey = new Map<string, KeyOp[]>()
  for (const op of ops) { const l = byKey.get(op.key) ?? []; l.push(op); byKey.set(op.key, l) }
  const out: Violation[] = []
  const keys = new Set<string>(byKey.keys())
  // A key under a tracked prefix that no operation wrote is checked too (it must stay absent).
  for (const p of peers) for (const k of Object.keys(p.values)) if (prefixes.some(x => k.startsWith(x))) keys.add(k)
  for (const key of [...keys].sort()) {
    const list = byKey.get(key) ?? []
    const { last, allowed } = allowedValues(list)
    for (const p of peers) {
      const observed = p.values[key] ?? ABSENT
      if (matches(allowed, observed)) continue
      const base = { key, peer: p.peer, expected: allowed, observed }
      if (last?.op === 'put') out.push({ kind: 'lost', ...base, seq: last.seq })
      else if (observed !== ABSENT && (last?.op === 'del' || list.some(o => o.op === 'del' && o.outcome !== 'fail'))) out.push({ kind: 'resurrected', ...base, ...(last ? { seq: last.seq } : {}) })
      else out.push({ kind: 'phantom', ...base })
    }
  }
  return out
}

/** Run operations of one instance, in issue order. */
export interface RunOp { instance: string, op: 'run' | 'stop' | 'purge', outcome: Outcome, seq: number }

/** Copies the history wants of each instance: 1, 0, or undefined when unknown (an `info` op left it open). */
export function wantedCopies (ops: readonly RunOp[], instances: readonly string[]): Map<string, 0 | 1 | undefined> {
  const out = new Map<string, 0 | 1 | undefined>()
  for (const inst of instances) {
    const list = ops.filter(o => o.instance === inst)
    let lastOk = -1
    for (let i = 0; i < list.length; i++) if (list[i]!.outcome === 'ok') lastOk = i
    const copies = (o: RunOp | undefined): 0 | 1 => o?.op === 'run' ? 1 : 0
    const options = new Set<0 | 1>([copies(lastOk >= 0 ? list[lastOk] : undefined)])
    for (let i = lastOk + 1; i < list.length; i++) if (list[i]!.outcome === 'info') options.add(copies(list[i]))
    out.set(inst, options.size === 1 ? [...options][0] : undefined)
  }
  return out
}

/** What one peer's `workload.ps` says of an instance: the owner id when running, else ''. */
export interface PsView { peer: string, running: Readonly<Record<string, string>> }

export interface RunVerdict { instance: string, wanted: 0 | 1, real: number, views: Record<string, string>, kind: 'ok' | 'double' | 'missing' }

/**
 * Compares wanted copies with the real processes/containers and every peer's ps. Wanted 1: exactly
 * one real copy and every peer reports it running on the same owner. Wanted 0: no real copy and no
 * peer reports it running. More copies than wanted (or a stopped instance still reported running)
 * is `double`; fewer, or peers that disagree about the owner, `missing`.
 */
export function checkRuns (wanted: ReadonlyMap<string, 0 | 1 | undefined>, real: ReadonlyMap<string, number>, views: readonly PsView[]): RunVerdict[] {
  const out: RunVerdict[] = []
  for (const [instance, w] of wanted) {
    if (w === undefined) continue
    const n = real.get(instance) ?? 0
    const seen: Record<string, string> = {}
    for (const v of views) seen[v.peer] = v.running[instance] ?? ''
    const owners = new Set(Object.values(seen))
    let kind: RunVerdict['kind']
    if (w === 1) kind = n > 1 ? 'double' : n === 1 && owners.size === 1 && !owners.has('') ? 'ok' : 'missing'
    else kind = n > 0 || [...owners].some(o => o !== '') ? 'double' : 'ok'
    out.push({ instance, wanted: w, real: n, views: seen, kind })
  }
  return out
}

/** Nearest-rank percentile of `values` (0 when empty). */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return 0
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number
}
