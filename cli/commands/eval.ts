// `monk eval 'SCRIPT'`: evaluate an Arrow script offline, optionally in a runnable's variable scope.
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import type { ArrowValue, ScriptKind } from '../../grammar/arrow/index.js'
import type { MapValue } from '../../grammar/monkscript/index.js'
import { absolute, fsSource } from '../fs-source.js'

// The language modules load only when eval runs, so other commands start without them.
const arrowModule = () => import('../../grammar/arrow/index.js')
const monkscriptModule = () => import('../../grammar/monkscript/index.js')
const variablesModule = () => import('../../grammar/monkscript/variables.js')
import { CliError, exitCodes, globals, printJson } from '../output.js'

interface EvalOptions {
  set: string[]
  from?: string[]
  in?: string
  code?: boolean
}

function collect (value: string, previous: string[]): string[] {
  return [...previous, value]
}

/** `name=value` pairs addressed to the evaluated scope (`ns/runnable/name=value` must match `--in`). */
function overrides (sets: string[], target: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const s of sets) {
    const eq = s.indexOf('=')
    if (eq <= 0) throw new CliError('bad-flag', `--set expects name=value, got "${s}"`, exitCodes.usage)
    const key = s.slice(0, eq)
    const slash = key.lastIndexOf('/')
    if (slash !== -1) {
      const path = key.slice(0, slash)
      if (target === undefined || path !== target) continue
    }
    out[key.slice(slash + 1)] = s.slice(eq + 1)
  }
  return out
}

/** Human form of a value: strings as they are, nil as `nil`, the rest as to-s (collections as JSON). */
function text (v: ArrowValue, toJSONText: (v: ArrowValue, pretty: boolean) => string): string {
  if (typeof v === 'string') return v
  if (v === null) return 'nil'
  if (typeof v === 'bigint') return `${v}n`
  return toJSONText(v, false)
}

export function registerEval (program: Command): void {
  program.command('eval')
    .description('evaluate an Arrow script offline (host operators such as secret, entity, entity-state, get-entity, connection-target or connection-* need a cluster: they fail here with missing-capability)')
    .argument('<script>', 'the script; a leading <- is optional')
    .option('--set <name=value>', 'give a variable a value (repeatable; ns/runnable/name=value addresses --in)', collect, [])
    .option('--from <paths...>', 'MonkScript files or directories to load for --in (default: .)')
    .option('--in <ns/runnable>', 'evaluate in the variable scope of this runnable (group variables as fallback)')
    .option('--code', 'evaluate as a code field (actions/checks/scale): a leading <- builds the code')
    .action(async (script: string, opts: EvalOptions, cmd: Command) => {
      const [{ ArrowError, checkScript, compile, toJSONText, toPlain }, { loadPaths }, { ScopeVars, buildScope, builtinVariables }] =
        await Promise.all([arrowModule(), monkscriptModule(), variablesModule()])
      const g = globals(cmd)
      const kind: ScriptKind = opts.code === true ? 'code' : 'value'
      const sets = overrides(opts.set, opts.in)
      const builtins = builtinVariables({ volumePath: join(g.home ?? join(homedir(), '.monk'), 'volumes') })
      let node: MapValue = {}
      let groups: MapValue[] = []
      if (opts.in !== undefined) {
        const paths = (opts.from ?? ['.']).map(absolute)
        const result = loadPaths(paths, { source: fsSource() })
        const resolved = result.resolve(opts.in)
        if (resolved === undefined) {
          throw new CliError('not-found', `no template ${opts.in} in ${paths.join(', ')}` + (result.errors.length ? ` (${result.errors.length} load errors; run monk lint)` : ''))
        }
        node = resolved.value
        groups = result.groupsOf(opts.in).map(p => result.resolve(p)?.value).filter((v): v is MapValue => v !== undefined)
      } else if (opts.from !== undefined) {
        throw new CliError('bad-flag', '--from needs --in ns/runnable (the runnable whose variables to use)', exitCodes.usage)
      }
      const scope = buildScope(node, groups, sets, builtins)
      if (g.output !== 'json') for (const p of scope.problems) process.stderr.write(`monk: warning: ${p.message}\n`)
      if (g.output !== 'json' && !g.quiet) {
        for (const d of checkScript(script, kind)) if (d.severity === 'warning') process.stderr.write(`monk: warning: ${d.message}\n`)
      }
      const vars = new ScopeVars(scope)
      try {
        const value = await compile(script, kind).run({ vars })
        if (g.output === 'json') printJson({ value: toPlain(value) })
        else process.stdout.write(text(value, toJSONText) + '\n')
        process.exitCode = exitCodes.ok
      } catch (e) {
        if (!(e instanceof ArrowError)) throw e
        // Line and column refer to the script given; an error inside a variable's own value says so in the message.
        const here = e.location !== null && e.source === script
        if (g.output === 'json') {
          printJson({ error: { code: e.code, message: e.message, line: here ? e.location?.line ?? null : null, column: here ? e.location?.column ?? null : null } })
        } else {
          process.stderr.write(`monk: ${e.format()}\n`)
        }
        process.exitCode = exitCodes.failure
      }
    })
}
