// Fetching one hub source with the git CLI: a shallow fetch (depth 1) of the ref into a working
// copy kept under the peer's home, watched for size and file count (a huge repository is stopped,
// with a message) and time. Any URL git can fetch counts, and so does a local path.
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, lstatSync, rmSync, existsSync } from 'node:fs'
import { join } from 'node:path'

export interface FetchLimits {
  /** Largest repository (objects fetched plus working tree), bytes. */
  maxBytes: number
  /** Longest fetch, ms. */
  timeoutMs: number
  /** Most files in the checked-out tree. */
  maxFiles: number
}

export const defaultLimits: FetchLimits = { maxBytes: 256 << 20, timeoutMs: 120_000, maxFiles: 20_000 }

export class FetchError extends Error {
  override readonly name = 'FetchError'
}

/** Bytes under `dir` (files only; symlinks not followed). */
export function dirSize (dir: string): number {
  let total = 0
  let names: string[]
  try { names = readdirSync(dir) } catch { return 0 }
  for (const n of names) {
    const p = join(dir, n)
    try {
      const st = lstatSync(p)
      total += st.isDirectory() ? dirSize(p) : st.size
    } catch { /* removed while counting (git's temporary files) */ }
  }
  return total
}

interface Ran { code: number, out: string, err: string, killed: string | null }

function git (args: string[], cwd: string, watch?: { dir: string, limits: FetchLimits }): Promise<Ran> {
  return new Promise(resolve => {
    const child = spawn('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', LC_ALL: 'C' } })
    let out = ''
    let err = ''
    let killed: string | null = null
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { if (err.length < 64 << 10) err += d })
    const stop = (why: string): void => { if (killed === null) { killed = why; child.kill('SIGKILL') } }
    const timer = watch ? setTimeout(() => stop(`the fetch took longer than ${Math.round(watch.limits.timeoutMs / 1000)} s`), watch.limits.timeoutMs) : undefined
    const sizer = watch
      ? setInterval(() => {
        const size = dirSize(watch.dir)
        if (size > watch.limits.maxBytes) stop(`the repository is larger than the hub's limit of ${Math.round(watch.limits.maxBytes / (1 << 20))} MiB (${Math.round(size / (1 << 20))} MiB fetched so far)`)
      }, 250)
      : undefined
    child.once('error', e => { err += e.message })
    child.once('close', code => {
      if (timer) clearTimeout(timer)
      if (sizer) clearInterval(sizer)
      resolve({ code: code ?? 1, out, err, killed })
    })
  })
}

/** The reason git gave, in one line (its last `fatal:`/`error:` line, else its last line). */
function reason (r: Ran): string {
  const lines = r.err.split('\n').map(l => l.trim()).filter(Boolean)
  const fatal = [...lines].reverse().find(l => /^(fatal|error):/.test(l))
  return (fatal ?? lines[lines.length - 1] ?? `git exited with ${r.code}`).replace(/^(fatal|error):\s*/, '')
}

/**
 * Fetches `ref` (default: the remote's HEAD) of `url` into `dir` (created; its previous content is
 * the previous fetch) and checks it out. Returns the commit. Throws FetchError with git's reason.
 */
export async function fetchSource (url: string, ref: string | null, dir: string, given: Partial<FetchLimits> = {}): Promise<string> {
  const limits: FetchLimits = { ...defaultLimits, ...given }
  mkdirSync(dir, { recursive: true })
  if (!existsSync(join(dir, '.git'))) {
    const init = await git(['init', '-q'], dir)
    if (init.code !== 0) throw new FetchError(`git init failed: ${reason(init)}`)
  }
  const f = await git(['fetch', '-q', '--depth', '1', '--no-tags', url, ref ?? 'HEAD'], dir, { dir, limits })
  if (f.killed !== null) {
    rmSync(dir, { recursive: true, force: true })
    throw new FetchError(f.killed)
  }
  if (f.code !== 0) {
    const why = reason(f)
    if (ref !== null && /couldn't find remote ref|not our ref|invalid refspec/i.test(why)) throw new FetchError(`ref "${ref}" does not exist in ${url}`)
    throw new FetchError(`cannot fetch ${url}: ${why}`)
  }
  const co = await git(['checkout', '-q', '--force', '--detach', 'FETCH_HEAD'], dir)
  if (co.code !== 0) throw new FetchError(`cannot check out ${ref ?? 'HEAD'} of ${url}: ${reason(co)}`)
  await git(['clean', '-q', '-f', '-d', '-x'], dir)
  const head = await git(['rev-parse', 'HEAD'], dir)
  const commit = head.out.trim()
  if (head.code !== 0 || !/^[0-9a-f]{40,64}$/.test(commit)) throw new FetchError(`cannot read the fetched commit of ${url}: ${reason(head)}`)
  const files = await git(['ls-files', '-z'], dir)
  const count = files.out.split('\0').filter(Boolean).length
  if (files.code !== 0) throw new FetchError(`cannot list the files of ${url}: ${reason(files)}`)
  if (count > limits.maxFiles) {
    rmSync(dir, { recursive: true, force: true })
    throw new FetchError(`the repository has ${count} files, more than the hub's limit of ${limits.maxFiles}`)
  }
  const size = dirSize(dir)
  if (size > limits.maxBytes) {
    rmSync(dir, { recursive: true, force: true })
    throw new FetchError(`the repository is larger than the hub's limit of ${Math.round(limits.maxBytes / (1 << 20))} MiB (${Math.round(size / (1 << 20))} MiB)`)
  }
  return commit
}
