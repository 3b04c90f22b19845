// What makes an emulated machine real: "booting" reads the user data we sent (cloud-config or
// startup script), takes the monkd command line out of its systemd unit and starts that monkd on
// this machine in its own temporary home, on 127.0.0.1; terminating sends it SIGTERM (a clean
// shutdown, like an ACPI power-off under systemd), then SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readBootstrap } from '../../actors/cloud/bootstrap.js'
import { root, tsNode } from '../helpers/cli.js'

export interface BootOptions {
  /** Wait this long before starting monkd (a slow cloud). */
  delayMs?: number
  /** Never start monkd (a machine whose bootstrap fails). */
  neverJoin?: boolean
}

interface Booted {
  id: string
  name: string
  home: string
  child: ChildProcess | null
  timer: NodeJS.Timeout | null
  exited: Promise<void>
}

/** Boots and kills the monkd processes standing for emulated machines. */
export class MachineHost {
  private readonly machines = new Map<string, Booted>()
  private readonly allHomes = new Set<string>()
  private baseDir: string | undefined

  /** `base`: where machine homes go; default a temporary directory made at the first boot. */
  constructor (base?: string) {
    this.baseDir = base
  }

  private get base (): string {
    this.baseDir ??= mkdtempSync(join(tmpdir(), 'monk-emu-'))
    mkdirSync(this.baseDir, { recursive: true })
    return this.baseDir
  }

  /** Parses `userData` (throws BootstrapError if it is not ours) and starts its monkd, maybe later. */
  boot (id: string, userData: string, opts: BootOptions = {}): { name: string, tags: string[] } {
    const b = readBootstrap(userData)
    const home = join(this.base, `${b.name}-${id.replace(/[^A-Za-z0-9-]/g, '')}`)
    mkdirSync(home, { recursive: true, mode: 0o700 })
    const m: Booted = { id, name: b.name, home, child: null, timer: null, exited: Promise.resolve() }
    this.machines.set(id, m)
    this.allHomes.add(home)
    if (opts.neverJoin === true) return { name: b.name, tags: b.tags }
    const start = (): void => {
      m.timer = null
      if (!this.machines.has(id)) return
      // the unit's own arguments, minus where it lives on a real machine (home, public port)
      const args: string[] = []
      for (let k = 0; k < b.args.length; k++) {
        if (b.args[k] === '--home' || b.args[k] === '--p2p-port') { k++; continue }
        // the token file the bootstrap's install writes into monkd's home, written here the same way (0600)
        if (b.args[k] === '--join-file') {
          const file = join(home, 'join-token')
          writeFileSync(file, b.join + '\n', { mode: 0o600 })
          args.push('--join-file', file)
          k++
          continue
        }
        args.push(b.args[k]!)
      }
      const out = openSync(join(home, 'console.log'), 'a')
      const child = spawn(process.execPath, [...tsNode, join(root, 'cli/monkd.ts'), '--home', home, '--listen', '/ip4/127.0.0.1/tcp/0', '--runtime', 'process', ...args], {
        stdio: ['ignore', out, out], env: { ...process.env, MONK_HOME: home },
      })
      closeSync(out)
      m.child = child
      m.exited = new Promise(resolve => child.once('exit', () => resolve()))
    }
    if ((opts.delayMs ?? 0) > 0) m.timer = setTimeout(start, opts.delayMs)
    else start()
    return { name: b.name, tags: b.tags }
  }

  /** Whether the machine's monkd process runs. */
  running (id: string): boolean {
    const c = this.machines.get(id)?.child
    return c !== null && c !== undefined && c.exitCode === null && c.signalCode === null
  }

  /** Home of the machine's monkd (its logs are in `<home>/logs`). */
  home (id: string): string | undefined { return this.machines.get(id)?.home }

  /** Every machine booted so far, still known (not yet killed). */
  list (): Array<{ id: string, name: string, home: string, pid: number | null }> {
    return [...this.machines.values()].map(m => ({ id: m.id, name: m.name, home: m.home, pid: m.child?.pid ?? null }))
  }

  /** Homes of every machine ever booted (for log greps after they are gone). */
  homes (): string[] { return [...this.allHomes] }

  /** Stops the machine: SIGTERM, then SIGKILL after `graceMs`. Resolves when the process is gone. */
  async kill (id: string, graceMs = 5_000): Promise<void> {
    const m = this.machines.get(id)
    if (!m) return
    this.machines.delete(id)
    if (m.timer) clearTimeout(m.timer)
    const c = m.child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    c.kill('SIGTERM')
    const t = setTimeout(() => { c.kill('SIGKILL') }, graceMs)
    await m.exited
    clearTimeout(t)
  }

  /** SIGKILL at once (a machine that loses power). */
  crash (id: string): void {
    const m = this.machines.get(id)
    m?.child?.kill('SIGKILL')
  }

  /** Kills every machine; removes the temporary homes unless `keep`. */
  async close (keep = false): Promise<void> {
    await Promise.all([...this.machines.keys()].map(id => this.kill(id, 2_000)))
    if (!keep && this.baseDir !== undefined) rmSync(this.baseDir, { recursive: true, force: true })
  }
}
