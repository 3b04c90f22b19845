// `monk ps` (a table of workloads; JSON = the PsRow array) and `monk describe` (the run summary tree).
import type { Command } from 'commander'
import type { Describe, PsRow } from '../api/messages.js'
import { table } from '../format/table.js'
import { printJson } from '../output.js'
import { requirePath, runnableActor, session } from './session.js'

/** The ps table: one line per instance, its containers summarised in the last column. */
export function psTable (rows: readonly PsRow[], status: (s: string) => string): string {
  const sorted = [...rows].sort((a, b) => a.instance.localeCompare(b.instance) || (a.peerName || a.peer).localeCompare(b.peerName || b.peer))
  const withVolumes = sorted.some(r => r.volumes?.length)
  return table(['INSTANCE', 'STATUS', 'PEER', 'CONTAINERS', ...(withVolumes ? ['VOLUMES'] : [])], sorted.map(r => [
    r.instance,
    status(r.status),
    r.peerName || r.peer || '-',
    r.entity ? `entity ${r.entity.type}: ${r.entity.ready ? 'ready' : 'not ready'}${r.error !== undefined ? ` (${r.error})` : ''}` : r.containers.length ? r.containers.map(c => `${c.name}: ${c.status} (${c.image})`).join(', ') : (r.error ?? (r.waiting !== undefined ? `waiting: ${r.waiting}` : '-')),
    ...(withVolumes ? [r.volumes?.length ? r.volumes.map(v => `${v.name}: ${v.host}`).join(', ') : '-'] : []),
  ]))
}

/** The action of `monk ps` (its flags are in registry.ts). */
export async function ps (opts: { all?: boolean, peer?: string, tag?: string }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const rows = await s.request('peer', {
    type: 'workload.ps',
    ...(opts.all === true ? { all: true } : {}),
    ...(opts.peer !== undefined ? { peer: opts.peer } : {}),
    ...(opts.tag !== undefined ? { tag: opts.tag } : {}),
  })
  if (s.json) { printJson(rows); return }
  s.print(psTable(rows, s.status))
  if (rows.length === 0) s.note(opts.all === true ? 'No workloads. Run one with: monk run ns/name' : 'No running workloads (monk ps --all shows stopped ones).')
}

/** The action of `monk describe` (its flags are in registry.ts). */
export async function describe (paths: string[], opts: { container: string[] }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const { renderSummary } = await import('../format/summary.js')
  const raw = await Promise.all(paths.map(async p => await s.request(runnableActor(requirePath(p)), { type: 'runnable.describe' })))
  if (s.json) { printJson(paths.length === 1 ? raw[0] : raw); return }
  for (const d of raw) {
    // a group's describe: its own state, then each member as an instance
    if ('members' in d) s.print(`${d.path}  ${s.status(d.status.state)}  (${d.kind}: ${d.status.summary})`)
    const replies = 'members' in d ? d.members : [d]
    s.print(renderSummary(replies.map(r => opts.container.length ? { ...r, containers: r.containers.filter(c => opts.container.includes(c.name)) } : r), { fancy: s.g.color, status: s.status }))
    for (const r of replies) if (r.entity) s.print(entityText(r.entity))
  }
}

/** The entity part of describe: definition, state (secrets masked), last action, output, error. */
export function entityText (e: NonNullable<Describe['entity']>): string {
  const lines = [`entity ${e.type}${e.created ? '' : ' (not created)'}`]
  const block = (title: string, v: unknown): void => { lines.push(`  ${title}:`); for (const l of JSON.stringify(v, null, 2).split('\n')) lines.push(`    ${l}`) }
  block('definition', e.definition)
  block('state', e.state)
  if (e.lastAction !== '') lines.push(`  last action: ${e.lastAction}${e.error !== null ? ' (failed)' : ''}`)
  for (const o of e.output) lines.push(`    | ${o}`)
  if (e.error !== null) lines.push(`  error: ${e.error}`)
  if (e.actions.length) lines.push(`  actions: ${e.actions.join(', ')}`)
  return lines.join('\n')
}
