// How long does create + start (until the container reports running) take through monk's docker
// runtime and its process runtime, next to a plain `docker run -d` of the same image (the floor)?
// Target: monk-docker p50 <= 1.3 x docker-run p50.
// Usage: npm run bench -- runtime [--runs N] [--warmup N]      (needs scripts/test-docker.sh for docker rows)
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { DockerRuntime } from '../actors/runtime/docker.js'
import { ProcessRuntime } from '../actors/runtime/process.js'
import type { ContainerSpec, Runtime } from '../actors/runtime/runtime.js'
import { containerSpec } from '../actors/runtime/spec.js'

const root = resolve(import.meta.dirname, '..')
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name)
  return i > 0 ? Number(process.argv[i + 1]) : dflt
}
const runs = arg('--runs', 40)
const warmup = arg('--warmup', 3)
const image = process.env['MONK_TEST_IMAGE'] ?? 'monk-test/busybox:1'
const run = randomBytes(4).toString('hex')
const LABEL = 'monk.bench'

type System = 'monk-docker' | 'monk-process' | 'docker-run'
interface Row { system: System, start_ms_p50: number, start_ms_p99: number }

function pct (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number
}

function spec (i: number, system: string): ContainerSpec {
  // Same workload and settings for all three: host network, an init, `sleep 3600` without a shell.
  const s = containerSpec({ image, cmd: ['sleep', '3600'] }, { instance: `bench/${run}/${i}`, container: system, peer: 'bench', name: `monk-bench-${run}-${system}-${i}` }).spec
  s.labels[LABEL] = run
  return s
}

/** create + start + inspect says running, in ms. */
async function monkStart (rt: Runtime, s: ContainerSpec): Promise<{ ms: number, id: string }> {
  const t0 = performance.now()
  const { id } = await rt.create(s)
  await rt.start(id)
  const info = await rt.inspect(id)
  const ms = performance.now() - t0
  if (!info.running) throw new Error(`${s.name} is ${info.state} after start`)
  return { ms, id }
}

async function dockerRun (i: number): Promise<{ ms: number, id: string }> {
  const t0 = performance.now()
  const out = await new Promise<string>((ok, fail) => {
    const c = spawn('docker', ['run', '-d', '--init', '--network', 'host', '--label', `${LABEL}=${run}`, '--name', `monk-bench-${run}-run-${i}`, image, 'sleep', '3600'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let o = ''
    let e = ''
    c.stdout.on('data', (d: Buffer) => { o += d.toString() })
    c.stderr.on('data', (d: Buffer) => { e += d.toString() })
    c.on('error', fail)
    c.on('close', code => { if (code === 0) ok(o.trim()); else fail(new Error(`docker run exited ${code ?? '?'}: ${e.trim()}`)) })
  })
  return { ms: performance.now() - t0, id: out }
}

const samples: Record<System, number[]> = { 'monk-docker': [], 'monk-process': [], 'docker-run': [] }
let docker: DockerRuntime | undefined
try {
  docker = await DockerRuntime.open()
  if (!await docker.hasImage(image)) throw new Error(`image ${image} is missing (run: bash scripts/test-docker.sh)`)
} catch (err) {
  console.log(`docker rows skipped: ${(err as Error).message}`)
  await docker?.close()
  docker = undefined
}
const stateDir = mkdtempSync(join(tmpdir(), 'monk-bench-process-'))
const proc = await ProcessRuntime.open({ stateDir })

try {
  // Setup check before timing: each system starts one container that really runs.
  if (docker) {
    const a = await monkStart(docker, spec(-1, 'check'))
    await docker.remove(a.id, { force: true })
    const b = await dockerRun(-1)
    await docker.remove(b.id, { force: true })
  }
  const p = await monkStart(proc, spec(-1, 'check'))
  await proc.remove(p.id, { force: true })

  // Round-robin, so drift on a shared machine hits every system alike; removal is not timed.
  for (let i = 0; i < warmup + runs; i++) {
    const keep = i >= warmup
    if (docker) {
      const a = await monkStart(docker, spec(i, 'docker'))
      await docker.remove(a.id, { force: true })
      const b = await dockerRun(i)
      await docker.remove(b.id, { force: true })
      if (keep) { samples['monk-docker'].push(a.ms); samples['docker-run'].push(b.ms) }
    }
    const c = await monkStart(proc, spec(i, 'process'))
    await proc.remove(c.id, { force: true })
    if (keep) samples['monk-process'].push(c.ms)
  }
} finally {
  if (docker) {
    for (const c of await docker.list({ [LABEL]: run })) await docker.remove(c.id, { force: true })
    await docker.close()
  }
  for (const c of await proc.list({})) await proc.remove(c.id, { force: true })
  await proc.close()
  rmSync(stateDir, { recursive: true, force: true })
}

const rows: Row[] = []
console.log(`\ncreate + start until running, ${runs} runs each (after ${warmup} warm-up), image ${image}\n`)
console.log('system          p50 ms   p90 ms   p99 ms   min ms   starts/s')
for (const system of ['docker-run', 'monk-docker', 'monk-process'] as const) {
  const s = [...samples[system]].sort((a, b) => a - b)
  if (s.length === 0) continue
  const r: Row = { system, start_ms_p50: Number(pct(s, 50).toFixed(1)), start_ms_p99: Number(pct(s, 99).toFixed(1)) }
  rows.push(r)
  const perSec = 1000 / (s.reduce((a, b) => a + b, 0) / s.length)
  console.log(`${system.padEnd(14)} ${pct(s, 50).toFixed(1).padStart(7)}  ${pct(s, 90).toFixed(1).padStart(7)}  ${pct(s, 99).toFixed(1).padStart(7)}  ${(s[0] ?? 0).toFixed(1).padStart(7)}  ${perSec.toFixed(1).padStart(9)}`)
}
const floor = rows.find(r => r.system === 'docker-run')
const monk = rows.find(r => r.system === 'monk-docker')
if (floor && monk) {
  const ratio = monk.start_ms_p50 / floor.start_ms_p50
  console.log(`\nmonk-docker p50 / docker-run p50 = ${ratio.toFixed(2)} (target <= 1.3: ${ratio <= 1.3 ? 'met' : 'NOT met'})`)
}
mkdirSync(join(root, 'benchmarks/results'), { recursive: true })
writeFileSync(join(root, 'benchmarks/results/runtime.json'), JSON.stringify(rows, null, 2) + '\n')
console.log('wrote benchmarks/results/runtime.json')
