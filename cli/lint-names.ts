// Lint of the names a kit reads but never defines: `$portt` in a script or `{{ v "mesage" }}` in a
// file template evaluates to nil at run time and nothing says so. A variable is defined when the
// node, a node inheriting it, or a group around either declares it, or it is a built-in; a read
// followed by `default` expects it may be missing. Malformed file templates are errors here too.
import { checkTemplate, templateReads, variableReads } from '../grammar/arrow/index.js'
import type { Diagnostic, LoadResult, MapValue, ResolvedNode } from '../grammar/monkscript/index.js'
import { isMap } from '../grammar/monkscript/index.js'
import { didYouMean } from '../actors/suggest.js'

/** Built-in variables (grammar/monkscript/variables.ts builtinVariables) and action arguments. */
const BUILTINS = ['monk-volume-path', 'moncc-volume-path', 'volume-path', 'args']
const SCOPED = new Set(['runnable', 'service', 'group', 'process-group', 'abstract'])

const varsOf = (v: MapValue | undefined): string[] => isMap(v?.variables) ? Object.keys(v.variables) : []

export function undefinedNames (result: LoadResult): Diagnostic[] {
  const resolved = new Map<string, ResolvedNode>()
  for (const path of result.nodes.keys()) { const r = result.resolve(path); if (r !== undefined) resolved.set(path, r) }
  const inheritors = new Map<string, string[]>()
  for (const [path, r] of resolved) for (const base of r.chain) inheritors.set(base, [...(inheritors.get(base) ?? []), path])
  // every definition of a path counts (a kit loaded twice, or in two versions, may differ)
  const defined = (path: string): string[] => [...varsOf(resolved.get(path)?.value), ...result.definitionsOf(path).flatMap(d => varsOf(d.value))]
  const own = (path: string): string[] => [...defined(path), ...result.groupsOf(path).flatMap(defined)]
  const scopeOf = (path: string): Set<string> => new Set([...BUILTINS, ...own(path), ...(inheritors.get(path) ?? []).flatMap(own)])
  // a base nobody here inherits from or groups is a library: its variables come from elsewhere
  const checked = (path: string): boolean => {
    const r = resolved.get(path)
    return r !== undefined && SCOPED.has(r.kind) && (r.kind !== 'abstract' || (inheritors.get(path) ?? []).length > 0)
  }
  const out: Diagnostic[] = []
  const seen = new Set<string>()
  const push = (d: Diagnostic): void => {
    const k = `${d.file}:${d.line}:${d.column}:${d.message}`
    if (!seen.has(k)) { seen.add(k); out.push(d) }
  }
  for (const s of result.scripts) {
    if (!checked(s.node)) continue
    const scope = scopeOf(s.node)
    for (const read of variableReads(s.source, s.kind)) {
      if (read.defaulted || scope.has(read.name)) continue
      push({ code: 'undefined-variable', severity: 'warning', node: s.node, ...s.pos, message: `${s.field}: $${read.name} is not defined by ${s.node}, what inherits it or a group around it${didYouMean(read.name, scope)}; it evaluates to nil (write $${read.name} default(...) if that is meant)` })
    }
  }
  for (const [path, r] of resolved) {
    if (!checked(path) || !isMap(r.value.files)) continue
    const scope = scopeOf(path)
    for (const [id, f] of Object.entries(r.value.files)) {
      if (!isMap(f) || typeof f.contents !== 'string' || f.raw === true || f.contents.trimStart().startsWith('<-')) continue
      const at = r.locOf(`files/${id}/contents`) ?? r.locOf(`files/${id}`)
      if (at === undefined) continue
      for (const p of checkTemplate(f.contents)) push({ code: 'template', severity: 'error', node: path, ...at, message: `files.${id}.contents: ${p.message}` })
      for (const name of templateReads(f.contents)) {
        if (scope.has(name)) continue
        push({ code: 'undefined-variable', severity: 'warning', node: path, ...at, message: `files.${id}.contents: {{ v "${name}" }} reads a variable ${path} does not define${didYouMean(name, scope)}; it renders as nothing` })
      }
    }
  }
  return out
}
