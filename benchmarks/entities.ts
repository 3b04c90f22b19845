// What does running an entity action in the QuickJS sandbox add over plain Node? One lifecycle call
// doing one `http.get` to a local fake, against a plain `fetch` of the same URL (interleaved, so a
// load spike hits both); the sandbox's cold start-up (a fresh wasm context plus the host modules)
// is measured apart. Targets: action overhead <= 5 ms p50; start-up < 50 ms.
// Usage: npm run bench -- entities [--n N] [--startups M]
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { runAction } from '../actors/entity/lifecycle.js'
import { dropIdleRuntimes, invoke } from '../actors/entity/sandbox.js'
import { entityType } from '../actors/entity/type.js'

const root = resolve(import.meta.dirname, '..')
const arg = (name: string, dflt: number): number => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt }
const n = arg('--n', 300)
const startups = arg('--startups', 40)

const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))] ?? NaN }
const stats = (xs: number[]): { p50: number, p90: number, p99: number, mean: number } => ({ p50: pct(xs, 50), p90: pct(xs, 90), p99: pct(xs, 99), mean: xs.reduce((a, b) => a + b, 0) / xs.length })
const r2 = (x: number): number => Math.round(x * 100) / 100

const server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true,"id":"it-1"}') })
await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/items/it-1`

const type = entityType('bench/item', { lifecycle: { 'check-readiness': 'function main(def, state, ctx) { var r = http.get(def.url); if (r.statusCode !== 200) throw "not ready"; state.ok = JSON.parse(r.body).ok; return state }' } })
const host = {
  instance: 'bench/one', permittedSecrets: [], files: {}, cloud: {},
  secrets: { read: () => undefined, write: () => Promise.resolve(), remove: () => Promise.resolve() },
  act: () => Promise.resolve(''), sleep: (ms: number) => new Promise<void>(r => setTimeout(r, ms)),
}
const action = async (): Promise<void> => {
  const r = await runAction({ type, instance: 'bench/one', action: 'check-readiness', definition: { url }, state: {}, host, moduleSource: () => undefined })
  if (r.state.ok !== true) throw new Error('the action did not read the fake')
}
const plain = async (): Promise<void> => {
  const r = await fetch(url)
  if ((JSON.parse(await r.text()) as { ok?: boolean }).ok !== true) throw new Error('fetch did not read the fake')
}

// the setup works before anything is timed
await action(); await plain()
for (let i = 0; i < 20; i++) { await action(); await plain() }

const tAction: number[] = []
const tPlain: number[] = []
for (let i = 0; i < n; i++) {
  let t = performance.now(); await plain(); tPlain.push(performance.now() - t)
  t = performance.now(); await action(); tAction.push(performance.now() - t)
}

// cold start-up: a fresh wasm context with the prelude and host modules, running an empty main
dropIdleRuntimes()
const tStart: number[] = []
for (let i = 0; i < startups; i++) {
  const r = await invoke({ script: 'function main() {}', file: 'bench', host: { $globals: {} }, moduleSource: () => undefined, definition: {}, state: {}, ctx: {}, cold: true })
  tStart.push(r.startupMs)
}
server.close()

const a = stats(tAction)
const p = stats(tPlain)
const s = stats(tStart)
const overhead = { p50: r2(a.p50 - p.p50), p99: r2(a.p99 - p.p99) }
const rows = [['plain fetch', p], ['sandbox action (1 http.get)', a], ['sandbox cold start-up', s]] as const
console.log(`entities: ${n} actions, ${startups} cold start-ups (Node ${process.version})`)
console.log('case                          p50 ms   p90 ms   p99 ms   mean ms')
for (const [name, x] of rows) console.log(`${name.padEnd(28)}${r2(x.p50).toFixed(2).padStart(8)} ${r2(x.p90).toFixed(2).padStart(8)} ${r2(x.p99).toFixed(2).padStart(8)} ${r2(x.mean).toFixed(2).padStart(9)}`)
console.log(`action overhead over plain fetch: p50 ${overhead.p50} ms (target <= 5), p99 ${overhead.p99} ms; cold start-up p50 ${r2(s.p50)} ms (target < 50)`)
mkdirSync(resolve(root, 'benchmarks/results'), { recursive: true })
writeFileSync(resolve(root, 'benchmarks/results/entities.json'), JSON.stringify({
  at: new Date().toISOString(), node: process.version, n, startups,
  plainFetchMs: p, actionMs: a, overheadMs: overhead, coldStartupMs: s,
  targets: { overheadP50Ms: 5, startupMs: 50 }, pass: { overhead: overhead.p50 <= 5, startup: s.p50 < 50 },
}, null, 2) + '\n')
process.exit(0)
