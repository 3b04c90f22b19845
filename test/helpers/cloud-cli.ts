// `monk` with the cloud commands registered under `cluster`, for tests, until cli/commands/cluster.ts
// registers them itself (registerClusterGrow). Run as an entry point: node [tsNode] cloud-cli.ts ARGS,
// or in-process with cloudMonk(ARGS). Error handling mirrors cli/monk.ts main().
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { CommanderError, type Command } from 'commander'
import { buildProgram } from '../../cli/monk.js'
import { registerClusterGrow } from '../../cli/commands/cluster-grow.js'
import { CliError, exitCodes } from '../../cli/output.js'
import { root, tsNode } from './cli.js'

/** Registers the cloud commands under `cluster` unless cluster.ts already did. */
export function withCloud (program: Command): Command {
  const cluster = program.commands.find(c => c.name() === 'cluster')
  if (!cluster) throw new Error('monk has no cluster command')
  if (!cluster.commands.some(c => c.name() === 'grow')) {
    registerClusterGrow(cluster)
    const walk = (c: Command): void => { c.exitOverride(); c.commands.forEach(walk) }
    walk(cluster)
  }
  return program
}

async function run (argv: string[]): Promise<number> {
  const json = argv.includes('--output=json') || argv.some((a, i) => a === '--output' && argv[i + 1] === 'json')
  try {
    await withCloud(buildProgram()).parseAsync(argv, { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : exitCodes.ok
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') return exitCodes.ok
      if (json) process.stdout.write(JSON.stringify({ error: { code: 'usage', message: err.message.replace(/^error: /, '') } }) + '\n')
      return exitCodes.usage
    }
    const e = err instanceof CliError ? err : new CliError((err as { code?: string }).code ?? 'internal', (err as Error).message ?? String(err))
    if (json) process.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message } }) + '\n')
    else process.stderr.write(`monk: ${e.message}\n`)
    return e.exitCode
  }
}

export interface Ran { code: number, out: string, err: string }

/** Runs the cloud-enabled `monk ARGS` as a real process (env adds to this process's environment). */
export function cloudMonk (args: string[], opts: { env?: Record<string, string>, input?: string, onErr?: (text: string) => void } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsNode, join(root, 'test/helpers/cloud-cli.ts'), ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; opts.onErr?.(d) })
    child.once('error', reject)
    child.once('close', code => resolve({ code: code ?? 1, out, err }))
    child.stdin.end(opts.input ?? '')
  })
}

if (process.argv[1]?.endsWith('cloud-cli.ts')) {
  run(process.argv.slice(2)).then(code => { process.exitCode = code }, err => { process.stderr.write(`monk: ${String(err)}\n`); process.exitCode = 1 })
}
