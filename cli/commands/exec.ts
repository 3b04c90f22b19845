// `monk exec PATH -- CMD...` runs one command in a container of an instance (on whichever peer runs
// it). With -t, and for `monk shell` on a terminal, the command runs on a remote terminal streamed
// both ways (attach.ts). Otherwise one request carries the whole input (`exec -i`), and `monk shell`
// fed by a pipe runs each line as its own `sh -c`, remembering the working directory between lines.
import type { Command } from 'commander'
import { CliError, exitCodes, printJson } from '../output.js'
import { requirePath, runnableActor, session, type Session } from './session.js'

/** What the CLI reads from a `runnable.exec` reply (`exitCode`, or `code`, and the two streams). */
export interface ExecReply { exitCode?: number, code?: number, stdout?: string, stderr?: string, output?: string }

export function normaliseExec (r: ExecReply | null): { exitCode: number, stdout: string, stderr: string } {
  const exitCode = typeof r?.exitCode === 'number' ? r.exitCode : typeof r?.code === 'number' ? r.code : 0
  return { exitCode, stdout: r?.stdout ?? r?.output ?? '', stderr: r?.stderr ?? '' }
}

async function execOnce (s: Session, path: string, cmd: string[], container: string | undefined, stdin?: string): Promise<{ exitCode: number, stdout: string, stderr: string }> {
  return normaliseExec(await s.request(runnableActor(path), { type: 'runnable.exec', cmd, ...(container !== undefined ? { container } : {}), ...(stdin !== undefined ? { stdin } : {}) }))
}

/** Most input `exec -i` sends (the request carries it whole; a streamed stdin is not built yet). */
export const EXEC_STDIN_MAX = 1 << 20

/** All of this process's standard input, or a usage error past EXEC_STDIN_MAX. */
async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of process.stdin) {
    const b = typeof c === 'string' ? Buffer.from(c) : c as Buffer
    size += b.length
    if (size > EXEC_STDIN_MAX) throw new CliError('bad-input', `exec -i sends its input in one piece, at most ${EXEC_STDIN_MAX} bytes; this input is larger`, exitCodes.usage)
    chunks.push(b)
  }
  return Buffer.concat(chunks).toString('utf8')
}

const MARK = '\u001e'

/** Wraps a shell line so the directory it ends in comes back after a marker. */
export function shellScript (line: string, cwd: string | undefined): string {
  const cd = cwd !== undefined ? `cd '${cwd.replace(/'/g, `'\\''`)}' 2>/dev/null\n` : ''
  return `${cd}${line}\n__monk_rc=$?; printf '\\n${MARK}%s${MARK}' "$PWD"; exit $__monk_rc`
}

/** Splits a wrapped line's stdout into what the user's command printed and the directory it ended in. */
export function splitShellOutput (stdout: string): { text: string, cwd: string | undefined } {
  const end = stdout.lastIndexOf(MARK)
  const start = end > 0 ? stdout.lastIndexOf(`\n${MARK}`, end - 1) : -1
  if (start < 0) return { text: stdout, cwd: undefined }
  return { text: stdout.slice(0, start), cwd: stdout.slice(start + 2, end) }
}

/** The action of `monk exec` (its flags are in registry.ts). */
export async function exec (path: string, cmdArgs: string[], opts: { container?: string, interactive?: boolean, tty?: boolean }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const p = requirePath(path)
  if (opts.tty === true) {
    if (s.json) throw new CliError('bad-flag', 'exec -t streams a terminal; it has no --output json', exitCodes.usage)
    const { attach } = await import('./attach.js')
    process.exitCode = await attach(s, p, { cmd: cmdArgs, container: opts.container, tty: true, input: opts.interactive === true })
    return
  }
  const input = opts.interactive === true ? await readStdin() : undefined
  const r = await execOnce(s, p, cmdArgs, opts.container, input)
  if (s.json) printJson(r)
  else {
    process.stdout.write(r.stdout)
    process.stderr.write(r.stderr)
  }
  if (r.exitCode !== 0) {
    if (!s.json) s.note(`monk: ${cmdArgs.join(' ')} exited with code ${r.exitCode}`)
    process.exitCode = exitCodes.failure
  }
}

/** The action of `monk shell` (its flags are in registry.ts). */
export async function shell (path: string, opts: { container?: string, shell: string }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const p = requirePath(path)
  if (s.json) throw new CliError('bad-flag', 'monk shell is interactive; use monk exec --output json for scripts', exitCodes.usage)
  if (process.stdin.isTTY) {
    // a terminal: one shell on a remote terminal, its exit code is ours
    const { attach } = await import('./attach.js')
    process.exitCode = await attach(s, p, { cmd: [opts.shell], container: opts.container, tty: true, input: true })
    return
  }
  await execOnce(s, p, [opts.shell, '-c', 'true'], opts.container) // fail early (not found, daemon down)
  const { createInterface } = await import('node:readline')
  const tty = Boolean(process.stdin.isTTY)
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty })
  if (tty) s.note(`Shell in ${p}${opts.container !== undefined ? ` (${opts.container})` : ''}: each line runs as its own ${opts.shell} -c; cd is remembered, nothing reads stdin. Ctrl-D leaves.`)
  let cwd: string | undefined
  let last = 0
  rl.setPrompt(`${p}$ `)
  if (tty) rl.prompt()
  for await (const line of rl) {
    if (line.trim() === 'exit') break
    if (line.trim() !== '') {
      try {
        const r = await execOnce(s, p, [opts.shell, '-c', shellScript(line, cwd)], opts.container)
        const out = splitShellOutput(r.stdout)
        if (out.cwd !== undefined) cwd = out.cwd
        process.stdout.write(out.text)
        if (out.text !== '' && !out.text.endsWith('\n') && tty) process.stdout.write('\n')
        process.stderr.write(r.stderr)
        last = r.exitCode
      } catch (e) {
        const err = e as { code?: string, message?: string }
        process.stderr.write(`monk: ${err.message ?? String(e)}\n`)
        if (err.code === 'daemon-down') throw e
        last = 1
      }
    }
    if (tty) rl.prompt()
  }
  rl.close()
  process.exitCode = last === 0 ? exitCodes.ok : exitCodes.failure
}
