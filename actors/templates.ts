// Templates sent by `monk load`: compiled with the loader (diagnostics as `monk lint` gives them)
// into `tpl/<ns>/<name>` records, inheritance applied, so every peer runs from the same tree.
//
// Loads compose (spec §2.1, MonkOS `monk load`): every definition a load brings is kept as a
// `def/<repo>/<ns>/<name>` record, and the next load is compiled together with the definitions of
// the earlier ones, so it may inherit, override or group what they defined. A file loaded again
// replaces its definitions. A definition that no longer resolves (its parent or a member went
// away) keeps its last `tpl/` record, marked with the problem, until it is loaded again.
import { checkScript } from '../grammar/arrow/index.js'
import { loadPaths, memorySource, type Diagnostic, type MapValue, type TemplateNode } from '../grammar/monkscript/index.js'
import { decodeTpl, type TplRecord } from './state.js'
import { isObj, sameData } from './values.js'

export interface CompiledTemplates {
  records: TplRecord[]
  files: number
  errors: Diagnostic[]
  warnings: Diagnostic[]
  counts: Record<string, number>
}

/** Compiles the given files (absolute path → text) alone; `paths` are what the user named. */
export function compileTemplates (files: Record<string, string>, paths: string[], now: number): CompiledTemplates {
  const c = composeTemplates([], new Map(), files, paths, now)
  return { records: c.records, files: c.files, errors: c.errors, warnings: c.warnings, counts: c.counts }
}

/** One definition as a load wrote it (before inheritance), kept to compose later loads. */
export type TplDef = Pick<TemplateNode, 'path' | 'namespace' | 'name' | 'repo' | 'pos' | 'value' | 'locs'>

export const defKey = (repo: string, path: string): string => `def/${repo}/${path}`

export interface ComposedTemplates extends CompiledTemplates {
  /** Definitions this load brings (to store under defKey). */
  defs: TplDef[]
  /** Earlier definitions this load drops: their file was loaded again without them. */
  dropped: TplDef[]
  /** Template paths whose record changed (written in `records`); unchanged ones are left alone. */
  changed: string[]
  /** Earlier templates that no longer resolve: their last record stays, marked with the problem. */
  broken: Array<{ path: string, problem: string }>
  /** Secrets the loaded MANIFESTs say must exist before running (SECRET), where each is named. */
  secrets: Array<{ name: string, file: string, line: number, column: number }>
}

/**
 * Compiles `files` on top of the earlier definitions `prior`. `current` holds the `tpl/` records
 * as they are (to tell what changed and to keep the last good record of a broken template).
 * Errors are only those of this load's files; earlier definitions broken by it are warnings.
 */
