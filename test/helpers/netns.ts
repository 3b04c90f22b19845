// Network namespaces as hosts (root only): a "switch" namespace holding a bridge, and one namespace
// per host joined to it by a veth pair, with an address in 10.213.<net>.0/24 that exists only
// inside these namespaces. Each host's firewall (iptables INPUT, inside its namespace) accepts
// loopback, established flows and the p2p port, and rejects every other TCP connection with a
// reset, so a direct connection to a service port fails at once. destroy() kills every process in
// the namespaces and deletes them; it also runs at process exit, so a failed test leaves nothing.
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process'

export interface NetHost { name: string, ns: string, ip: string }

export interface NetHosts {
  hosts: NetHost[]
  /** Starts `cmd args` inside `host`'s namespace. */
  spawn: (host: NetHost, cmd: string, args: string[], opts?: SpawnOptions) => ChildProcess
  /** Runs `cmd args` inside `host`'s namespace and returns its exit status and output. */
  run: (host: NetHost, cmd: string, args: string[], opts?: { timeoutMs?: number, env?: NodeJS.ProcessEnv }) => { status: number | null, out: string }
  /** SIGKILLs every process of `host`'s namespace (a machine that died: its monkd and its workloads). */
  killAll: (host: NetHost) => void
  destroy: () => void
}

/** Why namespaces cannot be created here, or null when they can. */
export function netnsUnavailable (): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'network namespaces need root'
  const probe = `mkprobe${process.pid}`
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' })
  if (add.status !== 0) return `ip netns add failed: ${(add.stderr || add.error?.message || '').trim()}`
  const ipt = spawnSync('ip', ['netns', 'exec', probe, 'iptables', '-A', 'INPUT', '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'], { encoding: 'utf8' })
  spawnSync('ip', ['netns', 'del', probe])
  if (ipt.status !== 0) return `iptables inside a namespace failed: ${(ipt.stderr || ipt.error?.message || '').trim()}`
  return null
}

const sh = (args: string[]): void => { execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] }) }

/** Creates hosts `names` (first address .1, then .2 …) allowing only TCP `p2pPort` (and `alsoAllow`, for benchmarks' direct paths) between them. */
export function createHosts (names: string[], p2pPort: number, alsoAllow: number[] = []): NetHosts {
  const tag = `mk${process.pid % 100000}`
  const net = 1 + (process.pid % 250)
  const sw = `${tag}sw`
  const all: string[] = [sw]
  const hosts: NetHost[] = []
  let destroyed = false
  const pidsOf = (ns: string): number[] => {
    const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
    return r.status === 0 ? r.stdout.split('\n').map(Number).filter(n => n > 0) : []
  }
  const killAll = (ns: string): void => { for (const pid of pidsOf(ns)) { try { process.kill(pid, 'SIGKILL') } catch { /* gone */ } } }
  const destroy = (): void => {
    if (destroyed) return
    destroyed = true
    for (const ns of all) killAll(ns)
    for (const ns of all) spawnSync('ip', ['netns', 'del', ns])
  }
  process.once('exit', destroy)
  // a run stopped by a signal (a timeout, ^C) must not leave namespaces behind either
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => { destroy(); process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1)) })
  try {
    sh(['netns', 'add', sw])
    sh(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge'])
    sh(['-n', sw, 'link', 'set', 'br0', 'up'])
    names.forEach((name, i) => {
      const ns = `${tag}${name}`
      const ip = `10.213.${net}.${i + 1}`
      all.push(ns)
      sh(['netns', 'add', ns])
      sh(['-n', ns, 'link', 'set', 'lo', 'up'])
      sh(['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', sw])
      sh(['-n', sw, 'link', 'set', `p${i}`, 'master', 'br0'])
      sh(['-n', sw, 'link', 'set', `p${i}`, 'up'])
      sh(['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0'])
      sh(['-n', ns, 'link', 'set', 'eth0', 'up'])
      const ipt = (...rule: string[]): void => { execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-A', 'INPUT', ...rule], { stdio: ['ignore', 'ignore', 'pipe'] }) }
      ipt('-i', 'lo', '-j', 'ACCEPT')
      ipt('-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT')
      for (const port of [p2pPort, ...alsoAllow]) ipt('-p', 'tcp', '--dport', String(port), '-j', 'ACCEPT')
      ipt('-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset')
      ipt('-j', 'DROP')
      hosts.push({ name, ns, ip })
    })
  } catch (err) {
    destroy()
    throw err
  }
  return {
    hosts,
    spawn: (host, cmd, args, opts = {}) => spawn('ip', ['netns', 'exec', host.ns, cmd, ...args], opts),
    run: (host, cmd, args, opts = {}) => {
      const r = spawnSync('ip', ['netns', 'exec', host.ns, cmd, ...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 20_000, env: opts.env ?? process.env })
      return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` }
    },
    killAll: host => { killAll(host.ns) },
    destroy,
  }
}
