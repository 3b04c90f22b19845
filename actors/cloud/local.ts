// Local machines: each "machine" is a monkd process on this host with its own home under
// `<dir>/<cluster>/<name>`, started detached (it outlives the peer that grew it, like a VM) and
// listening on 127.0.0.1. Its `machine.json` records the pid, so any local peer can list and
// destroy it. No credentials.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LOCAL_KILL_GRACE_MS } from './defaults.js'
import { ProviderError } from './errors.js'
import type { Location, Machine, MachineRef, MachineSpec, Provider, ProviderOptions } from './provider.js'

/** How to start a monkd on this host (the daemon passes its own executable and loader flags). */
export interface MonkdCommand { command: string, args: string[] }

interface MachineFile { id: string, name: string, cluster: string, pid: number, home: string, createdAt: number }

export async function openLocal (options: ProviderOptions, monkd: MonkdCommand | undefined): Promise<Provider> {
  const dir = options.dir
  if (!dir) throw new ProviderError({ code: 'invalid-spec', provider: 'local', operation: 'open', providerCode: 'NoDir', message: 'local provider has no machines directory (option dir)' })

  const machineDir = (cluster: string, name: string): string => join(dir, cluster, name)
  const read = (file: string): MachineFile | null => {
    try {
      const m = JSON.parse(readFileSync(file, 'utf8')) as Partial<MachineFile>
      return typeof m.id === 'string' && typeof m.pid === 'number' && typeof m.home === 'string' ? m as MachineFile : null
    } catch { return null }
  }
  const toMachine = (m: MachineFile): Machine => ({ id: m.id, name: m.name, state: alive(m) ? 'running' : 'terminated', address: '127.0.0.1', region: 'local', zone: null })
  const all = (cluster: string): MachineFile[] => {
    const base = join(dir, cluster)
    if (!existsSync(base)) return []
    return readdirSync(base).map(n => read(join(base, n, 'machine.json'))).filter((m): m is MachineFile => m !== null)
  }
  const find = (id: string): MachineFile | null => {
    if (!existsSync(dir)) return null
    for (const c of readdirSync(dir)) {
      const m = read(join(dir, c, id, 'machine.json'))
      if (m) return m
    }
    return null
  }

  return {
    kind: 'local',
    async create (spec: MachineSpec): Promise<Machine> {
      if (!monkd) throw new ProviderError({ code: 'invalid-spec', provider: 'local', operation: 'create', providerCode: 'NoMonkd', message: 'local provider: this peer does not know how to start monkd' })
      const mdir = machineDir(spec.cluster, spec.name)
      const existing = read(join(mdir, 'machine.json'))
      if (existing && alive(existing)) return toMachine(existing)
      const home = join(mdir, 'home')
      mkdirSync(home, { recursive: true, mode: 0o700 })
      const args: string[] = []
      for (let k = 0; k < spec.boot.args.length; k++) {
        const a = spec.boot.args[k]!
        if (a === '--home' || a === '--p2p-port') { k++; continue }
        // the token file the install writes on a real machine: here in the machine's home, 0600
        if (a === '--join-file') {
          const file = join(home, 'join-token')
          writeFileSync(file, spec.boot.join + '\n', { mode: 0o600 })
          args.push('--join-file', file)
          k++
          continue
        }
        args.push(a)
      }
      const out = openSync(join(mdir, 'console.log'), 'a')
      let pid: number | undefined
      try {
        const child = spawn(monkd.command, [...monkd.args, '--home', home, '--listen', '/ip4/127.0.0.1/tcp/0', ...(options.runtime ? ['--runtime', options.runtime] : []), ...args], {
          detached: true, stdio: ['ignore', out, out], env: { ...process.env, MONK_HOME: home },
        })
        pid = child.pid
        child.unref()
      } finally { closeSync(out) }
      if (pid === undefined) throw new ProviderError({ code: 'failed', provider: 'local', operation: 'create', providerCode: 'SpawnFailed', message: `local: could not start monkd for ${spec.name}` })
      const m: MachineFile = { id: spec.name, name: spec.name, cluster: spec.cluster, pid, home, createdAt: Date.now() }
      writeFileSync(join(mdir, 'machine.json'), JSON.stringify(m), { mode: 0o600 })
      return toMachine(m)
    },
    async describe (ref: MachineRef): Promise<Machine | null> {
      const m = find(ref.id)
      return m ? toMachine(m) : null
    },
    async list (cluster: string, _where: Location): Promise<Machine[]> {
      return all(cluster).map(toMachine)
    },
    async destroy (ref: MachineRef): Promise<void> {
      const m = find(ref.id)
      if (!m) return
      if (alive(m)) {
        signal(m.pid, 'SIGTERM')
        const deadline = Date.now() + LOCAL_KILL_GRACE_MS
        while (alive(m) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
        if (alive(m)) signal(m.pid, 'SIGKILL')
        while (alive(m) && Date.now() < deadline + 2_000) await new Promise(resolve => setTimeout(resolve, 50))
      }
      rmSync(join(m.home, '..'), { recursive: true, force: true })
    },
    async close (): Promise<void> {},
  }
}

/** The process runs and is still this machine's monkd (its command line names the home). */
function alive (m: MachineFile): boolean {
  try { process.kill(m.pid, 0) } catch { return false }
  try {
    const cmd = readFileSync(`/proc/${m.pid}/cmdline`, 'utf8')
    if (!cmd.includes(m.home)) return false
    // a zombie (exited, not yet reaped by its parent) is not running
    const stat = readFileSync(`/proc/${m.pid}/stat`, 'utf8')
    return !/\) Z /.test(stat)
  } catch { return true /* no /proc: trust kill(0) */ }
}

function signal (pid: number, sig: NodeJS.Signals): void {
  try { process.kill(-pid, sig) } catch { try { process.kill(pid, sig) } catch { /* gone */ } }
}