export function composeTemplates (prior: readonly TplDef[], current: ReadonlyMap<string, TplRecord>, files: Record<string, string>, paths: string[], now: number): ComposedTemplates {
  const loadedFiles = new Set(Object.keys(files))
  // A file loaded again replaces all of its definitions, so they are left out here.
  const kept = prior.filter(d => !loadedFiles.has(d.pos.file))
  const dropped = prior.filter(d => loadedFiles.has(d.pos.file))
  const priorNodes: TemplateNode[] = kept.map(d => ({ ...structuredClone(d), kind: 'abstract' }))
  const keptPaths = new Set(kept.map(d => d.path))
  const result = loadPaths(paths, { source: memorySource(files), checkScript, prior: priorNodes })
  const fresh = [...result.nodes.values()].filter(n => !priorNodes.includes(n))
  // A path this load defines again (elsewhere) replaces the earlier definition in the same repository.
  const replaced = new Set(fresh.map(n => `${n.repo}\n${n.path}`))
  for (const d of kept) if (replaced.has(`${d.repo}\n${d.path}`)) dropped.push(d)
  const own = (d: Diagnostic): boolean => !d.file || loadedFiles.has(d.file)
  const errors = result.errors.filter(own)
  const warnings = result.warnings.filter(own)
  // Earlier definitions that this load breaks: an error about one of them, or inheriting from one.
  const brokenBy = new Map<string, string>()
  for (const d of result.errors) if (!own(d) && d.node !== undefined && keptPaths.has(d.node)) brokenBy.set(d.node, d.message)
  const records: TplRecord[] = []
  const changed: string[] = []
  const broken: Array<{ path: string, problem: string }> = []
  for (const node of result.nodes.values()) {
    // hub definitions a load builds on are read from the hub's records, never written as local ones
    if (node.repo !== 'local') continue
    const r = result.resolve(node.path)
    if (!r) continue
    const cause = brokenBy.get(node.path) ?? r.chain.map(p => brokenBy.get(p) !== undefined ? `${node.path} inherits ${p}, which no longer resolves: ${brokenBy.get(p) ?? ''}` : undefined).find(x => x !== undefined)
    const before = current.get(node.path)
    if (cause !== undefined && priorNodes.includes(node)) {
      broken.push({ path: node.path, problem: cause })
      warnings.push({ code: 'template-broken', message: `${cause}; ${node.path} keeps its last definition (what runs keeps running) until it is loaded again`, file: node.pos.file, line: node.pos.line, column: node.pos.column, severity: 'warning', node: node.path })
      if (before && before.problem !== cause) { records.push({ ...before, problem: cause }); changed.push(node.path) }
      continue
    }
    const rec: TplRecord = { path: node.path, kind: node.kind, value: r.value, members: result.membersOf(node.path), groups: result.groupsOf(node.path), chain: r.chain, file: node.pos.file, loadedAt: now }
    if (before && sameRecord(before, rec)) continue
    if (before && priorNodes.includes(node) && sameData(before.value, rec.value)) rec.loadedAt = before.loadedAt
    records.push(rec)
    changed.push(node.path)
  }
  const defs: TplDef[] = fresh.map(n => ({ path: n.path, namespace: n.namespace, name: n.name, repo: n.repo, pos: n.pos, value: n.value, locs: n.locs }))
  const counts: Record<string, number> = {}
  for (const n of fresh) counts[n.kind] = (counts[n.kind] ?? 0) + 1
  const secrets = result.manifests.flatMap(m => m.secretsAt.map(x => ({ name: x.name, file: m.file, line: x.line, column: x.column })))
  return { records, files: result.files.length, errors, warnings, counts, defs, dropped, changed, broken, secrets }
}

function sameRecord (a: TplRecord, b: TplRecord): boolean {
  return a.kind === b.kind && a.file === b.file && a.problem === undefined && sameData(a.value, b.value) && sameData(a.members, b.members) && sameData(a.groups, b.groups) && sameData(a.chain, b.chain)
}

type Scan = { scan: (prefix: string) => ReadonlyArray<{ key: string, value: unknown }> }

/** Every definition earlier loads kept (`def/` records). */
export function priorDefs (mesh: Scan): TplDef[] {
  return mesh.scan('def/').flatMap(e => { const d = decodeDef(e.value); return d ? [d] : [] })
}

/** The `tpl/` records as they are now, by path. */
export function currentTpls (mesh: Scan): Map<string, TplRecord> {
  const out = new Map<string, TplRecord>()
  for (const e of mesh.scan('tpl/')) { const t = decodeTpl(e.value); if (t) out.set(t.path, t) }
  return out
}

export function encodeDef (d: TplDef): MapValue {
  const locs: MapValue = {}
  for (const [k, [l, c]] of Object.entries(d.locs)) locs[k] = [l, c]
  return { path: d.path, namespace: d.namespace, name: d.name, repo: d.repo, pos: { file: d.pos.file, line: d.pos.line, column: d.pos.column }, value: d.value, locs }
}

export function decodeDef (v: unknown): TplDef | undefined {
  if (!isObj(v) || typeof v.path !== 'string' || typeof v.namespace !== 'string' || typeof v.name !== 'string' || typeof v.repo !== 'string' || !isObj(v.value) || !isObj(v.pos)) return undefined
  const pos = v.pos
  if (typeof pos.file !== 'string' || typeof pos.line !== 'number' || typeof pos.column !== 'number') return undefined
  const locs: Record<string, [number, number]> = {}
  if (isObj(v.locs)) {
    for (const [k, x] of Object.entries(v.locs)) if (Array.isArray(x) && typeof x[0] === 'number' && typeof x[1] === 'number') locs[k] = [x[0], x[1]]
  }
  return { path: v.path, namespace: v.namespace, name: v.name, repo: v.repo, pos: { file: pos.file, line: pos.line, column: pos.column }, value: v.value as MapValue, locs }
}
