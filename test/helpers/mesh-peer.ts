// Entry script of one mesh peer in its own process, driven over the IPC channel by
// test/helpers/mesh-procs.ts (failure-detection tests, benchmarks/mesh.ts).
// Run: node --import tsx --import ./polyfill.ts test/helpers/mesh-peer.ts   with MONK_MESH_PEER set
// to JSON {home, listen, token?, clusterId?, clusterKey?, name, config?}.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { startMesh, type MeshConfig, type Value } from '../../mesh/index.js'

interface PeerArgs {
  home: string
  listen: string[]
  token?: string
  clusterId?: string
  clusterKey?: string
  name: string
  config?: Partial<MeshConfig>
}

/** Parent → child. */
export type PeerCommand =
  | { id: number; op: 'put'; key: string; value: Value }
  | { id: number; op: 'watch'; prefix: string }
  | { id: number; op: 'alive' }
  | { id: number; op: 'counters' }
  | { id: number; op: 'peers' }
  | { id: number; op: 'leave' }
  | { id: number; op: 'profile'; ms: number; file: string }

/** Child → parent. `at` is Date.now() in the child when the event happened. */
export type PeerEvent =
  | { ev: 'ready'; peerId: string; token: string }
  | { ev: 'up'; peer: string; at: number }
  | { ev: 'down'; peer: string; reason: string; at: number }
  | { ev: 'change'; key: string; at: number; origin: 'local' | 'remote' }
  | { ev: 'reply'; id: number; ok: boolean; result?: unknown; error?: string }

const args = JSON.parse(process.env.MONK_MESH_PEER ?? '{}') as PeerArgs
const send = (e: PeerEvent): void => { process.send?.(e) }

const mesh = await startMesh({
  home: args.home,
  listen: args.listen,
  name: args.name,
  ...(args.token ? { token: args.token } : {}),
  ...(args.clusterId && args.clusterKey ? { cluster: { id: args.clusterId, key: new Uint8Array(Buffer.from(args.clusterKey, 'hex')) } } : {}),
  ...(args.config ? { config: args.config } : {}),
})
mesh.onPeerUp(peer => { send({ ev: 'up', peer, at: Date.now() }) })
mesh.onPeerDown((peer, reason) => { send({ ev: 'down', peer, reason, at: Date.now() }) })

process.on('message', (raw: unknown) => {
  const cmd = raw as PeerCommand
  const reply = (result: unknown): void => { send({ ev: 'reply', id: cmd.id, ok: true, result }) }
  const fail = (err: unknown): void => { send({ ev: 'reply', id: cmd.id, ok: false, error: (err as Error).message }) }
  switch (cmd.op) {
    case 'put': mesh.put(cmd.key, cmd.value).then(() => reply(null), fail); break
    case 'watch': mesh.onChange(cmd.prefix, c => { send({ ev: 'change', key: c.key, at: Date.now(), origin: c.origin }) }); reply(null); break
    case 'alive': reply(mesh.alive()); break
    case 'counters': reply(mesh.counters()); break
    case 'peers': reply(mesh.peers().map(p => ({ id: p.id, state: p.state, suspect: p.suspect, connected: p.connected, record: p.record !== undefined }))); break
    case 'leave': mesh.leave().then(() => { reply(null); process.exit(0) }, fail); break
    case 'profile': profile(cmd.ms, cmd.file).then(() => reply(null), fail); break
  }
})
process.on('SIGTERM', () => { void mesh.stop().then(() => process.exit(0)) })
// the parent going away must not leave orphan peers behind
process.on('disconnect', () => { void mesh.stop().finally(() => process.exit(0)) })

send({ ev: 'ready', peerId: mesh.peerId, token: mesh.token() })

/** Records a CPU profile of this process for `ms` and writes it to `file` (.cpuprofile, for `npm run bench -- mesh --profile`). */
async function profile (ms: number, file: string): Promise<void> {
  const session = new Session()
  session.connect()
  try {
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 1000 })
    await session.post('Profiler.start')
    await new Promise(resolve => setTimeout(resolve, ms))
    const { profile } = await session.post('Profiler.stop')
    writeFileSync(file, JSON.stringify(profile))
  } finally {
    session.disconnect()
  }
}
