// `monk hub add|rm|ls|sync`: the hub sources (git repositories of kits) the cluster keeps in sync.
// One peer per source fetches it; every peer answers from its own replica.
import type { Command } from 'commander'
import type { HubRow } from '../api/messages.js'
import { table } from '../format/table.js'
import { CliError, exitCodes, printJson } from '../output.js'
import { session, type Session } from './session.js'

/** Kits with errors printed per source (all of them with --output json). */
const SHOW_BROKEN = 10

const ago = (at: number | null): string => {
  if (at === null) return 'never'
  const s = Math.max(0, Math.round((Date.now() - at) / 1000))
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`
}

function printRows (s: Session, rows: HubRow[]): void {
  s.print(table(['NAME', 'COMMIT', 'KITS', 'TEMPLATES', 'LAST SYNC', 'ERROR', 'URL'], rows.map(r => [
    r.name, r.commit?.slice(0, 12) ?? '-', String(r.kits), String(r.templates), ago(r.syncedAt),
    r.error ?? (r.broken.length ? `${r.broken.length} kit(s) with errors (each keeps its previous version, or is not served)` : ''), `${r.url}${r.ref !== null ? ` @${r.ref}` : ''}`,
  ])))
  for (const r of rows) {
    for (const b of r.broken.slice(0, SHOW_BROKEN)) s.print(`  ${r.name}: ${b.kit}: ${b.error}`)
    if (r.broken.length > SHOW_BROKEN) s.print(`  ${r.name}: and ${r.broken.length - SHOW_BROKEN} more kit(s) with errors (monk --output json hub ls lists them all)`)
  }
}

const timeoutOf = (t: string | undefined): number => {
  const n = Number(t ?? '120')
  if (!Number.isInteger(n) || n < 1 || n > 3600) throw new CliError('bad-flag', `--timeout must be seconds from 1 to 3600, got "${t ?? ''}"`, exitCodes.usage)
  return n
}

export async function add (name: string, url: string, opts: { ref?: string }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const row = await s.request('peer', { type: 'hub.add', name, url, ...(opts.ref !== undefined ? { ref: opts.ref } : {}) }, { timeoutMs: 150_000 })
  if (s.json) printJson(row)
  else printRows(s, [row])
  if (row.error !== null) process.exitCode = 1
}

export async function rm (name: string, _opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const r = await s.request('peer', { type: 'hub.rm', name })
  if (s.json) printJson(r)
  else s.note(`Removed hub source ${r.removed} and its ${r.templates} template(s); what runs keeps running`)
}

export async function ls (_opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const rows = await s.request('peer', { type: 'hub.ls' })
  if (s.json) { printJson(rows); return }
  printRows(s, rows)
  if (rows.length === 0) s.note('No hub sources. Add one with: monk hub add NAME GIT-URL')
}

export async function sync (name: string | undefined, opts: { timeout?: string }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const timeout = timeoutOf(opts.timeout)
  const rows = await s.request('peer', { type: 'hub.sync', ...(name !== undefined ? { name } : {}), timeout }, { timeoutMs: (timeout + 30) * 1000 })
  if (s.json) printJson(rows)
  else printRows(s, rows)
  if (rows.some(r => r.error !== null)) process.exitCode = 1
}
