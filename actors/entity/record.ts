// The replicated record of one entity instance, `entity/<instance>/<peerId>`: owned like a claim,
// written only by the peer that ran the lifecycle. After a failover the new owner continues from
// the newest copy any peer wrote (highest `seq`), so create never runs twice for one instance.
import type { Value } from '../../mesh/value.js'
import { isObj } from '../values.js'

export interface EntityRecord {
  v: 1
  /** The lifecycle's state (what main returned last). */
  state: Record<string, unknown>
  /** create succeeded (failover and restarts never run it again). */
  created: boolean
  /** sha256 of the definition the last create/update ran with (update skips when unchanged). */
  hash: string
  /** The want generation the last start ran for (null: never started). */
  startedGen: number | null
  /** The want generation the last stop ran for. */
  stoppedGen: number | null
  lastAction: string
  lastOutput: string[]
  lastError: string | null
  /** Grows by one per persisted action: the newest copy wins. */
  seq: number
  updatedAt: number
}

export const entityKey = (instance: string, peer: string): string => `entity/${instance}/${peer}`
export const entityPrefix = (instance: string): string => `entity/${instance}/`

export function emptyRecord (): EntityRecord {
  return { v: 1, state: {}, created: false, hash: '', startedGen: null, stoppedGen: null, lastAction: '', lastOutput: [], lastError: null, seq: 0, updatedAt: 0 }
}

const num = (v: unknown): number | null => typeof v === 'number' && Number.isFinite(v) ? v : null

/** Decodes a record defensively (it came from some peer). */
export function decodeEntity (v: unknown): EntityRecord | undefined {
  if (!isObj(v) || v.v !== 1 || !isObj(v.state)) return undefined
  return {
    v: 1,
    state: JSON.parse(JSON.stringify(v.state)) as Record<string, unknown>,
    created: v.created === true,
    hash: typeof v.hash === 'string' ? v.hash : '',
    startedGen: num(v.startedGen),
    stoppedGen: num(v.stoppedGen),
    lastAction: typeof v.lastAction === 'string' ? v.lastAction : '',
    lastOutput: Array.isArray(v.lastOutput) ? v.lastOutput.filter((x): x is string => typeof x === 'string') : [],
    lastError: typeof v.lastError === 'string' ? v.lastError : null,
    seq: num(v.seq) ?? 0,
    updatedAt: num(v.updatedAt) ?? 0,
  }
}

/** The record as the replica stores it (plain JSON data). */
export function encodeEntity (r: EntityRecord): Value {
  return JSON.parse(JSON.stringify(r)) as Value
}

/** The newest copy among the peers' entries, or undefined. */
export function newestEntity (entries: ReadonlyArray<{ key: string, value: unknown }>): EntityRecord | undefined {
  let best: EntityRecord | undefined
  for (const e of entries) {
    const r = decodeEntity(e.value)
    if (r && (best === undefined || r.seq > best.seq || (r.seq === best.seq && r.updatedAt > best.updatedAt))) best = r
  }
  return best
}
