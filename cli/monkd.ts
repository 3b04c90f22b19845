#!/usr/bin/env node
// monkd: the daemon. Wires the mesh, a runtime, the peer's actors and the control API together.
import '../polyfill.js'
import { closeSync, existsSync, mkdirSync, writeSync } from 'node:fs'
import { isIP } from 'node:net'
import { cpus, homedir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import pino from 'pino'
import { CloudManager } from '../actors/cloud-manager.js'
import { SealKey } from '../actors/cloud/credentials.js'
import { Peer } from '../actors/peer.js'
import { quantity } from '../grammar/monkscript/runnable-spec.js'
import { networkNameProblem } from '../actors/runtime/docker.js'
import { isRuntimeMode, selectRuntime } from '../actors/runtime/select.js'
import { createCluster } from '../mesh/cluster.js'
import { startMesh, type Mesh } from '../mesh/mesh.js'
import { monkdRoutes } from './api/messages.js'
import { socketPathIn } from './api/protocol.js'
import { startApiServer } from './api/server.js'
import { wireGui } from './api/gui-wire.js'
import { isLoopbackHost } from './address.js'
import { loadOrMakeTlsIdentity } from './api/tls-home.js'
import { operatorUpgrade } from './operator-upgrade.js'
import { FAULT_FLAG, faultInjection, faultRoute, type FaultMessage } from './fault.js'
import type { Request } from '../actors/messages/index.js'
import { peerDispatch } from './dispatch.js'
import { openLogFile } from './log-file.js'
import { tightenHome } from './home-perms.js'
import { joinTokenFrom } from './join-token.js'
import { version } from '../actors/version.js'

const usage = 'usage: monkd [--home DIR] [--name NAME] [--tag T]... [--p2p-port N | --listen MULTIADDR] [--join-file PATH (or MONK_JOIN_TOKEN; --join TOKEN is deprecated: ps shows it)] [--runtime auto|docker|process] [--network-name NAME (docker: a per-peer bridge network for containers that map ports; endpoints listen on its gateway)] [--log-level L] [--api-port N (needs MONK_API_TOKEN)] [--api-host ADDR (default 127.0.0.1; beyond loopback TLS only)] [--cpu CORES] [--memory SIZE] [--repair] [--template-autoupdate MINUTES (default 30, 0 off)] [--no-hub-defaults] [--enable-fault-injection [--fault-mesh-config JSON]] (test clusters only)'

class UsageError extends Error {}

function options (argv: string[]) {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        home: { type: 'string' }, name: { type: 'string' }, tag: { type: 'string', multiple: true },
        'p2p-port': { type: 'string' }, listen: { type: 'string', multiple: true }, join: { type: 'string' }, 'join-file': { type: 'string' },
        repair: { type: 'boolean' }, cpu: { type: 'string' }, memory: { type: 'string' },
        runtime: { type: 'string' }, 'network-name': { type: 'string' }, 'log-level': { type: 'string' }, 'api-port': { type: 'string' }, 'api-host': { type: 'string' }, 'template-autoupdate': { type: 'string', short: 'a' }, 'no-hub-defaults': { type: 'boolean' }, [FAULT_FLAG]: { type: 'boolean' }, 'fault-mesh-config': { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' },
      },
      strict: true, allowPositionals: false,
    })
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${usage}`)
  }
  const v = parsed.values
  if (v.help) { process.stdout.write(usage + '\n'); process.exit(0) }
  if (v.version) { process.stdout.write(version + '\n'); process.exit(0) }
  const runtime = v.runtime ?? 'auto'
  if (!isRuntimeMode(runtime)) throw new UsageError(`--runtime must be auto, docker or process, got "${runtime}"`)
  const networkName = v['network-name']
  if (networkName !== undefined && runtime === 'process') throw new UsageError('--network-name is a Docker network: it needs --runtime docker (or auto with an engine)')
  const badName = networkName !== undefined ? networkNameProblem(networkName) : undefined
  if (badName !== undefined) throw new UsageError(`--network-name must be a Docker network name: ${badName}`)
  if (v['p2p-port'] !== undefined && v.listen !== undefined) throw new UsageError('give --p2p-port or --listen, not both')
  let listen = v.listen ?? []
  if (listen.length === 0) {
    const port = v['p2p-port'] ?? '44001'
    if (!/^\d+$/.test(port) || Number(port) > 65535) throw new UsageError(`--p2p-port must be a port number, got "${port}"`)
    listen = [`/ip4/0.0.0.0/tcp/${port}`]
  }
  const level = v['log-level'] ?? 'info'
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) throw new UsageError(`--log-level must be one of trace, debug, info, warn, error, fatal, silent; got "${level}"`)
  const home = resolve(v.home ?? process.env.MONK_HOME ?? join(homedir(), '.monk'))
  let api: { port: number, token: string, host: string } | undefined
  if (v['api-host'] !== undefined && v['api-port'] === undefined) throw new UsageError('--api-host needs --api-port')
  if (v['api-port'] !== undefined) {
    const token = process.env.MONK_API_TOKEN ?? ''
    if (!/^\d+$/.test(v['api-port'])) throw new UsageError(`--api-port must be a port number, got "${v['api-port']}"`)
    if (token.length < 16) throw new UsageError('--api-port needs a bearer token of at least 16 characters in MONK_API_TOKEN')
    const host = (v['api-host'] ?? '127.0.0.1').replace(/^\[|\]$/g, '')
    if (host !== 'localhost' && isIP(host) === 0) throw new UsageError(`--api-host must be an IP address (0.0.0.0 for all), got "${v['api-host'] ?? ''}"`)
    api = { port: Number(v['api-port']), token, host }
  }
  let fault
  try { fault = faultInjection(v[FAULT_FLAG] === true, v['fault-mesh-config']) } catch (err) { throw new UsageError((err as Error).message) }
  // the capacity this peer offers to resource requests: the machine's unless declared
  const cpu = v.cpu === undefined ? cpus().length : quantity('cpu', v.cpu)
  if (cpu === null || cpu <= 0) throw new UsageError(`--cpu must be a number of cores (2, 0.5, 500m), got "${v.cpu ?? ''}"`)
  const memory = v.memory === undefined ? totalmem() : quantity('memory', v.memory)
  if (memory === null || memory <= 0) throw new UsageError(`--memory must be a size (512Mi, 2G, bytes), got "${v.memory ?? ''}"`)
  let joining: { token: string | undefined, warnings: string[] }
  try { joining = joinTokenFrom({ flag: v.join, file: v['join-file'], env: process.env.MONK_JOIN_TOKEN }) } catch (err) { throw new UsageError((err as Error).message) }
  // read once: workloads this monkd starts must not inherit the cluster key
  delete process.env.MONK_JOIN_TOKEN
  // hub kits: refreshed every MINUTES (spec §5.1); the default monk-io sources unless refused
  const autoupdate = v['template-autoupdate'] ?? '30'
  if (!/^\d+(\.\d+)?$/.test(autoupdate)) throw new UsageError(`--template-autoupdate must be a number of minutes (0 disables), got "${autoupdate}"`)
  const hub = { autoupdateMs: Math.round(Number(autoupdate) * 60_000), defaults: v['no-hub-defaults'] !== true && process.env.MONK_HUB_DEFAULTS !== '0' }
  return { hub, home, name: v.name, tags: v.tag ?? [], listen, join: joining, runtime, networkName, level, api, repair: v.repair === true, fault, capacity: { cpu, memory } }
}

async function main (): Promise<void> {
  // a hangup is no reason for a daemon to die (a closed terminal, or the kernel's SIGHUP to a stopped
  // process whose group lost its parent: a chaos run killed a monkd that way while it started);
  // noted in the log once it is open, and monkd goes on. It stops on SIGTERM or SIGINT
  let hangups = 0
  process.on('SIGHUP', () => { hangups++ })
  const o = options(process.argv.slice(2))
  // everything monkd creates is its user's alone (LevelDB files, logs, runtime state); the home and
  // what monkd already keeps in it are tightened too, for a home made before or by someone else
  process.umask(0o077)
  mkdirSync(join(o.home, 'logs'), { recursive: true, mode: 0o700 })
  const tightened = tightenHome(o.home)
  const fresh = !existsSync(join(o.home, 'data'))
  const file = openLogFile(join(o.home, 'logs', 'monkd.log'))
  const streams: pino.StreamEntry[] = [{ stream: file, level: o.level as pino.Level }]
  if (process.stderr.isTTY) streams.push({ stream: pretty(), level: o.level as pino.Level })
  const log = pino({ level: o.level, base: { pid: process.pid } }, pino.multistream(streams))

  const { runtime, reason } = await selectRuntime({ mode: o.runtime as 'auto' | 'docker' | 'process', process: { stateDir: join(o.home, 'runtime', 'process'), onWarning: m => log.warn(m) }, ...(o.networkName !== undefined ? { docker: { networkName: o.networkName } } : {}) })
  log.info(reason)
  if (o.networkName !== undefined) {
    // auto fell back to processes: there is no Docker network to put anything on
    if (runtime.kind !== 'docker') throw new UsageError(`--network-name ${o.networkName} needs a Docker engine, but ${reason}`)
    log.info(`containers that map ports join network ${o.networkName}; connection endpoints listen on its gateway ${runtime.endpointHost ?? ''}`)
  }
  if (tightened.length) log.warn(`tightened ${tightened.length} path(s) in ${o.home} to 0700/0600 (they were readable by other users), e.g. ${tightened.slice(0, 3).join(', ')}`)
  for (const w of o.join.warnings) log.warn(w)
  if (o.fault.enabled) log.warn('fault injection is enabled (--enable-fault-injection): partitions and clock skew can be injected through the control API')
  const name = o.name ?? `peer-${process.pid}`
  let mesh: Mesh
  try {
    mesh = await startMesh({
      home: o.home, listen: o.listen, name, tags: o.tags,
      // --repair: a damaged store is repaired (what cannot be read is dropped, logged, and resynced from peers)
      repair: o.repair, onWarning: (m: string) => { log.warn(m) }, ...o.fault.meshOptions,
      // only founders and peers an operator admitted write anything others apply (mesh/roles.ts)
      admission: true,
      // opens the cluster keys operators rotate (mesh/rekey.ts); the same key the cloud credentials are sealed to
      seal: SealKey.open(o.home),
      ...(o.join.token !== undefined ? { token: o.join.token } : fresh ? { cluster: createCluster() } : {}),
    })
  } catch (err) {
    await runtime.close()
    throw err
  }
  const peer = await Peer.start({ home: o.home, name, tags: o.tags, mesh, runtime, log, capacity: o.capacity, hub: o.hub })
  // local machines are started the way this monkd was (same node, same loader flags)
  const cloud = await CloudManager.start({ home: o.home, mesh, log, monkd: { command: process.execPath, args: [...process.execArgv, process.argv[1] ?? ''] } })
  let stopping = false
  const shutdown = async (why: string): Promise<void> => {
    if (stopping) return
    stopping = true
    gui.close()
    await api.close().catch(() => {})
    // Leaving a cluster hands this peer's work to the others; alone, containers stay for the next start to adopt.
    const others = mesh.alive().filter(id => id !== peer.id).length
    log.info(`monkd stopping (${why}): ${others ? `leaving the cluster; ${others} peer(s) take over its workloads` : 'no other peer: containers keep running and are adopted on restart'}`)
    if (others) await peer.handOver().catch(err => log.warn({ err }, 'hand-over failed'))
    await cloud.stop().catch(() => {})
    await peer.stop().catch(() => {})
    await mesh.leave().catch(() => {})
    await mesh.stop().catch(() => {})
    await runtime.close().catch(() => {})
    file.end()
    process.exit(0)
  }
  const dispatch = peerDispatch(peer, { status: () => ({ version, home: o.home }), stop: () => { void shutdown('daemon.stop') }, cloud: { manager: cloud, mesh } })
  // the web UI (monk gui) on the same listeners and token; it records actions run through the API
  const gui = wireGui<Request | FaultMessage>(mesh, o.fault.wrap(dispatch, mesh, peer.secrets), err => log.warn({ err }, 'web UI: the dashboard state failed'))
  // beyond loopback the API is TLS only, with the certificate kept in the home (clients pin it)
  const tls = o.api !== undefined && !isLoopbackHost(o.api.host) ? loadOrMakeTlsIdentity(o.home, name, [o.api.host]) : undefined
  if (tls) log.info({ cert: tls.certFile, fingerprint: tls.fingerprint }, `control API TLS certificate ${tls.made ? 'made' : 'loaded'}: SHA-256 ${tls.fingerprint}`)
  const apiInfo = o.api ? { apiPort: o.api.port, apiHost: o.api.host, ...(tls ? { apiTlsFingerprint: tls.fingerprint } : {}) } : {}
  const api = await startApiServer<Request | FaultMessage>({ socketPath: socketPathIn(o.home), routes: [...monkdRoutes(), faultRoute], dispatch: gui.dispatch, extra: (req, res, ctx) => gui.server.handle(req, res, ctx), logger: log, upgrade: operatorUpgrade(peer.operator, log), info: { peerId: peer.id, version, name, ...apiInfo }, ...(o.api ? { tcp: { ...o.api, ...(tls ? { tls: { key: tls.key, cert: tls.cert } } : {}) } } : {}) })
  if (hangups > 0) log.warn(`ignored ${hangups} SIGHUP(s) during start: monkd stops on SIGTERM or SIGINT`)
  process.removeAllListeners('SIGHUP')
  process.on('SIGHUP', () => { log.warn('SIGHUP ignored: monkd stops on SIGTERM or SIGINT') })
  process.on('SIGTERM', () => { void shutdown('SIGTERM') })
  process.on('SIGINT', () => { void shutdown('SIGINT') })
  log.info({ peer: peer.id, cluster: mesh.clusterId, socket: api.socketPath, addrs: mesh.addresses() }, `monkd ${name} ready`)
  process.stdout.write(`monkd ${name} ready: peer ${peer.id} cluster ${mesh.clusterId} socket ${api.socketPath}\n`)
  if (api.tcp) process.stdout.write(`monkd ${name} control API on ${api.tcp.tls ? 'tls' : 'tcp'}://${api.tcp.host.includes(':') ? `[${api.tcp.host}]` : api.tcp.host}:${api.tcp.port}${tls ? ` certificate SHA-256 ${tls.fingerprint}` : ''}\n`)
  tellReady({ peerId: peer.id, name, version, socket: api.socketPath })
}

