// What a load produces: the template tree (winning definition per path), inheritance resolution,
// classification, group membership, script checks, and every diagnostic with its location.
import { classify, normaliseSections, renamePath } from './classify.js'
import { codes } from './errors.js'
import type { FileText, NodeExtra } from './loader.js'
import type { Manifest } from './manifest.js'
import { isMap, mergeNode } from './merge.js'
import { nodePath, readPath } from './paths.js'
import type { Diagnostic, MapValue, NodeKind, Pos, ResolvedNode, ScriptRef, TemplateNode, Value } from './types.js'
import { escapeKey } from './yaml.js'

/** Checks one script; offsets index into the script's source string. */
export type ScriptChecker = (source: string, kind: 'value' | 'code') => Array<{ code: string, message: string, offset: number, severity: 'error' | 'warning' }>

interface Init {
  nodes: TemplateNode[]
  extras: Map<TemplateNode, NodeExtra>
  diagnostics: Diagnostic[]
  manifests: Manifest[]
  files: string[]
  texts: Map<string, FileText>
  checkScript: ScriptChecker | undefined
}

/** A layer of inherited content: `target` (at `sub`) was merged in at key path `prefix`. */
interface Layer { prefix: string, target: ResolvedNode, sub: string }

const groupKinds: ReadonlySet<NodeKind> = new Set(['group', 'process-group'])

export class LoadResult {
  /** The winning definition of every path (`ns/name`). */
  readonly nodes = new Map<string, TemplateNode>()
  readonly diagnostics: Diagnostic[]
  readonly manifests: Manifest[]
  /** YAML files loaded. */
  readonly files: string[]
  /** Every arrow value and code field, as written. */
  readonly scripts: ScriptRef[] = []
  /** Every definition of a path, all repositories, in load order. */
  private readonly all = new Map<string, TemplateNode[]>()
  private readonly resolved = new Map<TemplateNode, ResolvedNode | null>()
  private readonly resolving: TemplateNode[] = []
  private readonly members = new Map<string, string[]>()
  private readonly parents = new Map<string, string[]>()

  constructor (init: Init) {
    this.diagnostics = init.diagnostics
    this.manifests = init.manifests
    this.files = init.files
    for (const n of init.nodes) {
      const renames = normaliseSections(n)
      const extra = init.extras.get(n)
      if (extra && renames.length) for (const site of extra.sites) site.keyPath = renamePath(site.keyPath, renames)
      const list = this.all.get(n.path)
      if (list) list.push(n)
      else this.all.set(n.path, [n])
    }
    for (const [path, list] of this.all) {
      const winner = this.pick(list)
      this.nodes.set(path, winner)
      for (const other of list) {
        if (other === winner || other.repo !== winner.repo) continue
        this.diagnostics.push({ code: codes.duplicateNode, message: `${path} is defined again at ${winner.pos.file}:${winner.pos.line}:${winner.pos.column}, which wins`, file: other.pos.file, line: other.pos.line, column: other.pos.column, severity: 'warning' })
      }
    }
    // Resolve and classify every definition (shadowed ones too), so inheritance errors surface at load time.
    for (const n of init.nodes) {
      const r = this.resolveNode(n)
      const c = classify(n, r?.value ?? n.value, this.diagnostics)
      n.kind = c.kind
      if (c.entityType !== undefined) n.entityType = c.entityType
      if (r) { r.kind = c.kind; if (c.entityType !== undefined) r.entityType = c.entityType }
    }
    for (const n of this.nodes.values()) this.checkReferences(n)
    for (const n of init.nodes) this.collectScripts(n, init.extras.get(n), init.texts, init.checkScript)
  }

  /** Diagnostics of one severity. */
  get errors (): Diagnostic[] { return this.diagnostics.filter(d => d.severity === 'error') }
  get warnings (): Diagnostic[] { return this.diagnostics.filter(d => d.severity === 'warning') }

  /** Node count per class. */
  counts (): Record<NodeKind, number> {
    const out: Record<NodeKind, number> = { runnable: 0, 'process-group': 0, group: 0, service: 0, entity: 0, 'entity-instance': 0, module: 0, abstract: 0 }
    for (const n of this.nodes.values()) out[n.kind]++
    return out
  }

