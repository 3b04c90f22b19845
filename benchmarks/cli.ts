// How long does a `monk` command take from the user's shell, next to `node -e 0` (the floor of any
// Node CLI)? p50 of `monk version`, `monk ps` and `monk ps --output json` with monkd up and running
// N instances (default 20), all run in the same interleaved rounds. Target: `monk ps` <= 2x the floor.
// Then the interactive rows (cli-interactive.ts): keystroke round trip of `monk exec -it` against
// `docker exec -it` (Docker runtime, same run) and on the process runtime, and port-forward throughput.
// Usage: npm run bench -- cli [--rounds N] [--instances N] [--keys N] [--forward-mb N] [--no-docker] [--monk PATH (another build of monk.js to time)]
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { interactiveRows } from './cli-interactive.js'

const root = resolve(import.meta.dirname, '..')
const arg = (name: string, d: number): number => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : d }
const other = process.argv.indexOf('--monk')
const monkJs = other > 0 ? resolve(process.argv[other + 1]!) : join(root, 'dist/cli/monk.js')
const rounds = arg('--rounds', 40)
const instances = arg('--instances', 20)
const keys = arg('--keys', 300)
const forwardMb = arg('--forward-mb', 256)

/** Builds dist/ when a source file is newer than dist/cli/monk.js: we time the built binary. */
function ensureBuilt (): void {
  const newest = (dir: string): number => readdirSync(dir).reduce((t, n) => {
    const p = join(dir, n)
    const st = statSync(p)
    return Math.max(t, st.isDirectory() ? newest(p) : /\.ts$/.test(n) ? st.mtimeMs : 0)
  }, 0)
  const built = existsSync(monkJs) ? statSync(monkJs).mtimeMs : 0
  if (built < Math.max(...['cli', 'actors', 'mesh', 'grammar'].map(d => newest(join(root, d))))) {
    console.log('building dist/ (sources are newer)…')
    execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'ignore' })
  }
}

const home = mkdtempSync(join(tmpdir(), 'monk-bench-cli-'))
const env = { ...process.env, NO_COLOR: '1' }
function monk (...args: string[]): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [monkJs, '--home', home, ...args], { env, encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}
function must (...args: string[]): string {
  const r = monk(...args)
  if (r.status !== 0) throw new Error(`setup failed: monk ${args.join(' ')} (exit ${r.status}): ${r.stderr}${r.stdout}`)
  return r.stdout
}

function cleanup (): void {
  monk('purge', '--timeout', '60', 'bench/all')
  monk('daemon', 'stop')
  try {
    const pid = (JSON.parse(readFileSync(join(home, 'monkd-args.json'), 'utf8')) as { pid?: number }).pid
    if (pid !== undefined) process.kill(pid, 'SIGKILL')
  } catch { /* stopped */ }
  const dir = join(home, 'runtime', 'process', 'containers')
  if (existsSync(dir)) {
    for (const id of readdirSync(dir)) {
      try {
        const pid = (JSON.parse(readFileSync(join(dir, id, 'state.json'), 'utf8')) as { pid?: number }).pid
        if (typeof pid === 'number') process.kill(-pid, 'SIGKILL')
      } catch { /* gone */ }
    }
  }
  rmSync(home, { recursive: true, force: true })
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN
}

