// `monk lint PATH...`: load files and directories offline and report every diagnostic.
import { relative } from 'node:path'
import type { Command } from 'commander'
import type { Diagnostic } from '../../grammar/monkscript/index.js'
import { absolute, fsSource } from '../fs-source.js'
import { loadedLine } from '../format/loaded.js'
import { globals, printJson, red, yellow } from '../output.js'

export function registerLint (program: Command): void {
  program.command('lint')
    .description('load MonkScript files or directories offline and report errors and warnings')
    .argument('<paths...>', 'YAML files, MANIFESTs or directories')
    .option('--strict', 'treat warnings as errors')
    .action(async (paths: string[], opts: { strict?: boolean }, cmd: Command) => {
      const g = globals(cmd)
      // The loader and the Arrow checker load only when lint runs, so other commands start fast.
      const [{ loadPaths, notActedOn }, { scriptChecker }, { undefinedNames }] = await Promise.all([import('../../grammar/monkscript/index.js'), import('../script-check.js'), import('../lint-names.js')])
      const result = loadPaths(paths.map(absolute), { source: fsSource(), everything: true, checkScript: scriptChecker() })
      // fields monk loads but will not act on: warnings, so nothing in a kit is dropped silently
      result.diagnostics.push(...notActedOn(result))
      // names read but never defined ($portt, {{ v "mesage" }}): nil at run time, so said here
      result.diagnostics.push(...undefinedNames(result))
      const errors = result.errors
      const warnings = result.warnings
      const counts = result.counts()
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
        process.stdout.write(loadedLine(counts, result.files.length, errors.length, warnings.length) + '\n')
      }
      process.exitCode = errors.length || (opts.strict && warnings.length) ? 1 : 0
    })
}
