// A stand-in monkd for CLI command tests: the real control API server and the real message
// schemas (cli/api/messages.ts), with a small in-memory model behind them. Templates load through
// the real MonkScript loader; exec really runs the command (in a temp dir) so `monk shell` can be
// tested; logs stream until the client leaves.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monkdRoutes, type Describe, type Goal, type LoadReply, type LogItem, type PeerRow, type PsRow, type WorkEvent } from '../../cli/api/messages.js'
import { socketPathIn, type ApiMessage } from '../../cli/api/protocol.js'
import { startApiServer, type ApiServer, type DispatchContext } from '../../cli/api/server.js'
import { loadPaths, memorySource, type LoadResult } from '../../grammar/monkscript/index.js'

export interface FakeInstance {
  row: PsRow
  /** ps polls left before a starting instance runs (or fails, with `failWith`). */
  startsIn: number
  failWith?: string
  vars: Record<string, string>
  /** The owner's status generation (bumped when a restart or update takes effect). */
  generation: number
  /** ps polls before a requested restart takes effect (like monkd's owner lagging the request). */
  restartLag: number
}

export interface FakeDaemon {
  home: string
  socket: string
  server: ApiServer
  /** Every message received, in order (path and message). */
  seen: Array<{ path: string, message: ApiMessage & Record<string, unknown> }>
  instances: Map<string, FakeInstance>
  /** Paths that start slowly (about 1.5 s of waited progress), to see progress rendered. */
  slow: Set<string>
  secrets: Map<string, string>
  /** Items sent per follow stream, and how many follow streams ended (client left). */
  followEnded: number
  close: () => Promise<void>
}

const err = (code: string, message: string, status?: number): Error => Object.assign(new Error(message), { code, ...(status !== undefined ? { status } : {}) })

