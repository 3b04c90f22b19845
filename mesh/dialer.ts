// Keeps a connection to every known peer: bootstrap addresses from the token, then the addresses
// each peer publishes in its `peer/<id>` entry. Failed dials back off exponentially (with jitter),
// so a healed partition or a restarted peer is reconnected within the maximum backoff.
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Clock, Random } from './clock.js'
import type { Gater } from './gater.js'
import type { MeshNode } from './node.js'
import type { Replica } from './replica.js'

export interface DialerInit {
  node: MeshNode
  replica: Replica
  gater: Gater
  clock: Clock
  random: Random
  self: string
  bootstrap: readonly string[]
  intervalMs: number
  backoffMinMs: number
  backoffMaxMs: number
  dialTimeoutMs: number
}

interface Backoff { next: number; delay: number }

// at most this many dials in flight per pass: a cluster of 100 must not open 99 handshakes at once
const maxParallelDials = 8

/** The addresses a `peer/<id>` value advertises, and whether the peer has left. */
export function advertised (value: unknown): { addrs: string[]; left: boolean } {
  if (typeof value !== 'object' || value === null) return { addrs: [], left: false }
  const v = value as { addrs?: unknown; leftAt?: unknown }
  const addrs = Array.isArray(v.addrs) ? v.addrs.filter((a): a is string => typeof a === 'string') : []
  return { addrs, left: typeof v.leftAt === 'number' }
}

export class Dialer {
  private readonly init: DialerInit
  private readonly backoff = new Map<string, Backoff>()
  private readonly dialing = new Set<string>()
  private readonly bootstrap = new Map<string, Multiaddr[]>()
  private timer: NodeJS.Timeout | undefined
  private soon: NodeJS.Timeout | undefined
  private unsubscribe: (() => void) | undefined
  private stopped = false

  constructor (init: DialerInit) {
    this.init = init
    for (const a of init.bootstrap) {
      const ma = multiaddr(a)
      const id = ma.getPeerId()
      if (!id || id === init.self) continue
      const list = this.bootstrap.get(id) ?? []
      list.push(ma.decapsulateCode(421)) // 421 = p2p: keep the transport part only
      this.bootstrap.set(id, list)
    }
  }

  start (): void {
    this.timer = setInterval(() => { this.pass() }, this.init.intervalMs)
    // a new or changed peer entry may carry addresses of a peer we do not reach yet
    this.unsubscribe = this.init.replica.onChange('peer/', () => { this.passSoon() })
    this.pass()
  }

  stop (): void {
    this.stopped = true
    clearInterval(this.timer)
    clearTimeout(this.soon)
    this.unsubscribe?.()
  }

  /** Forgets the backoff of `peer` so the next pass dials it at once. */
  reset (peer: string): void {
    this.backoff.delete(peer)
    this.passSoon()
  }

  /** Peers we know addresses for, with those addresses. */
  known (): Map<string, Multiaddr[]> {
    const out = new Map<string, Multiaddr[]>()
    for (const [id, addrs] of this.bootstrap) out.set(id, [...addrs])
    for (const { key, value } of this.init.replica.scan('peer/')) {
      const id = key.slice('peer/'.length)
      const { addrs, left } = advertised(value)
      if (left || id === this.init.self) { if (left) out.delete(id); continue }
      const list = out.get(id) ?? []
      for (const a of addrs) {
        try { list.push(multiaddr(a)) } catch {}
      }
      out.set(id, list)
    }
    return out
  }

  private passSoon (): void {
    if (this.soon || this.stopped) return
    this.soon = setTimeout(() => { this.soon = undefined; this.pass() }, 20)
  }

  private pass (): void {
    if (this.stopped) return
    const { node, gater, clock } = this.init
    const now = clock.monotonic()
    for (const [id, addrs] of this.known()) {
      if (this.dialing.size >= maxParallelDials) break
      if (addrs.length === 0 || this.dialing.has(id) || gater.isBlocked(id)) continue
      let pid
      try { pid = peerIdFromString(id) } catch { continue }
      if (node.getConnections(pid).length > 0) { this.backoff.delete(id); continue }
      const b = this.backoff.get(id)
      if (b && now < b.next) continue
      this.dialing.add(id)
      void this.dial(id, addrs).finally(() => { this.dialing.delete(id) })
    }
  }

  private async dial (id: string, addrs: Multiaddr[]): Promise<void> {
    const { node, clock, random } = this.init
    const pid = peerIdFromString(id)
    try {
      await node.peerStore.merge(pid, { multiaddrs: addrs })
      await node.dial(pid, { signal: AbortSignal.timeout(this.init.dialTimeoutMs) })
      this.backoff.delete(id)
    } catch {
      const prev = this.backoff.get(id)?.delay ?? 0
      const delay = Math.min(this.init.backoffMaxMs, Math.max(this.init.backoffMinMs, prev * 2))
      this.backoff.set(id, { delay, next: clock.monotonic() + delay * (0.75 + 0.5 * random.next()) })
    }
  }
}
