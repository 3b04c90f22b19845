// Running `monk` for CLI tests: in-process (fast: main() with stdout/stderr captured) or as a real
// process from the sources (for stdin, signals and exit codes end to end).
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { main } from '../../cli/monk.js'
import { root, tsNode } from './cli.js'

export interface Ran { code: number, out: string, err: string }

let busy = false

/** Runs main(args) in this process with stdout and stderr captured (one at a time). */
export async function monkIn (args: string[]): Promise<Ran> {
  if (busy) throw new Error('monkIn is not re-entrant')
  busy = true
  const out: string[] = []
  const err: string[] = []
  const ow = process.stdout.write.bind(process.stdout)
  const ew = process.stderr.write.bind(process.stderr)
  process.stdout.write = ((chunk: string | Uint8Array) => { out.push(String(chunk)); return true }) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => { err.push(String(chunk)); return true }) as typeof process.stderr.write
  process.exitCode = undefined
  try {
    const code = await main(args)
    return { code, out: out.join(''), err: err.join('') }
  } finally {
    process.stdout.write = ow
    process.stderr.write = ew
    process.exitCode = undefined
    busy = false
  }
}

/** Runs `monk ARGS` as a process from the sources, feeding `input` on stdin. */
export function monkProc (args: string[], opts: { input?: string, env?: Record<string, string>, signalAfter?: { text: string, signal: NodeJS.Signals } } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsNode, join(root, 'cli/monk.ts'), ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    let signalled = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (opts.signalAfter && !signalled && out.includes(opts.signalAfter.text)) { signalled = true; child.kill(opts.signalAfter.signal) }
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out, err }))
    child.stdin.end(opts.input ?? '')
  })
}
