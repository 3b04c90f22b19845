// `monk cluster new|join|token|peers|info|exit|peer-tags`. Every monkd founds a one-peer cluster in
// a fresh home; `new` (or `token`) prints its join token; `join` starts the local monkd with the
// token in MONK_JOIN_TOKEN (never in its argv) and waits until it reaches a peer. monkd keeps one cluster per home (in <home>/data),
// so a running peer cannot switch clusters in place: join refuses then (exit first, or use a fresh
// home); exit leaves cleanly, keeps the old data aside and restarts monkd as a new one-peer cluster.
import type { Command } from 'commander'
import type { PeerRow } from '../api/messages.js'
import { table } from '../format/table.js'
import { CliError, exitCodes, printJson } from '../output.js'
import { PEERS_SETTLE_MS, POLL_MS } from './defaults.js'
import { daemonArgs, readRecorded, startDaemon, stopDaemon, withoutJoin, type DaemonFlags } from './daemon.js'
import { session, type Session } from './session.js'

export function peersTable (rows: readonly PeerRow[], status: (s: string) => string): string {
  const sorted = [...rows].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
  const withCapacity = sorted.some(r => r.capacity !== undefined)
  const cap = (r: PeerRow): string[] => withCapacity ? [r.capacity ? `${resText(r.reserved?.['cpu'] ?? 0, 'cpu')}/${resText(r.capacity['cpu'] ?? 0, 'cpu')}` : '-', r.capacity ? `${resText(r.reserved?.['memory'] ?? 0, 'memory')}/${resText(r.capacity['memory'] ?? 0, 'memory')}` : '-'] : []
  // TUNNELS: the peers it has live overlay tunnels with (only when some peer has any)
  const withTunnels = sorted.some(r => (r.tunnels ?? []).length > 0)
  const tun = (r: PeerRow): string[] => withTunnels ? [(r.tunnels ?? []).map(t => `${t.name !== '' ? t.name : t.peer.slice(-6)}(${t.out ? `${t.out} out` : ''}${t.out && t.in ? ' ' : ''}${t.in ? `${t.in} in` : ''})`).join(' ') || '-'] : []
  return table(['ID', 'NAME', 'TAGS', 'ALIVE', ...(withCapacity ? ['CPU', 'MEMORY'] : []), ...(withTunnels ? ['TUNNELS'] : []), 'ADDRESSES'], sorted.map(r => [r.id, r.name, r.tags.join(','), status(r.alive ? 'yes' : r.unheard === true ? 'not heard yet' : 'no'), ...cap(r), ...tun(r), r.addrs.join(' ')]))
}

/** A reserved or offered amount: cores as a number, memory in Mi/Gi. */
function resText (n: number, r: 'cpu' | 'memory'): string {
  if (r === 'cpu') return `${+n.toFixed(2)}`
  return n >= 1024 ** 3 ? `${+(n / 1024 ** 3).toFixed(1)}Gi` : `${Math.round(n / 1024 ** 2)}Mi`
}

/** A duration flag (`90s`, `30m`, `12h`, `7d`, `0`) in ms; anything else is a usage error naming the flag. */
export function durationMs (text: string, flag: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(text.trim())
  if (!m) throw new CliError('bad-flag', `${flag} wants a duration like 30m, 12h or 7d (0: no expiry), got "${text}"`, exitCodes.usage)
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd']
  return Number(m[1]) * unit
}

/** The invite of `monk cluster token`'s flags, checked. */
function inviteFlags (flags: { role?: string, uses?: string, ttl?: string }): { role?: 'operator' | 'worker', uses?: number, ttlMs?: number } {
  const out: { role?: 'operator' | 'worker', uses?: number, ttlMs?: number } = {}
  if (flags.role !== undefined) {
    if (flags.role !== 'operator' && flags.role !== 'worker') throw new CliError('bad-flag', `--role wants operator or worker, got "${flags.role}"`, exitCodes.usage)
    out.role = flags.role
  }
  if (flags.uses !== undefined) {
    const n = Number(flags.uses)
    if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new CliError('bad-flag', `--uses wants a whole number from 1 to 1000000, got "${flags.uses}"`, exitCodes.usage)
    out.uses = n
  }
  if (flags.ttl !== undefined) out.ttlMs = durationMs(flags.ttl, '--ttl')
  return out
}

async function tokenOf (s: Session, invite: { role?: 'operator' | 'worker', uses?: number, ttlMs?: number } = {}): Promise<string> {
  const reply = await s.request('peer', { type: 'cluster.token', ...invite })
  if (typeof reply?.token !== 'string') throw new CliError('bad-response', 'monkd answered cluster.token without a token')
  return reply.token
}