  /** Finds the node a reference names, read in namespace `fromNs` (see paths.ts for the forms). */
  find (ref: string, fromNs: string, bareIsLocal = false, fromRepo = 'local'): { node: TemplateNode, sub: string } | undefined {
    for (const r of readPath(ref, fromNs, bareIsLocal)) {
      const list = this.all.get(nodePath(r))
      if (!list) continue
      if (r.repo !== undefined) {
        const inRepo = list.filter(n => n.repo === r.repo)
        // A repository-qualified path falls back to any repository when that one is not loaded.
        const node = inRepo.length ? this.pick(inRepo) : this.pick(list)
        return { node, sub: r.sub }
      }
      const same = list.filter(n => n.repo === fromRepo)
      return { node: same.length ? this.pick(same) : this.pick(list), sub: r.sub }
    }
    return undefined
  }

  /** The node at `path` with inheritance applied, or undefined when no such node is loaded. */
  resolve (path: string): ResolvedNode | undefined {
    const found = this.find(path, '')
    if (!found) return undefined
    return this.resolveNode(found.node) ?? undefined
  }

  /** Every definition of `path` loaded (shadowed ones too), in load order. */
  definitionsOf (path: string): readonly TemplateNode[] {
    return this.all.get(path) ?? []
  }

  /** Member paths (`ns/name`) of a group or process-group, in order; [] for other nodes. */
  membersOf (path: string): string[] {
    return this.members.get(path) ?? []
  }

  /** Paths of the groups/process-groups that list `path` as a member, innermost first. */
  groupsOf (path: string): string[] {
    const out: string[] = []
    const seen = new Set<string>()
    let frontier = [path]
    while (frontier.length) {
      const next: string[] = []
      for (const p of frontier) {
        for (const g of this.parents.get(p) ?? []) {
          if (seen.has(g)) continue
          seen.add(g)
          out.push(g)
          next.push(g)
        }
      }
      frontier = next
    }
    return out
  }

  // Local shadows other repositories; within one repository the definition loaded last wins.
  private pick (list: TemplateNode[]): TemplateNode {
    const local = list.filter(n => n.repo === 'local')
    const pool = local.length ? local : list
    return pool[pool.length - 1] as TemplateNode
  }

  private resolveNode (node: TemplateNode): ResolvedNode | null {
    const done = this.resolved.get(node)
    if (done !== undefined) return done
    if (this.resolving.includes(node)) return null
    this.resolving.push(node)
    const layers: Layer[] = []
    const chain: string[] = []
    const value = this.resolveMap(node, node.value, '', layers, chain) as MapValue
    this.resolving.pop()
    const locs = node.locs
    const file = node.pos.file
    const r: ResolvedNode = {
      path: node.path, kind: node.kind, value, chain,
      locOf (keyPath: string): Pos | undefined {
        const own = locs[keyPath]
        if (own) return { file, line: own[0], column: own[1] }
        for (const l of layers) {
          if (l.prefix !== '' && keyPath !== l.prefix && !keyPath.startsWith(l.prefix + '/')) continue
          const rest = l.prefix === '' ? keyPath : keyPath.slice(l.prefix.length + 1)
          const p = l.target.locOf(l.sub === '' ? rest : rest === '' ? l.sub : `${l.sub}/${rest}`)
          if (p) return p
        }
        return undefined
      },
    }
    if (node.entityType !== undefined) r.entityType = node.entityType
    this.resolved.set(node, r)
    return r
  }

