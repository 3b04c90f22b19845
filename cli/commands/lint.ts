// `monk lint PATH...`: load files and directories offline and report every diagnostic.
import { relative } from 'node:path'
import type { Command } from 'commander'
import type { Diagnostic, MapValue, NodeKind, TemplateNode } from '../../grammar/monkscript/index.js'
import type { HubDef } from '../api/messages.js'
import { absolute, fsSource } from '../fs-source.js'
import { loadedLine } from '../format/loaded.js'
import { globals, printJson, red, yellow } from '../output.js'

const danglingCodes = new Set(['inherits-dangling', 'member-dangling', 'reference-dangling'])

/** Hub definitions monkd holds for what `texts` name; none when monkd does not run. */
async function hubDefs (cmd: Command, texts: string[]): Promise<HubDef[]> {
  const { session } = await import('./session.js')
  return await session(cmd).request('peer', { type: 'templates.hub-defs', texts }).catch(() => [])
}

function countLocal (result: { nodes: ReadonlyMap<string, TemplateNode> }): Record<NodeKind, number> {
  const out: Record<NodeKind, number> = { runnable: 0, 'process-group': 0, group: 0, service: 0, entity: 0, 'entity-instance': 0, module: 0, abstract: 0 }
  for (const n of result.nodes.values()) if (n.repo === 'local') out[n.kind]++
  return out
}

export function registerLint (program: Command): void {
  program.command('lint')
    .description('load MonkScript files or directories offline and report errors and warnings')
    .argument('<paths...>', 'YAML files, MANIFESTs or directories')
    .option('--strict', 'treat warnings as errors')
    .action(async (paths: string[], opts: { strict?: boolean }, cmd: Command) => {
      const g = globals(cmd)
      // The loader and the Arrow checker load only when lint runs, so other commands start fast.
      const [{ loadPaths, notActedOn }, { scriptChecker }, { undefinedNames }] = await Promise.all([import('../../grammar/monkscript/index.js'), import('../script-check.js'), import('../lint-names.js')])
      const fs = fsSource()
      const texts: string[] = []
      const source = { ...fs, readFile: (p: string) => { const t = fs.readFile(p); if (t !== undefined) texts.push(t); return t } }
      let result = loadPaths(paths.map(absolute), { source, everything: true, checkScript: scriptChecker() })
      // a reference these files do not define: the hub kits monkd knows may (spec §2.3: local, then hub)
      let hub = 0
      if (result.errors.some(d => danglingCodes.has(d.code))) {
        const defs = await hubDefs(cmd, texts)
        if (defs.length) {
          hub = defs.length
          const prior = defs.map(d => ({ ...d, kind: 'abstract' as const, value: d.value as MapValue }) as unknown as TemplateNode)
          result = loadPaths(paths.map(absolute), { source: fs, everything: true, checkScript: scriptChecker(), prior })
          // only what the user's files say: the hub kits were checked when the hub compiled them
          result.diagnostics.splice(0, result.diagnostics.length, ...result.diagnostics.filter(d => d.file.startsWith('/')))
        }
      }
      // fields monk loads but will not act on: warnings, so nothing in a kit is dropped silently
      result.diagnostics.push(...notActedOn(result))
      // names read but never defined ($portt, {{ v "mesage" }}): nil at run time, so said here
      result.diagnostics.push(...undefinedNames(result))
      const errors = result.errors
      const warnings = result.warnings
      const counts = hub ? countLocal(result) : result.counts()
      if (g.output === 'json') {
        const shape = (d: Diagnostic) => ({ code: d.code, message: d.message, file: relative(process.cwd(), d.file), line: d.line, column: d.column })
        printJson({ files: result.files.length, nodes: counts, errors: errors.map(shape), warnings: warnings.map(shape) })
      } else {
        const sorted = [...result.diagnostics].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column)
        for (const d of sorted) {
          if (g.quiet && d.severity === 'warning') continue
          const sev = d.severity === 'error' ? red(g.color, 'error') : yellow(g.color, 'warning')
          process.stdout.write(`${relative(process.cwd(), d.file)}:${d.line}:${d.column}: ${sev} ${d.code}: ${d.message}\n`)
        }
        process.stdout.write(loadedLine(counts, result.files.length, errors.length, warnings.length) + (hub ? ` (on top of ${hub} hub definitions from monkd)` : '') + '\n')
      }
      process.exitCode = errors.length || (opts.strict && warnings.length) ? 1 : 0
    })
}
