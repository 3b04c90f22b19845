// How long from `cluster grow` to joined, for K machines, on local machines and on each emulated
// cloud? One operator monkd; the emulators run in this process and boot each machine as a real
// monkd (~1.5 s and ~130 MB each), so at K = 10 the machine's 2 cores are the bottleneck, not the
// API. Per machine: request → booting (API calls: list, image/firewall, create) and booting →
// joined (monkd starts, dials, syncs). The monk CLI's own start (~1 s under tsx) is not included.
// Usage: npm run bench -- grow [--sizes 1,5,10] [--providers local,aws,gcp,digitalocean] [--trials 1]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { NodeRow } from '../actors/cloud-manager.js'
import type { PeerMessage } from '../cli/api/messages.js'
import { startCloud, type Cloud } from '../test/helpers/cloud-emulators.js'
import { killLocalMachines } from '../test/helpers/cloud-scenario.js'
import { spawnMonkd, until, type MonkdProcess } from '../test/helpers/monkd.js'

const root = resolve(import.meta.dirname, '..')
const arg = (name: string, d: string): string => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] ?? d : d }
const sizes = arg('sizes', '1,5,10').split(',').map(Number)
const kinds = arg('providers', 'local,aws,gcp,digitalocean').split(',') as Array<'local' | 'aws' | 'gcp' | 'digitalocean'>
const trials = Number(arg('trials', '1'))
const send = <R = unknown>(p: MonkdProcess, msg: PeerMessage): Promise<R> => p.client.request<R>('peer', msg)
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN }

interface Row { provider: string, machines: number, trial: number, all_joined_ms: number, joined_ms_p50: number, joined_ms_p90: number, api_ms_p50: number, boot_ms_p50: number, shrink_ms: number }

const base = mkdtempSync(join(tmpdir(), 'monk-bench-grow-'))
const clouds = new Map<string, Cloud>()
const rows: Row[] = []
let op: MonkdProcess | undefined
try {
  op = await spawnMonkd('op', join(base, 'op'), ['--runtime', 'process', '--log-level', 'warn'])
  for (const kind of kinds) {
    if (kind === 'local') {
      await send(op, { type: 'cluster.provider-add', kind, credentials: {}, options: { runtime: 'process', dir: join(base, 'machines') } })
    } else {
      const c = await startCloud(kind)
      clouds.set(kind, c)
      await send(op, { type: 'cluster.provider-add', kind, credentials: c.creds, options: c.options })
    }
  }
  let seq = 0
  for (const kind of kinds) {
    const c = clouds.get(kind)
    for (const k of sizes) {
      for (let t = 1; t <= trials; t++) {
        const name = `b${++seq}`
        const t0 = Date.now()
        const { nodes } = await send<{ nodes: string[] }>(op, {
          type: 'cluster.grow', provider: kind, name, count: k, growTimeout: 5,
          ...(c ? { region: c.where.region, instanceType: c.instanceType, ...(c.where.zone ? { zone: c.where.zone } : {}) } : {}),
        })
        const joinedAt = new Map<string, number>()
        let last: NodeRow[] = []
        while (joinedAt.size < k && Date.now() - t0 < 240_000) {
          last = await send<NodeRow[]>(op, { type: 'cluster.nodes', names: nodes })
          for (const r of last) if (r.state === 'joined' && !joinedAt.has(r.name)) joinedAt.set(r.name, Date.now() - t0)
          if (last.some(r => r.state === 'failed')) throw new Error(`setup failed: ${JSON.stringify(last.filter(r => r.state === 'failed').map(r => r.error))}`)
          await new Promise(resolve => setTimeout(resolve, 20))
        }
        if (joinedAt.size < k) throw new Error(`setup failed: only ${joinedAt.size}/${k} ${kind} machines joined within 240 s`)
        const at = (r: NodeRow, s: string): number => r.history.find(h => h.state === s)?.at ?? NaN
        const api = last.map(r => at(r, 'booting') - r.requestedAt)
        const boot = last.map(r => at(r, 'joined') - at(r, 'booting'))
        // leave a clean slate: every machine terminated before the next size
        const s0 = Date.now()
        await send(op, { type: 'cluster.peer-remove', ids: nodes, force: true })
        await until(`${kind} K=${k} machines gone`, async () => (await send<NodeRow[]>(op!, { type: 'cluster.nodes', names: nodes })).every(r => r.state === 'gone'), 120_000, 50)
        const shrink = Date.now() - s0
        if (c) await until(`${kind} emulator empty`, () => c.emu.live().length === 0, 30_000, 50)
        const joined = [...joinedAt.values()]
        const row: Row = { provider: kind === 'local' ? 'local' : `${kind} (emulated)`, machines: k, trial: t, all_joined_ms: Math.max(...joined), joined_ms_p50: pct(joined, 0.5), joined_ms_p90: pct(joined, 0.9), api_ms_p50: pct(api, 0.5), boot_ms_p50: pct(boot, 0.5), shrink_ms: shrink }
        rows.push(row)
        console.log(`  ${row.provider} K=${k} trial ${t}: all joined in ${row.all_joined_ms} ms (API p50 ${row.api_ms_p50} ms, boot p50 ${row.boot_ms_p50} ms); terminated in ${shrink} ms`)
      }
    }
  }
} finally {
  op?.child.kill('SIGKILL')
  killLocalMachines(join(base, 'machines'))
  for (const c of clouds.values()) await c.emu.close()
  rmSync(base, { recursive: true, force: true })
}

const headers = ['provider', 'K', 'all joined ms', 'joined p50', 'joined p90', 'API p50', 'boot p50', 'shrink ms']
const table = rows.map(r => [r.provider, String(r.machines), String(r.all_joined_ms), String(r.joined_ms_p50), String(r.joined_ms_p90), String(r.api_ms_p50), String(r.boot_ms_p50), String(r.shrink_ms)])
const widths = headers.map((h, i) => Math.max(h.length, ...table.map(r => r[i]!.length)))
console.log('\n' + [headers, ...table].map(r => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n'))
mkdirSync(join(root, 'benchmarks/results'), { recursive: true })
writeFileSync(join(root, 'benchmarks/results/grow.json'), JSON.stringify({ question: 'time from cluster grow to joined, K machines', cores: (await import('node:os')).cpus().length, node: process.version, rows }, null, 2) + '\n')
console.log('\nwrote benchmarks/results/grow.json')
process.exit(0)