/** The cluster id a join token names; a malformed token is a usage error. */
async function clusterOfToken (token: string): Promise<string> {
  const { parseToken } = await import('../../mesh/cluster.js')
  try {
    return parseToken(token).id
  } catch (e) {
    throw new CliError('bad-token', (e as Error).message, exitCodes.usage, { cause: e })
  }
}

/** The cluster of the running local monkd, or undefined when none runs. */
async function runningCluster (s: Session): Promise<string | undefined> {
  try {
    const info = await s.request('peer', { type: 'cluster.info' })
    return typeof info?.clusterId === 'string' ? info.clusterId : ''
  } catch (e) {
    if ((e as { code?: string }).code === 'daemon-down') return undefined
    throw e
  }
}

/** Waits until the local peer sees another live peer; `join-failed` if none within the deadline. */
async function waitForPeers (s: Session, timeoutMs: number): Promise<PeerRow[]> {
  const { progress } = await import('../format/spinner.js')
  const p = progress({ enabled: !s.json && !s.g.quiet })
  p.update('waiting to reach a peer of the cluster')
  const deadline = Date.now() + timeoutMs
  try {
    for (;;) {
      const rows = await s.request('peer', { type: 'cluster.peers' })
      if (rows.filter(r => r.alive).length > 1) return rows
      if (Date.now() > deadline) throw new CliError('join-failed', `monkd runs but reached no peer of the cluster within ${timeoutMs / 1000} s: is the token current (monk cluster token on a member) and its addresses reachable? See ${s.home}/logs/monkd.log`)
      await new Promise(resolve => setTimeout(resolve, POLL_MS))
    }
  } finally {
    p.done()
  }
}

/** The action of `monk cluster new` (its flags are in registry.ts). */
export async function create (_opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const t = await tokenOf(s)
  if (s.json) { printJson({ token: t }); return }
  s.print(t)
  s.note('Cluster ready. On another machine: monk cluster join --join-file FILE (a 0600 file holding this token), or MONK_JOIN_TOKEN=... monk cluster join, or pipe it: monk cluster token | ssh HOST monk cluster join --join-file - (keep the token secret: it is the cluster key)')
}

/** The action of `monk cluster token` (its flags are in registry.ts). */
export async function token (opts: { role?: string, uses?: string, ttl?: string }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const t = await tokenOf(s, inviteFlags(opts))
  if (s.json) printJson({ token: t })
  else s.print(t)
}

/** The action of `monk cluster join` (its flags are in registry.ts). */
export async function join (positional: string | undefined, flags: DaemonFlags & { timeout: string, joinFile?: string }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const { joinTokenFrom } = await import('../join-token.js')
  let from
  try { from = joinTokenFrom({ flag: positional, flagName: 'monk cluster join TOKEN', file: flags.joinFile, env: process.env.MONK_JOIN_TOKEN }) } catch (e) { throw new CliError('bad-token', (e as Error).message, exitCodes.usage) }
  for (const w of from.warnings) process.stderr.write(`monk: warning: ${w}\n`)
  if (from.token === undefined) throw new CliError('bad-token', 'monk cluster join needs the join token (monk cluster token on a member): --join-file FILE (mode 0600), --join-file - to read it from standard input, or the MONK_JOIN_TOKEN variable', exitCodes.usage)
  const joinToken = from.token
  const timeoutS = Number(flags.timeout)
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new CliError('bad-flag', `--timeout wants seconds, got "${flags.timeout}"`, exitCodes.usage)
  const wanted = await clusterOfToken(joinToken)
  const current = await runningCluster(s)
  if (current !== undefined && current === wanted) {
    const peers = await s.request('peer', { type: 'cluster.peers' })
    if (s.json) { printJson(peers); return }
    s.print(peersTable(peers, s.status))
    s.note(`Already a member of cluster ${wanted}`)
    return
  }
  if (current !== undefined) {
    throw new CliError('other-cluster', `this peer (home ${s.home}) belongs to cluster ${current}, and monkd keeps one cluster per home, so it cannot switch to cluster ${wanted} in place: leave first with monk cluster exit, or join from a new home: monk --home DIR cluster join --join-file FILE`)
  }
  const { timeout: _t, joinFile: _f, ...daemonFlags } = flags
  const given = daemonArgs(daemonFlags)
  const base = given.length ? given : withoutJoin((await readRecorded(s))?.args ?? [])
  await startDaemon(s, base, { joinToken })
  const peers = await settledPeers(s, await waitForPeers(s, timeoutS * 1000))
  if (s.json) { printJson(peers); return }
  s.print(peersTable(peers, s.status))
  const live = peers.filter(p => p.alive).length
  const unheard = peers.filter(p => p.unheard === true).length
  s.note(`Joined cluster ${wanted}: ${live} live peer${live === 1 ? '' : 's'}${unheard ? `, ${unheard} not heard from yet` : ''}`)
}

