// `npm run chaos -- --peers 5 --rounds 200 --seed S [--runtime docker]`: a chaos run against a local
// cluster it starts. Exits 0 when every invariant held, 1 with the seed and the history otherwise.
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { root } from './cluster.js'
import { parseSeed } from './random.js'
import { runChaos, type ChaosOptions } from './run.js'
import { FAULT_KINDS, type FaultKind } from './schedule.js'

const usage = `usage: npm run chaos -- [--peers N] [--rounds N] [--seed S] [--runtime process|docker]
  [--hold-ms MS] [--ops N] [--max-skew-ms MS] [--tmpfs-mb MB] [--tombstone-ms MS] [--converge-ms MS]
  [--run-bound-ms MS] [--faults kill,pause,partition,restart,skew,disk] [--history FILE] [--keep] [--json]`

/** Parses chaos options shared by the CLI and the benchmark. */
export function chaosOptions (argv: string[], log: (line: string) => void): ChaosOptions & { json: boolean } {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      peers: { type: 'string' }, rounds: { type: 'string' }, seed: { type: 'string' }, runtime: { type: 'string' },
      'hold-ms': { type: 'string' }, ops: { type: 'string' }, 'max-skew-ms': { type: 'string' }, 'tmpfs-mb': { type: 'string' },
      'tombstone-ms': { type: 'string' }, 'converge-ms': { type: 'string' }, 'run-bound-ms': { type: 'string' },
      faults: { type: 'string' }, history: { type: 'string' }, keep: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true, allowPositionals: false,
  })
  if (v.help) { process.stdout.write(usage + '\n'); process.exit(0) }
  const num = (name: string, text: string | undefined, dflt: number, min: number, max: number): number => {
    if (text === undefined) return dflt
    const n = Number(text)
    if (!/^\d+$/.test(text) || n < min || n > max) throw new Error(`--${name} must be an integer in [${min}, ${max}], got "${text}"`)
    return n
  }
  const runtime = v.runtime ?? 'process'
  if (runtime !== 'process' && runtime !== 'docker') throw new Error(`--runtime must be process or docker, got "${runtime}"`)
  const kinds = v.faults === undefined ? undefined : v.faults.split(',').map(k => k.trim())
  for (const k of kinds ?? []) if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new Error(`--faults: unknown fault "${k}" (known: ${FAULT_KINDS.join(', ')})`)
  const seed = v.seed === undefined ? Math.floor(Math.random() * 0xffffffff) : parseSeed(v.seed)
  const peers = num('peers', v.peers, 3, 2, 50)
  return {
    seed, peers, runtime,
    rounds: num('rounds', v.rounds, 20, 1, 1_000_000),
    holdMs: num('hold-ms', v['hold-ms'], 3000, 100, 600_000),
    opsPerRound: num('ops', v.ops, 3, 1, 1000),
    maxSkewMs: num('max-skew-ms', v['max-skew-ms'], 20_000, 0, 10 * 365 * 24 * 3600_000),
    tmpfsMb: num('tmpfs-mb', v['tmpfs-mb'], 64, 0, 1 << 20),
    tombstoneMs: num('tombstone-ms', v['tombstone-ms'], 3000, 0, 7 * 24 * 3600_000),
    convergeTimeoutMs: num('converge-ms', v['converge-ms'], 60_000, 1000, 3600_000),
    runBoundMs: num('run-bound-ms', v['run-bound-ms'], 30_000, 0, 3600_000),
    historyPath: v.history ?? join(root, 'chaos', 'history', `chaos-${seed}.jsonl`),
    ...(kinds ? { kinds: kinds as FaultKind[] } : {}),
    log, keep: v.keep === true, json: v.json === true,
  }
}

async function main (): Promise<void> {
  let o
  try { o = chaosOptions(process.argv.slice(2), line => process.stderr.write(line + '\n')) } catch (err) {
    process.stderr.write(`chaos: ${(err as Error).message}\n${usage}\n`)
    process.exit(2)
  }
  const r = await runChaos(o)
  process.stdout.write(JSON.stringify(r, null, 2) + '\n')
  if (r.failed) {
    process.stderr.write(`chaos: FAILED with seed ${r.seed} (schedule ${r.schedule_hash}); history: ${r.history}\n` +
      `  reproduce: npm run chaos -- --peers ${r.peers} --rounds ${r.rounds} --seed ${r.seed} --runtime ${r.runtime}\n`)
    process.exit(1)
  }
  process.stderr.write(`chaos: passed (seed ${r.seed}, ${r.acked_writes} acknowledged writes, ${Math.round(r.duration_ms / 1000)} s)\n`)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch(err => { process.stderr.write(`chaos: ${(err as Error).stack ?? String(err)}\n`); process.exit(1) })
}
