// Fault injection for chaos testing (chaos/): a control-API actor `fault` that cuts this peer off
// from chosen peers (the mesh's connection gater), skews its clock by an offset, and reads what a
// checker needs (replica digest root, value hashes under a prefix). It works only when monkd runs
// with --enable-fault-injection; otherwise every fault message answers 403 `fault-injection-disabled`.
import { createHash } from 'node:crypto'
import { encode as encodeCbor } from 'cborg'
import type { SecretSealer } from '../actors/secrets.js'
import type { Clock } from '../mesh/clock.js'
import type { ConnectionView, Mesh, MeshConfig } from '../mesh/mesh.js'
import type { Route } from './api/routes.js'
import type { ApiMessage } from './api/protocol.js'
import type { Dispatch } from './api/server.js'
import type * as v from 'valibot'
import { int, list, message, text } from '../actors/messages/fields.js'

export const FAULT_FLAG = 'enable-fault-injection'
/** The largest clock offset the endpoint accepts (10 years, to test far-ahead clocks). */
const MAX_OFFSET_MS = 10 * 365 * 24 * 3600_000

export const faultMessages = {
  /** `{enabled, offsetMs, blocked}`. */
  'fault.status': message('fault.status', {}),
  /** Cuts this peer off from `peers` (peer ids) at the transport until `fault.heal`. */
  'fault.partition': message('fault.partition', { peers: list(text(1, 256), 0, 10_000) }),
  /** Lifts every partition block. */
  'fault.heal': message('fault.heal', {}),
  /** Sets the offset (ms) added to this peer's wall clock as the mesh sees it; 0 restores it. */
  'fault.clock': message('fault.clock', { offsetMs: int(-MAX_OFFSET_MS, MAX_OFFSET_MS) }),
  /** Digest root, liveness and sha256 of every live value under `prefix` (secrets: of the plaintext). */
  'fault.read': message('fault.read', { prefix: text(1, 512) }),
} as const

export type FaultMessage = v.InferOutput<typeof faultMessages[keyof typeof faultMessages]>

function isFaultMessage<M extends ApiMessage> (m: M | FaultMessage): m is FaultMessage {
  return Object.hasOwn(faultMessages, m.type)
}

export const faultRoute: Route<FaultMessage> = { kind: 'fault', target: 'none', messages: faultMessages }

export interface FaultRead {
  digest: string
  synced: boolean
  alive: string[]
  /** key → sha256 hex of the value (for `secret/` keys, of the opened plaintext). */
  values: Record<string, string>
  storeErrors: number
  /** The mesh's counters and gauges (heartbeats, syncs, connections...), for diagnosis. */
  counters: Record<string, number>
  /** This peer's view of every other one (membership state, why down, suspect, connected), for diagnosis. */
  members: Array<{ id: string; state: string; reason?: string; suspect: boolean; connected: boolean }>
  /** Every libp2p connection with its streams, for diagnosis of stuck connections. */
  connections: ConnectionView[]
}

/** The wall clock plus an adjustable offset; monotonic time is never skewed. */
export class OffsetClock implements Clock {
  offsetMs = 0
  now (): number { return Date.now() + this.offsetMs }
  monotonic (): number { return performance.now() }
}

export interface FaultInjection {
  readonly enabled: boolean
  /** What to pass to startMesh: the skewable clock and the test timers, only when enabled. */
  readonly meshOptions: { clock?: Clock, config?: Partial<MeshConfig> }
  /** Routes the `fault` actor path to the fault handler, everything else to `next`. */
  wrap: <M extends ApiMessage>(next: Dispatch<M>, mesh: Mesh, secrets: SecretSealer) => Dispatch<M | FaultMessage>
}

class FaultError extends Error {
  constructor (readonly code: string, readonly status: number, message: string) { super(message) }
}

/**
 * Parses the fault options of monkd. `meshConfig` (JSON of mesh timers, e.g. short tombstone ages)
 * is refused without `enabled`: test timers never reach a production daemon by accident.
 */
export function faultInjection (enabled: boolean, meshConfig?: string): FaultInjection {
  if (!enabled && meshConfig !== undefined) throw new Error('--fault-mesh-config needs --enable-fault-injection')
  let config: Partial<MeshConfig> | undefined
  if (meshConfig !== undefined) {
    let parsed: unknown
    try { parsed = JSON.parse(meshConfig) } catch (err) { throw new Error(`--fault-mesh-config is not JSON: ${(err as Error).message}`) }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('--fault-mesh-config must be a JSON object of mesh timers')
    for (const [k, v] of Object.entries(parsed)) if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`--fault-mesh-config: ${k} must be a non-negative number`)
    config = parsed as Partial<MeshConfig>
  }
  const clock = enabled ? new OffsetClock() : undefined
  return {
    enabled,
    meshOptions: { ...(clock ? { clock } : {}), ...(config ? { config } : {}) },
    wrap: (next, mesh, secrets) => {
      return (path, msg, ctx) => {
        // fault.* messages are only in the `fault` route's table, so nothing else reaches here with one
        if (!isFaultMessage(msg)) return next(path, msg, ctx)
        if (!clock) {
          return Promise.reject(new FaultError('fault-injection-disabled', 403, 'fault injection is disabled on this monkd: start it with --enable-fault-injection (test clusters only)'))
        }
        return handle(msg, mesh, clock, secrets)
      }
    },
  }
}

async function handle (m: FaultMessage, mesh: Mesh, clock: OffsetClock, box: SecretSealer): Promise<unknown> {
  switch (m.type) {
    case 'fault.status': return { enabled: true, offsetMs: clock.offsetMs, blocked: mesh.gater.blocked() }
    case 'fault.partition':
      await mesh.gater.block(m.peers.filter(p => p !== mesh.peerId))
      return { blocked: mesh.gater.blocked() }
    case 'fault.heal':
      mesh.gater.unblock()
      return { blocked: [] }
    case 'fault.clock':
      clock.offsetMs = m.offsetMs
      return { offsetMs: clock.offsetMs }
    case 'fault.read': {
      const values: Record<string, string> = {}
      for (const { key, value } of mesh.scan(m.prefix)) values[key] = hashOf(key, value, box)
      const counters: Record<string, number> = {}
      for (const [k, n] of Object.entries(mesh.counters())) if (typeof n === 'number') counters[k] = n
      const members = mesh.peers().filter(p => !p.self).map(p => ({ id: p.id, state: p.state, ...(p.reason ? { reason: p.reason } : {}), suspect: p.suspect, connected: p.connected }))
      const read: FaultRead = { digest: mesh.testing.digestRoot(), synced: mesh.synced, alive: mesh.alive(), values, storeErrors: counters.storeErrors ?? 0, counters, members, connections: mesh.testing.connections() }
      return read
    }
  }
}

function hashOf (key: string, value: unknown, box: SecretSealer): string {
  const h = createHash('sha256')
  if (key.startsWith('secret/')) {
    const rest = key.slice('secret/'.length)
    const i = rest.lastIndexOf('/')
    try {
      return h.update('plain\0').update(box.open(rest.slice(0, i), rest.slice(i + 1), value)).digest('hex')
    } catch {
      return h.update('corrupt\0').digest('hex')
    }
  }
  return h.update('cbor\0').update(encodeCbor(value)).digest('hex')
}

/** sha256 of a secret's plaintext as fault.read reports it (for checkers comparing written values). */
export function secretHash (plaintext: string): string {
  return createHash('sha256').update('plain\0').update(plaintext).digest('hex')
}
