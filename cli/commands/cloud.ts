// The work of `monk cluster grow|shrink|peer-remove|nodes|providers|provider add` (flags in
// cluster-grow.ts). Each sends one message; grow, shrink and peer-remove ask the daemon to follow
// the machines (`follow: true`) and render the node events it streams until each one joined, is
// gone or failed. Credentials are read by credentials.ts, loaded only by `provider add`.
import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { GrowEvent, NodeRow } from '../api/messages.js'
import { renderEvents } from '../format/events.js'
import { table } from '../format/table.js'
import { CliError, exitCodes, printJson } from '../output.js'
import { session, type Session } from './session.js'

const splitTags = (list: readonly string[]): string[] => list.flatMap(t => t.split(/[\s,]+/)).map(t => t.trim()).filter(t => t !== '')

function positiveInt (v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new CliError('bad-flag', `${flag} wants a positive whole number, got "${v}"`, exitCodes.usage)
  return n
}

export function describeNode (r: NodeRow): string {
  switch (r.state) {
    case 'creating': return `creating${r.warning ? ` (${r.warning})` : ''}`
    case 'booting': return `booting${r.cloudId ? ` (${r.cloudId})` : ''}${r.warning ? ` (${r.warning})` : ''}`
    case 'joined': return `joined as peer ${r.peerId ?? '?'}`
    case 'failed': return `failed: ${r.error?.message ?? r.error?.code ?? 'unknown error'}${r.cleanup === 'done' ? ' (no machine left)' : r.cleanup === 'stuck' ? ' (MACHINE MAY STILL RUN)' : ' (cleaning up)'}`
    default: return r.state
  }
}

