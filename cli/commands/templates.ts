// `monk list [filter]` (loaded and hub templates, as a table), `monk search WORDS` and `monk info PATH`
// (one template's metadata and where it came from).
import type { Command } from 'commander'
import { table } from '../format/table.js'
import { CliError, exitCodes, printJson } from '../output.js'
import { requirePath, session, type Session } from './session.js'

/** What the CLI reads from a `templates.list` row. */
export interface TemplateRow { path: string, kind?: string, repo?: string, version?: string | null, tags?: string[] | string, description?: string | null, commit?: string, changed?: boolean }

export function templateRows (reply: unknown): TemplateRow[] {
  const body = (reply as { templates?: unknown } | null)?.templates ?? reply
  return Array.isArray(body) ? (body as TemplateRow[]).filter(r => typeof r?.path === 'string') : []
}

const tagsOf = (r: TemplateRow): string[] => Array.isArray(r.tags) ? r.tags : typeof r.tags === 'string' && r.tags !== '' ? r.tags.split(',') : []

function printTable (s: Session, rows: TemplateRow[]): void {
  s.print(table(['TYPE', 'TEMPLATE', 'REPOSITORY', 'VERSION', 'TAGS'], rows.map(r => [
    r.kind ?? '', `${r.path}${r.changed === true ? ' *' : ''}`, r.repo ?? 'local', r.version ?? '-', tagsOf(r).join(','),
  ])))
  if (rows.some(r => r.changed === true)) s.note('* the hub has a newer version than what runs; monk update PATH takes it')
}

interface ListFlags { runnables?: boolean, groups?: boolean, local?: boolean, repo?: string, atVersion?: string, tag?: string, changed?: boolean }

/** The action of `monk list` (its flags are in registry.ts). */
export async function list (filter: string | undefined, opts: ListFlags, cmd: Command): Promise<void> {
  const s = session(cmd)
  if (opts.runnables === true && opts.groups === true) throw new CliError('bad-flag', 'use --runnables or --groups, not both', exitCodes.usage)
  const kind = opts.runnables === true ? 'runnable' : opts.groups === true ? 'group' : undefined
  const reply = await s.request('peer', { type: 'templates.list', ...(kind !== undefined ? { kind } : {}) })
  const rows = templateRows(reply)
    .filter(r => filter === undefined || r.path.includes(filter))
    .filter(r => opts.local !== true || (r.repo ?? 'local') === 'local')
    .filter(r => opts.repo === undefined || (r.repo ?? 'local') === opts.repo)
    .filter(r => opts.atVersion === undefined || r.version === opts.atVersion)
    .filter(r => opts.tag === undefined || tagsOf(r).some(t => t.toLowerCase() === opts.tag!.toLowerCase()))
    .filter(r => opts.changed !== true || r.changed === true)
    .sort((a, b) => a.path.localeCompare(b.path) || (a.repo ?? '').localeCompare(b.repo ?? ''))
  if (s.json) { printJson(rows); return }
  printTable(s, rows)
  if (rows.length === 0) s.note('No templates. Load some with: monk load DIR, or add a hub source: monk hub add NAME GIT-URL')
}

/** The action of `monk search` (its flags are in registry.ts). */
export async function search (words: string[], _opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const rows = templateRows(await s.request('peer', { type: 'templates.search', words })).sort((a, b) => a.path.localeCompare(b.path))
  if (s.json) { printJson(rows); return }
  printTable(s, rows)
  if (rows.length === 0) { s.note(`No template matches ${words.join(' ')}`); process.exitCode = 1 }
}

/** The action of `monk info` (its flags are in registry.ts). */
export async function info (path: string, _opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const reply = await s.request('peer', { type: 'templates.info', path: requirePath(path) })
  if (s.json) { printJson(reply); return }
  const { stringify } = await import('yaml')
  // the human view: what it is, what it inherits, where it came from, then its metadata
  const r = reply as Partial<typeof reply> & { inherits?: string[] }
  const chain = r.chain ?? r.inherits ?? []
  const md = r.value?.metadata
  s.print(stringify({
    path: r.path, kind: r.kind,
    ...(chain.length ? { inherits: chain } : {}),
    repository: r.repo ?? 'local',
    ...(r.commit !== undefined ? { commit: r.commit } : {}),
    ...(r.url !== undefined ? { url: r.url } : {}),
    ...(r.file !== undefined ? { source: r.line !== undefined ? `${r.file}:${r.line}` : r.file } : {}),
    ...(r.version !== undefined && r.version !== null ? { version: r.version } : {}),
    ...(r.tags !== undefined && r.tags.length ? { tags: r.tags } : {}),
    ...(r.description !== undefined && r.description !== null && r.description !== '' ? { description: r.description } : {}),
    ...(r.members !== undefined && r.members.length ? { members: r.members } : {}),
    ...(md !== undefined ? { metadata: md } : {}),
    ...(r.problem !== undefined ? { problem: r.problem } : {}),
  }, { lineWidth: 0 }))
}
