// `monk dump PATH [--from DIR...]`: print one node's YAML with inheritance applied. With --from it
// loads those files offline; without, what monkd resolves (loaded templates, then hub kits: spec
// §2.3), and the current directory offline when monkd has no such template or does not run.
import type { Command } from 'commander'
import { absolute, fsSource } from '../fs-source.js'
import { CliError, globals, printJson } from '../output.js'

function write (path: string, kind: string, chain: string[], value: unknown, origin: string | undefined, stringify: (v: unknown, o: { lineWidth: number }) => string): void {
  process.stdout.write(`# ${path} (${kind}${chain.length ? `, inherits ${chain.join(' → ')}` : ''}${origin !== undefined ? `, from ${origin}` : ''})\n`)
  const [ns = '', ...rest] = path.split('/')
  process.stdout.write(stringify({ namespace: ns, [rest.join('/')]: value }, { lineWidth: 0 }))
}

export function registerDump (program: Command): void {
  program.command('dump')
    .description('print the resolved YAML of a template (inheritance applied)')
    .argument('<path>', 'template path, e.g. ns/name (or repo/ns/name for one hub source)')
    .option('--from <dirs...>', 'files or directories to load offline (default: what monkd resolves, loaded and hub templates, else the current directory)')
    .action(async (path: string, opts: { from?: string[] }, cmd: Command) => {
      const [{ stringify }, { loadPaths }] = await Promise.all([import('yaml'), import('../../grammar/monkscript/index.js')])
      const g = globals(cmd)
      if (opts.from === undefined) {
        // what monkd resolves (loaded, then hub); the current directory when monkd has no such template or is not running
        const { session } = await import('./session.js')
        const info = await session(cmd).request('peer', { type: 'templates.info', path }).catch((e: unknown) => {
          const code = (e as { code?: string }).code
          if (code === 'not-found' || code === 'daemon-down') return undefined
          throw e
        })
        if (info !== undefined) {
          if (g.output === 'json') { printJson({ path: info.path, kind: info.kind, value: info.value, inherits: info.chain, repo: info.repo ?? 'local', ...(info.commit !== undefined ? { commit: info.commit } : {}) }); return }
          write(info.path, info.kind, info.chain, info.value, info.repo !== undefined && info.repo !== 'local' ? `${info.repo}${info.commit !== undefined ? `@${info.commit.slice(0, 12)}` : ''}` : undefined, stringify)
          return
        }
      }
      const result = loadPaths((opts.from ?? ['.']).map(absolute), { source: fsSource() })
      const node = result.resolve(path)
      if (!node) throw new CliError('not-found', `no template "${path}" in ${opts.from === undefined ? 'monkd or the current directory' : opts.from.join(', ')} (try \`monk lint\` on it to see what loads)`)
      const errors = result.errors.filter(d => d.file === node.locOf('')?.file)
      if (g.output === 'json') { printJson({ path: node.path, kind: node.kind, value: node.value, inherits: node.chain }); return }
      write(node.path, node.kind, node.chain, node.value, undefined, stringify)
      if (errors.length) process.stderr.write(`${errors.length} error(s) in the file that defines it; run monk lint for details\n`)
    })
}