  /** Resolves every `inherits` inside `value` (children first, in the node's own namespace), then this map's. */
  private resolveMap (node: TemplateNode, value: Value, path: string, layers: Layer[], chain: string[]): Value {
    if (Array.isArray(value)) {
      let out: Value[] | undefined
      value.forEach((v, i) => {
        if (typeof v !== 'object' || v === null) return
        const r = this.resolveMap(node, v, path === '' ? String(i) : `${path}/${i}`, layers, chain)
        if (r !== v) { out ??= value.slice(); out[i] = r }
      })
      return out ?? value
    }
    if (!isMap(value)) return value
    let out: MapValue | undefined
    for (const key of Object.keys(value)) {
      if (key === 'inherits') continue
      const v = value[key] as Value
      if (typeof v !== 'object' || v === null) continue
      const r = this.resolveMap(node, v, path === '' ? escapeKey(key) : `${path}/${escapeKey(key)}`, layers, chain)
      if (r !== v) { out ??= { ...value }; out[key] = r }
    }
    const self = out ?? value
    if (!Object.prototype.hasOwnProperty.call(value, 'inherits')) return self
    const ref = value.inherits
    const at = path === '' ? 'inherits' : `${path}/inherits`
    const loc = node.locs[at] ?? [node.pos.line, node.pos.column]
    const { inherits: _drop, ...own } = self
    if (typeof ref !== 'string' || ref.trim() === '') {
      this.report(codes.inheritsBadValue, `inherits must be one template path such as "ns/name", got ${JSON.stringify(ref)}`, node, loc)
      return own
    }
    const found = this.find(ref, node.namespace, false, node.repo)
    if (!found) {
      const via = [...this.resolving.map(n => n.path), ref.trim()].join(' → ')
      this.report(codes.inheritsDangling, `${node.path} inherits "${ref}", which is not defined (chain: ${via})`, node, loc)
      return own
    }
    if (this.resolving.includes(found.node)) {
      const from = this.resolving.indexOf(found.node)
      const cycle = [...this.resolving.slice(from).map(n => n.path), found.node.path].join(' → ')
      this.report(codes.inheritsCycle, `inheritance cycle: ${cycle}`, node, loc)
      return own
    }
    const target = this.resolveNode(found.node)
    if (!target) return own
    const base = found.sub === '' ? target.value : getPath(target.value, found.sub)
    if (base === undefined) {
      this.report(codes.inheritsDangling, `${node.path} inherits "${ref}": ${found.node.path} has no "${found.sub}"`, node, loc)
      return own
    }
    if (path === '') chain.push(found.node.path, ...target.chain)
    layers.push({ prefix: path, target, sub: found.sub })
    return mergeNode(base, own)
  }

  private report (code: string, message: string, node: TemplateNode, loc: [number, number], severity: 'error' | 'warning' = 'error'): void {
    this.diagnostics.push({ code, message, file: node.pos.file, line: loc[0], column: loc[1], severity, node: node.path })
  }

  /** Group members (`members`, `runnable-list`) and the references that name other nodes. */
  private checkReferences (n: TemplateNode): void {
    const r = this.resolveNode(n)
    if (!r) return
    const v = r.value
    if (groupKinds.has(n.kind)) {
      const key = Array.isArray(v.members) ? 'members' : 'runnable-list'
      const list = v[key]
      const out: string[] = []
      if (Array.isArray(list)) {
        list.forEach((m, i) => {
          if (typeof m !== 'string') return
          const f = this.find(m, n.namespace, true, n.repo)
          const p = r.locOf(`${key}/${i}`) ?? n.pos
          if (!f) {
            this.diagnostics.push({ code: codes.memberDangling, message: `${n.path} lists member "${m}", which is not defined`, file: p.file, line: p.line, column: p.column, severity: 'error', node: n.path })
            return
          }
          out.push(f.node.path)
          const ps = this.parents.get(f.node.path)
          if (ps) { if (!ps.includes(n.path)) ps.push(n.path) } else this.parents.set(f.node.path, [n.path])
        })
      }
      this.members.set(n.path, out)
    }
    if (n.kind === 'entity-instance' && n.entityType !== undefined && !this.find(n.entityType, n.namespace, false, n.repo)) {
      const p = r.locOf('defines') ?? n.pos
      this.diagnostics.push({ code: codes.entityTypeMissing, message: `${n.path} is an instance of entity type "${n.entityType}", which is not loaded`, file: p.file, line: p.line, column: p.column, severity: 'warning' })
    }
    if (n.kind === 'runnable' && !isMap(v.containers)) {
      this.diagnostics.push({ code: codes.missingContainers, message: `runnable ${n.path} has no containers section`, file: n.pos.file, line: n.pos.line, column: n.pos.column, severity: 'warning' })
    }
    const refs: Array<[string, Value | undefined]> = []
    const depends = isMap(v.depends) ? v.depends : undefined
    const waitFor = depends && isMap(depends['wait-for']) ? depends['wait-for'] : undefined
    if (waitFor && Array.isArray(waitFor.runnables)) waitFor.runnables.forEach((x, i) => refs.push([`depends/wait-for/runnables/${i}`, x]))
    if (isMap(v.connections)) {
      for (const [name, c] of Object.entries(v.connections)) {
        if (!isMap(c)) continue
        const k = c.runnable !== undefined ? 'runnable' : 'target'
        refs.push([`connections/${escapeKey(name)}/${k}`, c[k]])
      }
    }
    for (const [kp, ref] of refs) {
      if (typeof ref !== 'string' || ref.trim().startsWith('<-')) continue
      if (this.find(ref, n.namespace, true, n.repo)) continue
      const p = r.locOf(kp) ?? n.pos
      this.diagnostics.push({ code: codes.referenceDangling, message: `${n.path} refers to "${ref}" (${kp}), which is not loaded`, file: p.file, line: p.line, column: p.column, severity: 'warning' })
    }
  }

