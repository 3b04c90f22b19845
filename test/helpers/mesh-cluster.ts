// In-process clusters of real mesh peers on 127.0.0.1 for integration tests, and polling helpers.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCluster, startMesh, type Cluster, type Mesh, type MeshConfig, type MeshOptions } from '../../mesh/index.js'

/** Shorter intervals than production so tests finish quickly; the logic is the same. */
export const fastConfig: Partial<MeshConfig> = {
  syncIntervalMs: 1000,
  dialIntervalMs: 300,
  dialBackoffMaxMs: 1000,
}

/** A fresh temporary home directory. */
export function tempHome (label = 'mesh'): string {
  return mkdtempSync(join(tmpdir(), `monk-${label}-`))
}

/** Polls `cond` every `everyMs` until it is true; throws with `what` after `timeoutMs`. Returns the elapsed ms. */
export async function waitFor (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000, everyMs = 20): Promise<number> {
  const start = Date.now()
  for (;;) {
    if (await cond()) return Date.now() - start
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}

export interface TestCluster {
  cluster: Cluster
  peers: Mesh[]
  homes: string[]
  /** Starts one more peer joining through the first running peer; `restart` reuses `home` with no token (the home remembers its cluster). */
  add: (opts?: Partial<MeshOptions> & { restart?: boolean }) => Promise<Mesh>
  /** Stops every peer still running and removes the homes. */
  close: () => Promise<void>
}

/** Starts `n` peers: the first founds the cluster, the others join with its token. */
export async function startCluster (n: number, opts: Partial<MeshOptions> = {}): Promise<TestCluster> {
  const cluster = createCluster()
  const peers: Mesh[] = []
  const homes: string[] = []
  const config = { ...fastConfig, ...opts.config }
  const add = async ({ restart, ...more }: Partial<MeshOptions> & { restart?: boolean } = {}): Promise<Mesh> => {
    const home = more.home ?? tempHome()
    if (!homes.includes(home)) homes.push(home)
    const first = peers.find(p => running(p))
    const base: MeshOptions = { home, listen: ['/ip4/127.0.0.1/tcp/0'], config, name: `p${peers.length}` }
    const join = restart ? {} : first ? { token: first.token() } : { cluster }
    const m = await startMesh({ ...base, ...join, ...more, config: { ...config, ...more.config } })
    peers.push(m)
    return m
  }
  for (let i = 0; i < n; i++) await add()
  return {
    cluster,
    peers,
    homes,
    add,
    close: async () => {
      await Promise.all(peers.map(async p => { await p.stop().catch(() => {}) }))
      for (const h of homes) rmSync(h, { recursive: true, force: true })
    },
  }
}

const stopped = new WeakSet<Mesh>()
/** Stops a peer and remembers it is stopped (so add() does not use its token). */
export async function stopPeer (m: Mesh): Promise<void> {
  stopped.add(m)
  await m.stop()
}
function running (m: Mesh): boolean { return !stopped.has(m) }

/** True when every peer sees every other as alive. */
export function allAlive (peers: Mesh[]): boolean {
  return peers.every(p => p.alive().length === peers.length)
}

/** True when all peers hold identical replicas (same digest root). */
export function converged (peers: Mesh[]): boolean {
  const roots = new Set(peers.map(p => p.testing.digestRoot()))
  return roots.size === 1
}
