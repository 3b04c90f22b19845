// The real `monk` CLI as a process for the cloud tests (cli/monk.ts; its `cluster` group registers
// the cloud commands through registerClusterGrow), with extra environment and stdin.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { root, tsNode } from './cli.js'

export interface Ran { code: number, out: string, err: string }

/** Runs `monk ARGS` as a real process (env adds to this process's environment). */
export function cloudMonk (args: string[], opts: { env?: Record<string, string>, input?: string, onErr?: (text: string) => void } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsNode, join(root, 'cli/monk.ts'), ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; opts.onErr?.(d) })
    child.once('error', reject)
    child.once('close', code => resolve({ code: code ?? 1, out, err }))
    child.stdin.end(opts.input ?? '')
  })
}
