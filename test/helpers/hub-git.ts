// Hub sources for tests: git repositories built at run time from ../shared/corpus (test data, never
// copied into the project) and served by `git daemon` on 127.0.0.1.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { root } from './cli.js'

export const corpusDir = resolve(root, '../shared/corpus')
export const haveCorpus = existsSync(corpusDir)

export function git (dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'test', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 'test', GIT_COMMITTER_EMAIL: 't@example.invalid' } })
}

/** A git repository at `dir` holding the corpus kit folders (all but `_history`), one commit. */
export function corpusRepo (dir: string, only?: (name: string) => boolean): string {
  mkdirSync(dir, { recursive: true })
  for (const n of readdirSync(corpusDir)) {
    if (n.startsWith('_') || n === 'README.md' || (only !== undefined && !only(n))) continue
    cpSync(join(corpusDir, n), join(dir, n), { recursive: true })
  }
  git(dir, 'init', '-q', '-b', 'main')
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', 'corpus')
  return git(dir, 'rev-parse', 'HEAD').trim()
}

export function commitAll (dir: string, message: string): string {
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', message)
  return git(dir, 'rev-parse', 'HEAD').trim()
}

async function freePort (): Promise<number> {
  return await new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => { const a = s.address(); const port = typeof a === 'object' && a ? a.port : 0; s.close(() => res(port)) })
  })
}

export interface GitServer { url: (repo: string) => string, stop: () => void, child: ChildProcess }

/** `git daemon` serving every repository under `base` on 127.0.0.1 (git://127.0.0.1:PORT/<name>). */
export async function serveGit (base: string): Promise<GitServer> {
  const port = await freePort()
  const child = spawn('git', ['daemon', '--export-all', '--reuseaddr', `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, base], { stdio: ['ignore', 'ignore', 'pipe'] })
  // ready when a connection is accepted
  const deadline = Date.now() + 10_000
  for (;;) {
    const ok = await new Promise<boolean>(res => {
      const c = connect(port, '127.0.0.1')
      c.once('connect', () => { c.destroy(); res(true) })
      c.once('error', () => { res(false) })
    })
    if (ok) break
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error('git daemon did not start') }
    await new Promise(r => setTimeout(r, 100))
  }
  return { url: repo => `git://127.0.0.1:${port}/${repo}`, stop: () => { child.kill('SIGTERM') }, child }
}