export async function startFakeDaemon (opts: { home?: string, startPolls?: number } = {}): Promise<FakeDaemon> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'monk-cli-'))
  const socket = socketPathIn(home)
  const execDir = mkdtempSync(join(tmpdir(), 'monk-cli-exec-'))
  let loaded: LoadResult | undefined
  const seen: FakeDaemon['seen'] = []
  const instances = new Map<string, FakeInstance>()
  const secrets = new Map<string, string>()
  const slow = new Set<string>()
  const peers: PeerRow[] = [
    { id: '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1', name: 'p1', tags: ['web'], alive: true, addrs: ['/ip4/127.0.0.1/tcp/44001'] },
    { id: '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB2', name: 'p2', tags: [], alive: false, addrs: ['/ip4/127.0.0.1/tcp/44002'] },
  ]
  const state: { followEnded: number } = { followEnded: 0 }
  let server: ApiServer | undefined

  const membersOf = (path: string): string[] => {
    const node = loaded?.resolve(path)
    if (!node) throw err('not-found', `no template ${path} (load it first with monk load)`)
    if (node.kind === 'group' || node.kind === 'process-group') return loaded!.membersOf(path)
    if (node.kind !== 'runnable') throw err('not-runnable', `${path} is a ${node.kind}; only runnables and groups run`)
    return [path]
  }
  const inst = (target: string | undefined): FakeInstance => {
    const i = instances.get(target ?? '')
    if (!i) throw err('not-found', `no instance ${target ?? ''}: run it first (monk run ${target ?? ''})`)
    return i
  }
  const start = (paths: string[], set: Record<string, string> | undefined, peerName = 'p1'): string[] => {
    for (const p of paths) {
      const image = String(((loaded?.resolve(p)?.value.containers as Record<string, { image?: string }> | undefined)?.main?.image) ?? 'busybox')
      const prev = instances.get(p)
      instances.set(p, {
        generation: (prev?.generation ?? 0) + 1,
        restartLag: 0,
        row: { instance: p, peer: peers[0]!.id, peerName, status: 'starting', containers: [{ name: 'main', image, status: 'created' }] },
        startsIn: slow.has(p) ? 150 : opts.startPolls ?? 2,
        ...(p.endsWith('/broken') ? { failWith: 'container main exited with code 1' } : {}),
        vars: set ?? {},
      })
    }
    return paths
  }
  const tick = (): void => {
    for (const i of instances.values()) {
      if (i.restartLag > 0 && --i.restartLag === 0) { i.generation++; i.row.status = 'starting'; i.startsIn = 1 }
      if (i.row.status !== 'starting') continue
      if (i.startsIn-- > 0) continue
      if (i.failWith) { i.row.status = 'failed'; i.row.error = i.failWith; i.row.containers[0]!.status = 'exited' } else { i.row.status = 'running'; i.row.containers[0]!.status = 'running' }
    }
  }

  const describe = (name: string): Describe => {
    const i = instances.get(name)
    if (!i) return { instance: name, template: null, state: null, status: null, peer: null, peerName: null, containers: [], ports: [], ready: false, error: null, waiting: null, generation: 0 }
    const r = i.row
    const starting = r.status === 'starting' || i.restartLag > 0
    return {
      instance: r.instance, template: r.instance, state: r.status === 'stopped' ? 'stop' : 'run', status: starting ? 'starting' : r.status, peer: r.peer, peerName: r.peerName,
      containers: r.containers.map(c => ({ ...c })), ports: r.status === 'running' ? [{ service: 'kv', host: '127.0.0.1', port: 18480 }] : [],
      ready: r.status === 'running', error: r.error ?? null, waiting: starting ? (i.startsIn > 1 ? `image ${r.containers[0]?.image ?? '?'}` : 'readiness') : null, generation: i.generation,
    }
  }

  /** A waited request: like monkd, streams phases until every instance reached the goal or one failed. */
  async function * work (names: string[], goal: Goal, signal: AbortSignal): AsyncGenerator<WorkEvent> {
    yield { event: 'accepted', instances: names, goal }
    while (!signal.aborted) {
      tick()
      let pending = 0
      for (const n of names) {
        const d = describe(n)
        if (goal === 'gone') { if (d.state !== null) pending++; continue }
        if (goal === 'stopped') { if (d.status !== 'stopped') pending++; continue }
        if (d.status === 'failed') { yield { event: 'failed', code: 'run-failed', instance: n, message: `${n} failed on peer ${d.peerName ?? '?'}: ${d.error ?? '?'} (see monk logs ${n})`, describe: names.map(describe) }; return }
        if (d.status === 'running') continue
        pending++
        yield { event: 'phase', instance: n, phase: d.waiting?.startsWith('image') === true ? 'pulling' : 'readiness', peer: d.peer, peerName: d.peerName, detail: `waiting for ${d.waiting ?? '?'}` }
      }
      if (pending === 0) { yield { event: 'done', goal, instances: names, describe: names.map(describe) }; return }
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }
  const answer = (m: Record<string, unknown>, names: string[], goal: Goal, signal: AbortSignal): unknown => m.wait === true ? work(names, goal, signal) : { instances: names }

  async function * logs (target: string, follow: boolean, tail: number | undefined, signal: AbortSignal): AsyncGenerator<LogItem> {
    const all = Array.from({ length: 30 }, (_, n) => ({ time: new Date(1_700_000_000_000 + n * 1000).toISOString(), stream: n % 10 === 9 ? 'stderr' as const : 'stdout' as const, container: 'main', text: `${target} line ${n}` }))
    for (const item of tail === undefined ? all : all.slice(Math.max(0, all.length - tail))) yield item
    if (!follow) return
    try {
      for (let n = 30; !signal.aborted; n++) {
        yield { time: new Date().toISOString(), stream: 'stdout', container: 'main', text: `${target} live ${n}` }
        await new Promise(resolve => setTimeout(resolve, 20))
      }
    } finally {
      state.followEnded++
    }
  }

  const dispatch = async (path: string, message: ApiMessage, ctx: DispatchContext): Promise<unknown> => {
    const m = message as ApiMessage & Record<string, unknown>
    seen.push({ path, message: m })
    switch (m.type) {
      case 'peer.status': return { peerId: peers[0]!.id, name: 'p1', tags: peers[0]!.tags, runtime: 'process', clusterId: '0123456789abcdef', synced: true, peers: 1, addrs: peers[0]!.addrs, version: '0.1.0-fake', home }
      case 'templates.load': {
        const files = m.files as Record<string, string>
        loaded = loadPaths(m.paths as string[], { source: memorySource(files) })
        const counts: Record<string, number> = {}
        for (const n of loaded.nodes.values()) counts[n.kind] = (counts[n.kind] ?? 0) + 1
        const shape = (d: { code: string, message: string, file: string, line: number, column: number }) => ({ code: d.code, message: d.message, file: d.file, line: d.line, column: d.column })
        const reply: LoadReply = { files: loaded.files.length, loaded: [...loaded.nodes.keys()], nodes: counts, errors: loaded.errors.map(shape), warnings: loaded.warnings.map(shape) }
        return reply
      }
      case 'templates.list': return [...(loaded?.nodes.values() ?? [])].filter(n => m.kind === undefined || n.kind === m.kind).map(n => ({ path: n.path, kind: n.kind, file: n.pos.file }))
      case 'templates.info': {
        const n = loaded?.resolve(m.path as string)
        if (!n) throw err('not-found', `no template ${String(m.path)}`)
        return { path: n.path, kind: n.kind, inherits: n.chain, description: (n.value.metadata as { description?: string } | undefined)?.description ?? '' }
      }
      case 'workload.run': case 'workload.update': {
        if (m.peer !== undefined && m.peer !== 'p1') throw err('no-eligible-peer', `no live peer named ${String(m.peer)} can run ${String(m.path)}`)
        const paths = membersOf(m.path as string)
        if (m.type === 'workload.update') {
          const running = paths.filter(p => instances.has(p))
          for (const p of running) { const i = instances.get(p)!; i.vars = { ...i.vars, ...(m.set as Record<string, string> | undefined) }; i.restartLag = 2 }
          start(paths.filter(p => !instances.has(p)), m.set as Record<string, string> | undefined)
          return answer(m, paths, 'running', ctx.signal)
        }
        return answer(m, start(paths, m.set as Record<string, string> | undefined), 'running', ctx.signal)
      }
      case 'workload.restart': {
        const ps = membersOf(m.path as string)
        for (const p of ps) inst(p).restartLag = 2
        return answer(m, ps, 'running', ctx.signal)
      }
      case 'workload.stop': {
        const ps = membersOf(m.path as string)
        for (const p of ps) { const i = inst(p); i.row.status = 'stopped'; for (const c of i.row.containers) c.status = 'exited' }
        return answer(m, ps, 'stopped', ctx.signal)
      }
      case 'workload.purge': {
        const ps = membersOf(m.path as string)
        for (const p of ps) instances.delete(p)
        return answer(m, ps, 'gone', ctx.signal)
      }
      case 'workload.ps': {
        tick()
        return [...instances.values()].map(i => i.row).filter(r => m.all === true || r.status !== 'stopped').filter(r => m.peer === undefined || r.peerName === m.peer)
          .filter(() => m.tag === undefined || peers[0]!.tags.includes(m.tag as string)).map(r => structuredClone(r))
      }
      case 'secrets.add': secrets.set(`${String(m.scope)}/${String(m.name)}`, m.value as string); return { scope: m.scope, name: m.name }
      case 'secrets.rm':
        if (!secrets.delete(`${String(m.scope)}/${String(m.name)}`)) throw err('secret-not-found', `no secret "${String(m.name)}" in ${String(m.scope)}`)
        return null
      case 'secrets.list': return [...secrets.keys()].map(k => ({ scope: k.slice(0, k.lastIndexOf('/')), name: k.slice(k.lastIndexOf('/') + 1) })).filter(r => m.scope === undefined || r.scope === m.scope)
      case 'cluster.peers': return peers
      case 'cluster.token': return { token: 'bW9uay10b2tlbg' }
      case 'cluster.info': return { peerId: peers[0]!.id, name: 'p1', tags: peers[0]!.tags, clusterId: '0123456789abcdef', peers: 1, addrs: peers[0]!.addrs, token: 'bW9uay10b2tlbg' }
      case 'cluster.peer-tags': peers[0]!.tags = m.tags as string[]; return { tags: m.tags }
      case 'cluster.rotate-key': return { epoch: 2, switchAt: Date.now() + 3000, sealedFor: ['12D3KooWa', '12D3KooWb'], skipped: ['12D3KooWc'], secrets: secrets.size }
      case 'daemon.stop': setTimeout(() => { void server?.close() }, 10); return { stopping: true }
      case 'runnable.describe': inst(ctx.target); return describe(ctx.target!)
      case 'runnable.actions': inst(ctx.target); return [{ name: 'put', description: 'store an entry', arguments: { key: { type: 'string' }, value: { type: 'string', default: 'hello' } } }]
      case 'runnable.action': {
        inst(ctx.target)
        const args = (m.args ?? {}) as Record<string, unknown>
        if (m.action !== 'put') throw err('not-found', `${ctx.target!} has no action ${String(m.action)}`)
        if (args.key === undefined) throw err('missing-argument', `action ${ctx.target!}/put needs argument "key"`)
        return { output: `stored ${String(args.key)}=${String(args.value ?? 'hello')}` }
      }
      case 'runnable.exec': {
        inst(ctx.target)
        const cmd = m.cmd as string[]
        const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: execDir, encoding: 'utf8' })
        return { exitCode: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error?.message ?? '') }
      }
      case 'runnable.logs': {
        inst(ctx.target)
        return logs(ctx.target!, m.follow === true, m.tail as number | undefined, ctx.signal)
      }
      default: throw err('unknown-type', `fake monkd does not handle ${m.type}`)
    }
  }

  server = await startApiServer({ socketPath: socket, routes: monkdRoutes(), dispatch, info: { peerId: peers[0]!.id, version: '0.1.0-fake', name: 'p1' } })
  return {
    home, socket, server, seen, instances, slow, secrets,
    get followEnded () { return state.followEnded },
    close: async () => {
      await server!.close()
      rmSync(execDir, { recursive: true, force: true })
      if (opts.home === undefined) rmSync(home, { recursive: true, force: true })
    },
  }
}