/**
 * The action of `monk cluster exit`: print the cluster's token (to come back), stop monkd (a clean
 * leave: the other peers take over its workloads), keep the old cluster's data aside as
 * `<home>/data.left-<cluster>-<time>`, and start monkd again as a new one-peer cluster.
 */
export async function leave (_opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const info = await s.request('peer', { type: 'cluster.info' })
  const others = (await s.request('peer', { type: 'cluster.peers' })).filter(p => p.alive).length - 1
  if (others <= 0) {
    if (s.json) { printJson({ left: false, alone: true, clusterId: info.clusterId ?? null }); return }
    s.note(`This peer is on its own already (cluster ${info.clusterId ?? '?'})`)
    return
  }
  // a token to come back with needs an invite, which only an operator makes
  const oldToken = info.role === 'operator' ? await tokenOf(s) : undefined
  const recorded = withoutJoin((await readRecorded(s))?.args ?? [])
  await stopDaemon(s)
  const { renameSync, existsSync } = await import('node:fs')
  const kept = `${s.home}/data.left-${info.clusterId ?? 'cluster'}-${Date.now()}`
  if (existsSync(`${s.home}/data`)) renameSync(`${s.home}/data`, kept)
  const started = await startDaemon(s, recorded)
  const now = await s.request('peer', { type: 'cluster.info' })
  if (s.json) { printJson({ left: info.clusterId ?? null, clusterId: now.clusterId ?? null, token: oldToken ?? null, kept }); return }
  if (oldToken !== undefined) s.print(oldToken)
  s.note(`Left cluster ${info.clusterId ?? '?'} (its ${others} peer(s) took over this peer's workloads); monkd runs again as a new cluster ${now.clusterId ?? '?'} (pid ${started.pid}). The token above rejoins the old cluster from another home; its data is kept in ${kept}`)
}

/**
 * The peers once membership settled: right after a join the others are known from their records
 * before this peer hears from them, and would read as dead. Waits (up to PEERS_SETTLE_MS) while
 * some are unheard; what is still unheard then is shown as such.
 */
export async function settledPeers (s: Session, first?: PeerRow[]): Promise<PeerRow[]> {
  let rows = first ?? await s.request('peer', { type: 'cluster.peers' })
  if (!rows.some(r => r.unheard === true)) return rows
  const { progress } = await import('../format/spinner.js')
  const p = progress({ enabled: !s.json && !s.g.quiet })
  const deadline = Date.now() + PEERS_SETTLE_MS
  try {
    while (rows.some(r => r.unheard === true) && Date.now() < deadline) {
      p.update(`waiting to hear from ${rows.filter(r => r.unheard === true).map(r => r.name || r.id).join(', ')}`)
      await new Promise(resolve => setTimeout(resolve, POLL_MS))
      rows = await s.request('peer', { type: 'cluster.peers' })
    }
  } finally {
    p.done()
  }
  return rows
}

/** The action of `monk cluster peers` (its flags are in registry.ts). */
export async function peers (opts: { tag?: string, active?: boolean }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const rows = (await settledPeers(s))
    .filter(r => opts.tag === undefined || r.tags.includes(opts.tag))
    .filter(r => opts.active !== true || r.alive)
  if (s.json) { printJson(rows); return }
  s.print(peersTable(rows, s.status))
}

/** The action of `monk cluster info` (its flags are in registry.ts). */
export async function info (_opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const reply = await s.request('peer', { type: 'cluster.info' })
  // the control API's TCP listener and its certificate's fingerprint, to compare with a client's pin
  const ping = await s.ping()
  const host = typeof ping.apiHost === 'string' ? ping.apiHost : '127.0.0.1'
  const controlApi = typeof ping.apiPort === 'number'
    ? { controlApi: { address: `${typeof ping.apiTlsFingerprint === 'string' ? 'tls' : 'tcp'}://${host.includes(':') ? `[${host}]` : host}:${ping.apiPort}`, ...(typeof ping.apiTlsFingerprint === 'string' ? { tlsFingerprint: ping.apiTlsFingerprint } : {}) } }
    : {}
  const info = { ...reply, ...controlApi }
  if (s.json) { printJson(info); return }
  const { stringify } = await import('yaml')
  s.print(stringify(info, { lineWidth: 0 }))
}

/** The action of `monk cluster peer-tags` (its flags are in registry.ts). */
export async function peerTags (args: string[], opts: { tag: string[] }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const tags = [...opts.tag, ...args].flatMap(t => t.split(',')).map(t => t.trim()).filter(t => t !== '')
  const reply = await s.request('peer', { type: 'cluster.peer-tags', tags })
  if (s.json) { printJson(reply ?? { tags }); return }
  s.note(tags.length ? `Peer tags: ${tags.join(', ')}` : 'Peer tags cleared')
}
