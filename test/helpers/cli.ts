// Running monk's entry points as real processes from tests, from any working directory.
import { spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

export const root = resolve(import.meta.dirname, '../..')
/** Node flags that run TypeScript sources (tsx) with the polyfill first, whatever the cwd. */
export const tsNode = ['--import', pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href, '--import', pathToFileURL(join(root, 'polyfill.ts')).href]

/** Runs `monk ARGS` from the sources and waits for it. */
export function monk (args: string[], opts: { cwd?: string, env?: Record<string, string> } = {}): { code: number | null, out: string, err: string } {
  const r = spawnSync(process.execPath, [...tsNode, join(root, 'cli/monk.ts'), ...args], { cwd: opts.cwd ?? root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...opts.env } })
  return { code: r.status, out: r.stdout, err: r.stderr }
}
