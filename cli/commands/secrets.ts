// `monk secrets add|rm|list`: global (`-g`) or per-workload (`-r ns/name`) secrets. A value goes
// to monkd and is never printed back: add answers with the name only, list shows names only.
import type { Command } from 'commander'
import { table } from '../format/table.js'
import { CliError, exitCodes, printJson } from '../output.js'
import { requirePath, session } from './session.js'

interface ScopeFlags { global?: boolean, runnable?: string }

/** `global` for -g, the workload path for -r; exactly one unless `optional`. */
export function scopeOf (flags: ScopeFlags, optional = false): string | undefined {
  if (flags.global === true && flags.runnable !== undefined) throw new CliError('bad-flag', 'use -g (global) or -r ns/name (one workload), not both', exitCodes.usage)
  if (flags.global === true) return 'global'
  if (flags.runnable !== undefined) return requirePath(flags.runnable, 'a workload path like ns/name (for -r)')
  if (optional) return undefined
  throw new CliError('bad-flag', 'say where the secret lives: -g (global) or -r ns/name (one workload)', exitCodes.usage)
}

/** Secret names out of a `secrets.list` reply; values, if a reply ever carried them, are dropped. */
export function secretRows (reply: unknown, scope: string | undefined): Array<{ scope: string, name: string }> {
  const body = (reply as { secrets?: unknown } | null)?.secrets ?? reply
  if (!Array.isArray(body)) return []
  return body.flatMap((r: unknown) => {
    if (typeof r === 'string') return [{ scope: scope ?? 'global', name: r }]
    const o = r as { scope?: unknown, name?: unknown } | null
    return typeof o?.name === 'string' ? [{ scope: typeof o.scope === 'string' ? o.scope : (scope ?? 'global'), name: o.name }] : []
  })
}

async function readStdin (): Promise<string> {
  if (process.stdin.isTTY) throw new CliError('bad-flag', 'give the secret as NAME=VALUE, or pipe its value in: printf %s VALUE | monk secrets add -g NAME', exitCodes.usage)
  let text = ''
  process.stdin.setEncoding('utf8')
  for await (const chunk of process.stdin) text += chunk as string
  return text.replace(/\r?\n$/, '')
}

/** The action of `monk secrets add` (its flags are in registry.ts). */
export async function add (arg: string, flags: ScopeFlags, cmd: Command): Promise<void> {
  const s = session(cmd)
  const scope = scopeOf(flags)!
  const eq = arg.indexOf('=')
  const name = eq < 0 ? arg : arg.slice(0, eq)
  if (name === '') throw new CliError('bad-flag', 'the secret needs a name: NAME=VALUE', exitCodes.usage)
  const value = eq < 0 ? await readStdin() : arg.slice(eq + 1)
  await s.request('peer', { type: 'secrets.add', scope, name, value })
  if (s.json) { printJson({ scope, name }); return }
  s.note(`Secret ${name} saved (${scope === 'global' ? 'global' : `for ${scope}`})`)
}

/** The action of `monk secrets rm` (its flags are in registry.ts). */
export async function rm (name: string, flags: ScopeFlags, cmd: Command): Promise<void> {
  const s = session(cmd)
  const scope = scopeOf(flags)!
  await s.request('peer', { type: 'secrets.rm', scope, name })
  if (s.json) { printJson({ scope, name, removed: true }); return }
  s.note(`Secret ${name} removed (${scope === 'global' ? 'global' : `for ${scope}`})`)
}

/** The action of `monk secrets list` (its flags are in registry.ts). */
export async function list (flags: ScopeFlags, cmd: Command): Promise<void> {
  const s = session(cmd)
  const scope = scopeOf(flags, true)
  const rows = secretRows(await s.request('peer', { type: 'secrets.list', ...(scope !== undefined ? { scope } : {}) }), scope)
  if (s.json) { printJson(rows); return }
  s.print(table(['NAME', 'SCOPE'], rows.map(r => [r.name, r.scope])))
  if (rows.length === 0) s.note('No secrets. Add one with: monk secrets add -g NAME=VALUE')
}