try {
  if (other < 0) ensureBuilt()
  // Setup: one monkd (process runtime, loopback), N sleeping instances, all running before timing.
  must('daemon', 'start', '--runtime', 'process', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', 'bench')
  const kit = join(home, 'kit')
  mkdirSync(kit)
  const names = Array.from({ length: instances }, (_, i) => `w${i}`)
  writeFileSync(join(kit, 'bench.yaml'), `namespace: bench\n${names.map(n => `${n}:\n  defines: runnable\n  containers:\n    main:\n      image: monk-test/busybox\n      bash: exec sleep 100000\n`).join('')}all:\n  defines: group\n  members: [${names.join(', ')}]\n`)
  must('load', kit)
  must('run', '--timeout', '120', 'bench/all')
  const rows = JSON.parse(must('--output', 'json', 'ps')) as Array<{ status: string }>
  if (rows.length !== instances || rows.some(r => r.status !== 'running')) throw new Error(`setup failed: ps shows ${rows.filter(r => r.status === 'running').length} of ${instances} running`)
  const psText = must('ps')
  if (psText.trim().split('\n').length !== instances + 1) throw new Error('setup failed: ps table has the wrong number of lines')

  const cases: Array<{ case: string, argv: string[] }> = [
    { case: 'node -e 0 (floor)', argv: ['-e', '0'] },
    { case: 'monk version', argv: [monkJs, '--home', home, 'version'] },
    { case: `monk ps (${instances} instances)`, argv: [monkJs, '--home', home, 'ps'] },
    { case: `monk ps --output json (${instances} instances)`, argv: [monkJs, '--home', home, '--output', 'json', 'ps'] },
  ]
  const times = cases.map(() => [] as number[])
  for (let r = -3; r < rounds; r++) { // 3 warm-up rounds, then interleaved timed rounds
    cases.forEach((c, i) => {
      const t = process.hrtime.bigint()
      const out = spawnSync(process.execPath, c.argv, { env, stdio: ['ignore', 'pipe', 'pipe'] })
      const ms = Number(process.hrtime.bigint() - t) / 1e6
      if (out.status !== 0) throw new Error(`${c.case} failed (exit ${out.status}): ${String(out.stderr)}`)
      if (r >= 0) times[i]!.push(ms)
    })
  }
  const floor = pct(times[0]!, 0.5)
  const results = cases.map((c, i) => ({
    case: c.case,
    ms_p50: +pct(times[i]!, 0.5).toFixed(1),
    ms_p90: +pct(times[i]!, 0.9).toFixed(1),
    ms_p99: +pct(times[i]!, 0.99).toFixed(1),
    x_floor: +(pct(times[i]!, 0.5) / floor).toFixed(2),
  }))
  console.log(`monk CLI latency: ${rounds} rounds, monkd up with ${instances} running instances (process runtime), node ${process.version}`)
  console.table(results)
  const ps = results[2]!
  const verdict = ps.x_floor <= 2 ? 'meets' : 'misses'
  console.log(`monk ps p50 = ${ps.ms_p50} ms = ${ps.x_floor}x the floor (${floor.toFixed(1)} ms): ${verdict} the target (<= 2x)`)
  const docker = !process.argv.includes('--no-docker') && spawnSync('docker', ['image', 'inspect', 'monk-test/busybox:1'], { stdio: 'ignore' }).status === 0
  const interactive = await interactiveRows({ monkJs, home, keys, forwardMb, docker })
  console.log(`interactive: ${keys} keystrokes per case (one byte to a local pty, until the remote terminal's echo), port-forward of ${forwardMb} MiB${docker ? '' : ' (no Docker: docker rows left out)'}`)
  console.table(interactive)
  const over = interactive.find(r => r.over_docker_p50 !== undefined)
  const shellMeets = over ? Number(over.over_docker_p50) <= 10 && Number(over.over_docker_p99) <= 10 : null
  if (over) console.log(`monk exec -it over docker exec -it: p50 +${over.over_docker_p50} ms, p99 +${over.over_docker_p99} ms: ${shellMeets === true ? 'meets' : 'misses'} the target (<= 10 ms)`)
  mkdirSync(join(root, 'benchmarks/results'), { recursive: true })
  if (other > 0) console.log(`(timed ${monkJs}; results/cli.json not written)`)
  else writeFileSync(join(root, 'benchmarks/results/cli.json'), JSON.stringify({ rounds, instances, keys, forwardMb, node: process.version, target: 'monk ps p50 <= 2x node -e 0; monk exec -it keystroke p50/p99 <= docker exec -it + 10 ms', meets_target: ps.x_floor <= 2, shell_meets_target: shellMeets, results, interactive }, null, 2) + '\n')
} finally {
  cleanup()
}