export function nodesTable (rows: readonly NodeRow[], status: (s: string) => string): string {
  const age = (ms: number): string => { const s = Math.max(0, Math.round((Date.now() - ms) / 1000)); return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h` }
  return table(['NAME', 'PROVIDER', 'REGION', 'TYPE', 'STATE', 'CLOUD ID', 'PEER', 'TAGS', 'SINCE'], rows.map(r => [
    r.name, r.provider, r.zone ?? r.region, r.instanceType, status(r.state === 'joined' ? (r.alive ? 'running' : 'dead') : r.state === 'failed' ? 'failed' : r.state) + (r.state === 'joined' && !r.alive ? ' (peer down)' : ''),
    r.cloudId ?? '', r.peerId ?? '', r.tags.join(','), age(r.stateAt),
  ]))
}

/** Renders a followed grow/shrink: a progress line, and on a pipe one line per node change. */
async function followNodes (s: Session, events: AsyncIterable<GrowEvent>, verb: string): Promise<NodeRow[]> {
  const tty = Boolean(process.stderr.isTTY)
  const started = Date.now()
  const last = new Map<string, string>()
  return await renderEvents(events, e => {
    switch (e.event) {
      case 'accepted':
        for (const k of e.skipped ?? []) s.note(`kept ${k.name}: ${k.reason}`)
        s.note(e.nodes.length ? `${verb} ${e.nodes.length} machine(s): ${e.nodes.join(', ')}` : `nothing to ${verb.toLowerCase()}`)
        return {}
      case 'node': {
        const line = describeNode(e.row)
        last.set(e.row.name, `${e.row.name} ${e.row.state}`)
        return { progress: [...last.values()].join(', '), ...(tty ? {} : { line: `${e.row.name}: ${line} [${((Date.now() - started) / 1000).toFixed(1)} s]` }) }
      }
      case 'done': return { done: { value: e.rows } }
      case 'failed': throw new CliError(e.code, e.message)
    }
  }, { enabled: !s.json && !s.g.quiet, note: s.note, what: verb })
}

function printRows (s: Session, rows: NodeRow[], bad: (r: NodeRow) => boolean): void {
  if (s.json) printJson(rows)
  else s.print(nodesTable(rows, s.status))
  const failed = rows.filter(bad)
  for (const r of failed) s.note(`${r.name}: ${describeNode(r)}`)
  if (failed.length > 0) process.exitCode = exitCodes.failure
}

export interface GrowFlags { provider: string, name: string, tag: string[], instanceType?: string, region?: string, zone?: string, diskSize?: string, numInstances: string, growTimeout?: string, securityKeyPair?: string, kp?: string, image?: string, wait: boolean }

export async function grow (f: GrowFlags, cmd: Command): Promise<void> {
  const s = session(cmd)
  const count = positiveInt(f.numInstances, '--num-instances') ?? 1
  const disk = positiveInt(f.diskSize, '--disk-size')
  const minutes = f.growTimeout === undefined ? undefined : Number(f.growTimeout)
  if (minutes !== undefined && !(minutes > 0)) throw new CliError('bad-flag', `--grow-timeout wants minutes, got "${f.growTimeout ?? ''}"`, exitCodes.usage)
  const keyPair = f.securityKeyPair ?? f.kp
  const tags = splitTags(f.tag)
  const msg = {
    type: 'cluster.grow' as const, provider: f.provider, name: f.name, count,
    ...(tags.length ? { tags } : {}), ...(f.instanceType ? { instanceType: f.instanceType } : {}), ...(f.region ? { region: f.region } : {}),
    ...(f.zone ? { zone: f.zone } : {}), ...(disk !== undefined ? { diskSize: disk } : {}), ...(minutes !== undefined ? { growTimeout: minutes } : {}),
    ...(keyPair ? { keyPair } : {}), ...(f.image ? { image: f.image } : {}),
  }
  if (!f.wait) {
    const reply = await s.request('peer', msg)
    s.note(`Growing ${reply.nodes.length} ${f.provider} machine(s): ${reply.nodes.join(', ')}`)
    if (s.json) printJson(reply)
    return
  }
  const rows = await followNodes(s, s.stream('peer', { ...msg, follow: true }), `Growing ${f.provider}`)
  printRows(s, rows, r => r.state === 'failed')
  const joined = rows.filter(r => r.state !== 'failed').length
  s.note(joined === rows.length ? `${rows.length} machine(s) joined` : `${joined} of ${rows.length} machine(s) joined`)
}

export async function shrink (f: { name?: string, tag?: string, provider?: string, numInstances?: string, force?: boolean, wait: boolean }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const count = positiveInt(f.numInstances, '--num-instances')
  const msg = {
    type: 'cluster.shrink' as const, ...(f.name ? { name: f.name } : {}), ...(f.tag ? { tag: f.tag } : {}), ...(f.provider ? { provider: f.provider } : {}),
    ...(count !== undefined ? { count } : {}), ...(f.force ? { force: true } : {}),
  }
  if (!f.wait) {
    const reply = await s.request('peer', msg)
    for (const k of reply.skipped) s.note(`kept ${k.name}: ${k.reason}`)
    if (s.json) printJson({ nodes: reply.nodes })
    else s.note(reply.nodes.length ? `Terminating ${reply.nodes.join(', ')}` : 'nothing to shrink')
    return
  }
  const rows = await followNodes(s, s.stream('peer', { ...msg, follow: true }), 'Terminating')
  printRows(s, rows, r => r.state !== 'gone')
}

export async function peerRemove (args: string[], f: { id: string[], tag?: string, force?: boolean, wait: boolean, rotate?: boolean }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const given = [...f.id, ...args]
  if (given.length === 0 && f.tag === undefined) throw new CliError('bad-flag', 'give --id NAME (or names as arguments) or --tag TAG', exitCodes.usage)
  // peers not grown by the cluster: their admission is revoked (the daemon says which); grown ones are terminated below
  const { revoked, rest: ids } = given.length ? await s.request('peer', { type: 'cluster.peer-revoke', ids: given }) : { revoked: [], rest: [] }
  if (revoked.length) {
    if (f.rotate === true) {
      const { rotated } = await import('./cluster-key.js')
      const r = await s.request('peer', { type: 'cluster.rotate-key' })
      s.note(`Revoked the admission of ${revoked.join(', ')}: the cluster applies nothing they write, gives them no work and withdraws their cloud credentials`)
      rotated(s, r)
      if (ids.length === 0 && f.tag === undefined) { if (s.json) printJson({ revoked, nodes: [], rotated: r }); return }
    } else {
      s.note(`Revoked the admission of ${revoked.join(', ')}: the cluster applies nothing they write, gives them no work and withdraws their cloud credentials. They still hold the cluster key: until it is rotated they can connect and read the replicated state. Now run: monk cluster rotate-key`)
      if (ids.length === 0 && f.tag === undefined) { if (s.json) printJson({ revoked, nodes: [] }); return }
    }
  }
  const msg = { type: 'cluster.peer-remove' as const, ...(ids.length ? { ids } : {}), ...(f.tag ? { tag: f.tag } : {}), ...(f.force ? { force: true } : {}) }
  if (!f.wait) {
    const reply = await s.request('peer', msg)
    if (s.json) printJson(reply)
    else s.note(`Terminating ${reply.nodes.join(', ')}`)
    return
  }
  const rows = await followNodes(s, s.stream('peer', { ...msg, follow: true }), 'Terminating')
  printRows(s, rows, r => r.state !== 'gone')
}

export async function nodes (names: string[], f: { all?: boolean }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const rows = (await s.request('peer', { type: 'cluster.nodes', ...(names.length ? { names } : {}) }))
    .filter(r => f.all === true || names.length > 0 || r.state !== 'gone')
  if (s.json) { printJson(rows); return }
  s.print(nodesTable(rows, s.status))
  for (const r of rows.filter(r => r.state === 'failed')) s.note(`${r.name}: ${describeNode(r)}`)
}

export async function providers (_f: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const rows = await s.request('peer', { type: 'cluster.providers' })
  if (s.json) { printJson(rows); return }
  s.print(table(['PROVIDER', 'CREDENTIALS', 'HELD BY', 'NODES', 'OPTIONS'], rows.map(r => [
    r.kind, r.kind === 'local' ? '-' : `sha256:${r.fingerprint}`, r.kind === 'local' ? 'any peer' : r.holders.join(','), String(r.nodes),
    Object.entries(r.options).map(([k, v]) => `${k}=${v}`).join(' '),
  ])))
}

export interface ProviderFlags { provider?: string, profile?: string, file?: string, tokenFile?: string, project?: string, endpoint?: string, region?: string, package?: string, dir?: string, runtime?: string }

export async function providerAdd (arg: string | undefined, f: ProviderFlags, cmd: Command): Promise<void> {
  const s = session(cmd)
  const kind = arg ?? f.provider
  if (!kind) throw new CliError('bad-flag', 'which provider? monk cluster provider add aws|gcp|digitalocean|local', exitCodes.usage)
  const { endpointEnv, readCredentials } = await import('./credentials.js')
  const credentials = await readCredentials(kind, f)
  const endpoint = f.endpoint ?? process.env[endpointEnv[kind] ?? ''] ?? undefined
  const options: Record<string, string> = {}
  for (const [k, v] of Object.entries({ endpoint, project: f.project, region: f.region, package: f.package, dir: f.dir === undefined ? undefined : resolve(f.dir), runtime: f.runtime })) if (v !== undefined && v !== '') options[k] = v
  const row = await s.request('peer', { type: 'cluster.provider-add', kind, credentials, options })
  if (s.json) { printJson(row); return }
  s.note(`${kind} provider added${row.kind === 'local' ? '' : ` (credentials sha256:${row.fingerprint}, sealed for ${row.holders.length} peer(s): ${row.holders.join(', ')})`}`)
}
