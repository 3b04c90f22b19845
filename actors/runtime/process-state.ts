// Persistent state of the process runtime: one directory per container holding its record
// (state.json, mode 0600), its output pipes and log files, so a new daemon finds pids, logs and
// policies. The environment's values are never written (they carry resolved secrets): the record
// keeps their names, and a daemon that adopts a live process reads them back from
// /proc/<pid>/environ (recoverEnv).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { StateLockedError } from './errors.js'
import type { ContainerSpec, ContainerState, FieldNote } from './runtime.js'

/** What the process runtime knows about one container; written atomically on every change. */
export interface ProcessRecord {
  version: 1
  id: string
  name: string
  spec: ContainerSpec
  unsupported: FieldNote[]
  state: Extract<ContainerState, 'created' | 'running' | 'restarting' | 'exited'>
  /** Main process (also its process group id: it leads its own session). */
  pid: number | null
  /** Start time of `pid` in clock ticks since boot (/proc/PID/stat field 22): tells our process from a reused pid. */
  pidStart: string | null
  exitCode: number | null
  restartCount: number
  /** Delay before the last restart (backoff doubles it). */
  backoffMs: number
  stoppedByUser: boolean
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  /** Names of spec.env as written: their values are kept in memory only (on disk spec.env is empty). */
  envNames?: string[]
}

/** The values of `names` in the initial environment of process `pid`; undefined when it cannot be read. */
export function recoverEnv (pid: number, names: readonly string[]): Record<string, string> | undefined {
  let raw: string
  try {
    raw = readFileSync(`/proc/${pid}/environ`, 'utf8')
  } catch {
    return undefined
  }
  const want = new Set(names)
  const out: Record<string, string> = {}
  for (const item of raw.split('\0')) {
    const i = item.indexOf('=')
    if (i > 0 && want.has(item.slice(0, i))) out[item.slice(0, i)] = item.slice(i + 1)
  }
  return out
}

export const RECORD_FILE = 'state.json'
export const STDOUT_PIPE = 'stdout.pipe'
export const STDERR_PIPE = 'stderr.pipe'
export const WORK_DIR = 'work'

/** Start time of a live, non-zombie process, or null when there is none with that pid. */
export function processStart (pid: number): string | null {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  if (rest[0] === 'Z' || rest[0] === 'X') return null
  return rest[19] ?? null
}

/** The process `pid` still runs and is the one that was started at `start`. */
export function sameProcessAlive (pid: number, start: string | null): boolean {
  const now = processStart(pid)
  return now !== null && (start === null || now === start)
}

/** Directories of this process that it has locked (a pid check cannot tell two objects of one process apart). */
const heldHere = new Set<string>()

export class StateDir {
  readonly root: string
  private readonly lockPath: string
  private locked = false

  constructor (root: string) {
    this.root = root
    this.lockPath = join(root, 'lock')
  }

  containersDir (): string { return join(this.root, 'containers') }
  dirOf (id: string): string { return join(this.root, 'containers', id) }

  /** Take the directory for this runtime object; StateLockedError when a live one holds it. */
  lock (): void {
    mkdirSync(this.containersDir(), { recursive: true })
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx')
        writeSync(fd, `${process.pid} ${processStart(process.pid) ?? ''}\n`)
        closeSync(fd)
        this.locked = true
        heldHere.add(this.root)
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const [pidText, start] = readFileSync(this.lockPath, 'utf8').trim().split(' ')
      const pid = Number(pidText)
      const live = pid === process.pid ? heldHere.has(this.root) : (Number.isInteger(pid) && pid > 0 && sameProcessAlive(pid, start || null))
      if (live) throw new StateLockedError(this.root, pid)
      unlinkSync(this.lockPath) // its holder is gone
    }
    throw new StateLockedError(this.root, -1)
  }

  unlock (): void {
    if (!this.locked) return
    this.locked = false
    heldHere.delete(this.root)
    try { unlinkSync(this.lockPath) } catch { /* already gone */ }
  }

  /**
   * Every readable record; a directory without one (a create that crashed half-way) is removed,
   * one that cannot be read is left in place and reported through `onBad`.
   */
  readAll (onBad: (id: string, why: string) => void = () => {}): ProcessRecord[] {
    const out: ProcessRecord[] = []
    for (const id of readdirSync(this.containersDir())) {
      const file = join(this.dirOf(id), RECORD_FILE)
      if (!existsSync(file)) { rmSync(this.dirOf(id), { recursive: true, force: true }); continue }
      try {
        const rec = JSON.parse(readFileSync(file, 'utf8')) as ProcessRecord
        if (rec.version === 1 && rec.id === id) out.push(rec)
        else onBad(id, `unknown record version ${String(rec.version)}`)
      } catch (err) {
        onBad(id, (err as Error).message)
      }
    }
    return out
  }

  /** Atomic replace: a crash leaves the old record or the new one, never half of one. */
  write (rec: ProcessRecord): void {
    const file = join(this.dirOf(rec.id), RECORD_FILE)
    const onDisk: ProcessRecord = { ...rec, spec: { ...rec.spec, env: {} }, envNames: Object.keys(rec.spec.env) }
    writeFileSync(`${file}.tmp`, JSON.stringify(onDisk, null, 1), { mode: 0o600 })
    renameSync(`${file}.tmp`, file)
  }

  remove (id: string): void {
    rmSync(this.dirOf(id), { recursive: true, force: true })
  }
}
