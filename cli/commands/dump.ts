// `monk dump PATH --from DIR...`: print one node's YAML with inheritance applied.
import type { Command } from 'commander'
import { absolute, fsSource } from '../fs-source.js'
import { CliError, globals, printJson } from '../output.js'

export function registerDump (program: Command): void {
  program.command('dump')
    .description('print the resolved YAML of a template (inheritance applied)')
    .argument('<path>', 'template path, e.g. ns/name')
    .option('--from <dirs...>', 'files or directories to load (default: the current directory)')
    .action(async (path: string, opts: { from?: string[] }, cmd: Command) => {
      const [{ stringify }, { loadPaths }] = await Promise.all([import('yaml'), import('../../grammar/monkscript/index.js')])
      const g = globals(cmd)
      const result = loadPaths((opts.from ?? ['.']).map(absolute), { source: fsSource() })
      const node = result.resolve(path)
      if (!node) throw new CliError('not-found', `no template "${path}" in ${(opts.from ?? ['.']).join(', ')} (try \`monk lint\` on it to see what loads)`)
      const errors = result.errors.filter(d => d.file === node.locOf('')?.file)
      if (g.output === 'json') { printJson({ path: node.path, kind: node.kind, value: node.value, inherits: node.chain }); return }
      process.stdout.write(`# ${node.path} (${node.kind}${node.chain.length ? `, inherits ${node.chain.join(' → ')}` : ''})\n`)
      const [ns = '', ...rest] = node.path.split('/')
      process.stdout.write(stringify({ namespace: ns, [rest.join('/')]: node.value }, { lineWidth: 0 }))
      if (errors.length) process.stderr.write(`${errors.length} error(s) in the file that defines it; run monk lint for details\n`)
    })
}