  private collectScripts (n: TemplateNode, extra: NodeExtra | undefined, texts: Map<string, FileText>, check: ScriptChecker | undefined): void {
    if (!extra) return
    const ft = texts.get(n.pos.file)
    for (const s of extra.sites) {
      const lead = s.text.trimStart()
      const isValue = lead.startsWith('<-')
      // Entity types run JavaScript in their checks; their code fields are not Arrow.
      if (!isValue && n.kind === 'entity') continue
      const line = n.locs[s.keyPath]
      const ref: ScriptRef = { kind: isValue ? 'value' : 'code', source: s.text, node: n.path, field: s.keyPath, pos: { file: n.pos.file, line: line?.[0] ?? n.pos.line, column: line?.[1] ?? n.pos.column } }
      this.scripts.push(ref)
      if (!check) continue
      let problems: ReturnType<ScriptChecker>
      try {
        problems = check(s.text, ref.kind)
      } catch (err) {
        problems = [{ code: codes.arrowSyntax, message: `script checker failed: ${(err as Error).message}`, offset: 0, severity: 'error' }]
      }
      for (const p of problems) {
        const pos = ft ? locateInScalar(ft, s, p.offset) : ref.pos
        this.diagnostics.push({ code: p.code, message: p.message, file: n.pos.file, line: pos.line, column: pos.column, severity: p.severity })
      }
    }
  }
}

/** Value at a '/'-joined key path (keys unescaped). */
export function getPath (v: Value, path: string): Value | undefined {
  let cur: Value | undefined = v
  for (const raw of path.split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (Array.isArray(cur)) cur = cur[Number(key)]
    else if (isMap(cur)) cur = Object.prototype.hasOwnProperty.call(cur, key) ? cur[key] : undefined
    else return undefined
  }
  return cur
}

/**
 * Maps an offset inside a scalar's value to its line and column in the file: the n-th non-blank
 * character of the value is the n-th non-blank character of the token's content (folding and
 * indentation only change blanks).
 */
export function locateInScalar (ft: FileText, s: ScalarSite, offset: number): { line: number, column: number } {
  let n = 0
  for (let i = 0; i < offset && i < s.text.length; i++) if (!isBlank(s.text.charCodeAt(i))) n++
  let i = s.start
  if (s.style === 'block') { const nl = ft.text.indexOf('\n', i); i = nl < 0 ? s.end : nl + 1 }
  else if (s.style === 'quoted') i++
  let seen = 0
  for (; i < s.end; i++) {
    if (isBlank(ft.text.charCodeAt(i))) continue
    if (seen === n) break
    seen++
  }
  const lp = ft.lines.linePos(Math.min(i, Math.max(s.end - 1, s.start)))
  return { line: lp.line, column: lp.col }
}

function isBlank (c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13
}

type ScalarSite = NodeExtra['sites'][number]
