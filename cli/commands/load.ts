// `monk load FILE|DIR...`: read the kit locally (YAML, MANIFESTs, embedded files), send the texts
// to monkd (`templates.load`), and print its verdict the way `monk lint` does.
import type { Command } from 'commander'
import type { LoadReply } from '../api/messages.js'
import { loadedLine } from '../format/loaded.js'
import { printJson, red, yellow } from '../output.js'
import { session, type Session } from './session.js'

/** What a local read of the user's paths gives: every file text involved, and the local load. */
export interface Kit {
  /** Absolute paths as the user gave them. */
  paths: string[]
  /** Absolute path → text of every file the loader read (YAML, MANIFEST, embeds). */
  files: Record<string, string>
  /** Template paths by kind, and MANIFEST ENTRY lines, from the local load (for `up`). */
  nodes: Array<{ path: string, kind: string }>
  entries: string[]
}

/** Reads the kit through the MonkScript loader, recording every file it reads. */
export async function readKit (userPaths: readonly string[]): Promise<Kit> {
  const [{ loadPaths }, { absolute, fsSource }] = await Promise.all([import('../../grammar/monkscript/index.js'), import('../fs-source.js')])
  const fs = fsSource()
  const files: Record<string, string> = {}
  const paths = userPaths.map(absolute)
  const result = loadPaths(paths, {
    source: {
      readFile (p) {
        const text = fs.readFile(p)
        if (text !== undefined) files[p] = text
        return text
      },
      listDir: p => fs.listDir(p),
      kind: p => fs.kind(p),
    },
  })
  return {
    paths,
    files,
    nodes: [...result.nodes.values()].map(n => ({ path: n.path, kind: n.kind })),
    entries: result.manifests.flatMap(m => m.entry),
  }
}

/** `Loaded 2 runnables and 1 group in 1 file with 0 errors and 0 warnings` (kinds with 0 left out). */
export function loadSummary (reply: LoadReply): string {
  return loadedLine(reply.nodes, reply.files, reply.errors.length, reply.warnings.length)
}

/** Diagnostics (`file:line:col: error CODE: message`, relative to the cwd) then the summary line. */
export async function printLoadReply (s: Session, reply: LoadReply): Promise<void> {
  const { relative } = await import('node:path')
  const rel = (f: string): string => f.startsWith('/') ? relative(process.cwd(), f) || f : f
  const all = [...reply.errors.map(d => ({ ...d, sev: 'error' as const })), ...reply.warnings.map(d => ({ ...d, sev: 'warning' as const }))]
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column)
  for (const d of all) {
    if (s.g.quiet && d.sev === 'warning') continue
    const sev = d.sev === 'error' ? red(s.g.color, 'error') : yellow(s.g.color, 'warning')
    s.print(`${rel(d.file)}:${d.line}:${d.column}: ${sev} ${d.code}: ${d.message}`)
  }
  s.print(loadSummary(reply))
}

/** Reads the kit and sends it to monkd; returns the reply and the local view of the kit. */
export async function loadKit (s: Session, paths: readonly string[]): Promise<{ reply: LoadReply, kit: Kit }> {
  const kit = await readKit(paths)
  const { progress } = await import('../format/spinner.js')
  const p = progress({ enabled: !s.json && !s.g.quiet })
  p.update(`monkd is compiling ${Object.keys(kit.files).length} files`)
  try {
    const reply = await s.request('peer', { type: 'templates.load', files: kit.files, paths: kit.paths })
    return { reply, kit }
  } finally {
    p.done()
  }
}

/** The action of `monk load` (its flags are in registry.ts). */
export async function load (paths: string[], opts: { strict?: boolean }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const { reply } = await loadKit(s, paths)
  if (s.json) printJson(reply)
  else await printLoadReply(s, reply)
  process.exitCode = reply.errors.length || (opts.strict === true && reply.warnings.length) ? 1 : 0
}
