// Test helpers for the daemon: peers in this process (mesh + runtime + actors + API on real
// sockets) and monkd as real processes, all on 127.0.0.1 in temporary homes.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { Peer, type PeerOptions } from '../../actors/peer.js'
import { ProcessRuntime } from '../../actors/runtime/process.js'
import { createCluster } from '../../mesh/cluster.js'
import { startMesh, type Mesh } from '../../mesh/mesh.js'
import { createClient, type ApiClient } from '../../cli/api/client.js'
import { monkdRoutes } from '../../cli/api/messages.js'
import { peerDispatch } from '../../cli/dispatch.js'
import { startApiServer, type ApiServer } from '../../cli/api/server.js'
import { root, tsNode } from './cli.js'
import { MONKD_NODE_FLAGS } from '../../cli/node-flags.js'
import { rmOnExit } from './tmp.js'

export interface TestPeer { name: string, home: string, peer: Peer, mesh: Mesh, api: ApiServer, client: ApiClient, runtime: ProcessRuntime, stop: () => Promise<void> }

/** A whole peer in this process with the process runtime and the real control API. */
export async function startTestPeer (name: string, opts: { join?: string, tags?: string[], base?: string, hub?: PeerOptions['hub'] } = {}): Promise<TestPeer> {
  const home = rmOnExit(mkdtempSync(join(opts.base ?? tmpdir(), `monk-${name}-`)))
  const runtime = await ProcessRuntime.open({ stateDir: join(home, 'runtime') })
  const mesh = await startMesh({ home, listen: ['/ip4/127.0.0.1/tcp/0'], name, tags: opts.tags ?? [], ...(opts.join ? { token: opts.join } : { cluster: createCluster() }) })
  const log = pino({ level: process.env.MONK_TEST_LOG ?? 'silent' })
  const peer = await Peer.start({ home, name, tags: opts.tags ?? [], mesh, runtime, log, ...(opts.hub ? { hub: opts.hub } : {}) })
  const api = await startApiServer({
    socketPath: join(home, 'monkd.sock'),
    routes: monkdRoutes(),
    dispatch: peerDispatch(peer),
  })
  const client = createClient({ socketPath: api.socketPath })
  return {
    name, home, peer, mesh, api, client, runtime,
    stop: async () => {
      await api.close().catch(() => {})
      await peer.stop().catch(() => {})
      for (const c of await runtime.list({})) await runtime.remove(c.id, { force: true }).catch(() => {})
      await mesh.stop().catch(() => {})
      await runtime.close().catch(() => {})
    },
  }
}

/** Polls `fn` until it returns a truthy value or the deadline passes (then throws with `what`). */
export async function until<T> (what: string, fn: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v as NonNullable<T>
    } catch (err) { last = err }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}

export interface MonkdProcess { name: string, home: string, child: ChildProcess, client: ApiClient, output: () => string }

/** Starts `monkd` as a real process and waits until its socket answers. */
export async function spawnMonkd (name: string, home: string, args: string[] = [], env: Record<string, string> = {}): Promise<MonkdProcess> {
  const child = spawn(process.execPath, [...MONKD_NODE_FLAGS, ...tsNode, join(root, 'cli/monkd.ts'), '--home', home, '--name', name, '--listen', '/ip4/127.0.0.1/tcp/0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let out = ''
  child.stdout?.on('data', d => { out += String(d) })
  child.stderr?.on('data', d => { out += String(d) })
  const client = createClient({ socketPath: join(home, 'monkd.sock'), timeoutMs: 30_000 })
  try {
    await until(`monkd ${name} to answer on its socket`, async () => {
      if (child.exitCode !== null) throw new Error(`monkd ${name} exited with ${child.exitCode}: ${out}`)
      return await client.ping().then(() => true, () => false)
    }, 30_000, 100)
  } catch (err) {
    // the caller never gets the child: do not leave it running (it would keep the test process alive)
    child.kill('SIGKILL')
    throw err
  }
  return { name, home, child, client, output: () => out }
}

/** Reads a kit directory's files for `templates.load`. */
export function kitFiles (files: Record<string, string>): { files: Record<string, string>, paths: string[] } {
  return { files, paths: Object.keys(files) }
}
