// Injecting and healing one planned fault on a chaos cluster. Each returns how to heal it, or why it
// was skipped (a full disk needs tmpfs homes; nothing is faked).
import { closeSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { Cluster } from './cluster.js'
import type { FaultPlan } from './schedule.js'

export interface Injected {
  /** Why the fault did not happen (then heal does nothing). */
  skipped?: string
  detail?: Record<string, unknown>
  heal: () => Promise<void>
}

const BALLAST = 'chaos-ballast'

export async function inject (c: Cluster, f: FaultPlan): Promise<Injected> {
  switch (f.kind) {
    case 'kill': {
      c.kill(f.peer)
      await c.exited(f.peer)
      return { heal: async () => { await c.startNode(f.peer) } }
    }
    case 'pause':
      c.pause(f.peer)
      return { heal: async () => { c.resume(f.peer) } }
    case 'restart': {
      // SIGTERM: the peer leaves the cluster and stays away while the fault holds (deletes meanwhile
      // must not come back with it); SIGKILL: it starts again at once from the same home.
      if (f.signal === 'SIGTERM') {
        await c.terminate(f.peer)
        return { heal: async () => { await c.startNode(f.peer) } }
      }
      c.kill(f.peer)
      await c.exited(f.peer)
      await c.startNode(f.peer)
      return { heal: async () => {} }
    }
    case 'partition': {
      const ids = f.sides.map(side => side.map(i => c.nodes[i]!.id))
      for (const [s, side] of f.sides.entries()) {
        for (const i of side) await c.nodes[i]!.fault({ type: 'fault.partition', peers: ids[1 - s]! })
      }
      return {
        detail: { sides: f.sides.map(side => side.map(i => c.nodes[i]!.name)) },
        heal: async () => { for (const n of c.nodes) await retry(async () => await n.fault({ type: 'fault.heal' })) },
      }
    }
    case 'skew': {
      const n = c.nodes[f.peer]!
      await n.fault({ type: 'fault.clock', offsetMs: f.offsetMs })
      return { heal: async () => { await retry(async () => await n.fault({ type: 'fault.clock', offsetMs: 0 })) } }
    }
    case 'disk': {
      if (!c.diskFaults) return { skipped: c.tmpfsReason || 'homes are not tmpfs (--tmpfs-mb 0)', heal: async () => {} }
      const file = join(c.nodes[f.peer]!.home, BALLAST)
      const bytes = fill(file)
      return { detail: { ballastBytes: bytes }, heal: async () => { rmSync(file, { force: true }) } }
    }
  }
}

/** Writes `file` until the filesystem is full; returns the bytes written. */
export function fill (file: string): number {
  const fd = openSync(file, 'w')
  let total = 0
  try {
    for (const size of [1 << 20, 1 << 16, 1 << 12, 512]) {
      const buf = Buffer.alloc(size, 0x5a)
      for (;;) {
        try { total += writeSync(fd, buf) } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break
          throw err
        }
      }
    }
  } finally { closeSync(fd) }
  return total
}

async function retry (fn: () => Promise<unknown>, attempts = 50): Promise<void> {
  for (let i = 0; ; i++) {
    try { await fn(); return } catch (err) {
      if (i >= attempts) throw err
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }
}