/**
 * `monk daemon start` passes a pipe as MONK_READY_FD and waits for one line on it: monkd says it is
 * ready there (no polling of the socket), then closes it so the starter can go.
 */
function tellReady (info: Record<string, string>): void {
  const fd = Number(process.env.MONK_READY_FD ?? '')
  if (!Number.isInteger(fd) || fd < 3) return
  try { writeSync(fd, JSON.stringify({ ready: true, ...info }) + '\n'); closeSync(fd) } catch { /* the starter went away: nothing to tell */ }
}

/** A compact human line per log record, for a foreground daemon on a terminal. */
function pretty (): NodeJS.WritableStream {
  const out = new Writable({
    write (chunk: Buffer, _enc, cb) {
      try {
        const r = JSON.parse(chunk.toString()) as { level: number, time: number, msg?: string }
        const lvl = ({ 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' } as Record<number, string>)[r.level] ?? String(r.level)
        process.stderr.write(`${new Date(r.time).toISOString().slice(11, 23)} ${lvl.padEnd(5)} ${r.msg ?? ''}\n`)
      } catch { process.stderr.write(chunk) }
      cb()
    },
  })
  return out
}

main().catch(err => {
  if (err instanceof UsageError) { process.stderr.write(`monkd: ${err.message}\n`); process.exit(2) }
  process.stderr.write(`monkd: ${(err as Error).message ?? String(err)}\n`)
  process.exit(1)
})
