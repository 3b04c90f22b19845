// `monk list [filter]` (the loaded templates, as a table) and `monk info PATH` (one template's metadata).
import type { Command } from 'commander'
import { table } from '../format/table.js'
import { CliError, exitCodes, printJson } from '../output.js'
import { requirePath, session } from './session.js'

/** What the CLI reads from a `templates.list` row. */
export interface TemplateRow { path: string, kind?: string, repo?: string, version?: string, tags?: string[] | string, description?: string }

export function templateRows (reply: unknown): TemplateRow[] {
  const body = (reply as { templates?: unknown } | null)?.templates ?? reply
  return Array.isArray(body) ? (body as TemplateRow[]).filter(r => typeof r?.path === 'string') : []
}

/** The action of `monk list` (its flags are in registry.ts). */
export async function list (filter: string | undefined, opts: { runnables?: boolean, groups?: boolean, local?: boolean }, cmd: Command): Promise<void> {
  const s = session(cmd)
  if (opts.runnables === true && opts.groups === true) throw new CliError('bad-flag', 'use --runnables or --groups, not both', exitCodes.usage)
  const kind = opts.runnables === true ? 'runnable' : opts.groups === true ? 'group' : undefined
  const reply = await s.request('peer', { type: 'templates.list', ...(kind !== undefined ? { kind } : {}) })
  const rows = templateRows(reply)
    .filter(r => filter === undefined || r.path.includes(filter))
    .filter(r => opts.local !== true || (r.repo ?? 'local') === 'local')
    .sort((a, b) => a.path.localeCompare(b.path))
  if (s.json) { printJson(rows); return }
  s.print(table(['TYPE', 'TEMPLATE', 'REPOSITORY', 'VERSION', 'TAGS'], rows.map(r => [
    r.kind ?? '', r.path, r.repo ?? 'local', r.version ?? '-', Array.isArray(r.tags) ? r.tags.join(',') : (r.tags ?? ''),
  ])))
  if (rows.length === 0) s.note('No templates. Load some with: monk load DIR')
}

/** The action of `monk info` (its flags are in registry.ts). */
export async function info (path: string, _opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const reply = await s.request('peer', { type: 'templates.info', path: requirePath(path) })
  if (s.json) { printJson(reply); return }
  const { stringify } = await import('yaml')
  s.print(stringify(reply, { lineWidth: 0 }))
}
