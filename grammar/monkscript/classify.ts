// Node classes from `defines` (spec §2.2) and sub-section recognition by name or by descriptor.
import { codes } from './errors.js'
import { isMap, mergeNode } from './merge.js'
import type { Diagnostic, MapValue, NodeKind, TemplateNode, Value } from './types.js'

/** Descriptors of top-level classes. */
const classes: Record<string, NodeKind> = {
  runnable: 'runnable',
  'process-group': 'process-group',
  group: 'group',
  service: 'service',
  entity: 'entity',
  module: 'module',
  'entity-instance': 'entity-instance',
}

/** Well-known sub-sections; a legacy `defines: <name>` inside one is ignored, elsewhere it renames the section. */
export const sections = new Set(['containers', 'variables', 'files', 'metadata', 'balancers', 'checks', 'actions',
  'services', 'connections', 'depends', 'volumes', 'affinity', 'recovery', 'scale', 'nodes', 'permitted-secrets'])

/**
 * Rewrites legacy sub-sections in place: drops `defines` inside known sections, moves a section
 * named otherwise but carrying a known descriptor (`fun-boxes: {defines: containers}`) under its
 * canonical name, and accepts the `readyness` misspelling of `checks.readiness`.
 */
export function normaliseSections (node: TemplateNode): Array<[string, string]> {
  const v = node.value
  const renames: Array<[string, string]> = []
  for (const key of Object.keys(v)) {
    const sec = v[key]
    if (!isMap(sec) || typeof sec.defines !== 'string') continue
    const d = sec.defines.trim()
    if (!sections.has(d)) continue
    const { defines: _legacy, ...rest } = sec
    if (d === key) { v[key] = rest; continue }
    delete v[key]
    v[d] = v[d] === undefined ? rest : mergeNode(v[d], rest)
    renames.push([key, d])
    for (const [p, pos] of Object.entries(node.locs)) {
      if (p === key || p.startsWith(key + '/')) node.locs[d + p.slice(key.length)] ??= pos
    }
  }
  const checks = v.checks
  if (isMap(checks) && checks.readyness !== undefined && checks.readiness === undefined) {
    checks.readiness = checks.readyness
    delete checks.readyness
    renames.push(['checks/readyness', 'checks/readiness'])
    for (const [p, pos] of Object.entries(node.locs)) {
      if (p.startsWith('checks/readyness')) node.locs['checks/readiness' + p.slice('checks/readyness'.length)] ??= pos
    }
  }
  return renames
}

/** A key path after the section renames of `normaliseSections`. */
export function renamePath (path: string, renames: Array<[string, string]>): string {
  for (const [from, to] of renames) {
    if (path === from || path.startsWith(from + '/')) return to + path.slice(from.length)
  }
  return path
}

/** The class of a node from its (resolved) `defines`; entity instances also get their type path. */
export function classify (node: TemplateNode, resolved: MapValue, diagnostics: Diagnostic[]): { kind: NodeKind, entityType?: string } {
  const d: Value | undefined = Object.prototype.hasOwnProperty.call(node.value, 'defines') ? node.value.defines : resolved.defines
  if (d === undefined || d === null) return { kind: 'abstract' }
  const loc = node.locs.defines ?? [node.pos.line, node.pos.column]
  if (typeof d !== 'string') {
    diagnostics.push({ code: codes.unknownDescriptor, message: `defines must be a descriptor such as "runnable", got ${JSON.stringify(d)}`, file: node.pos.file, line: loc[0], column: loc[1], severity: 'error' })
    return { kind: 'abstract' }
  }
  const desc = d.trim()
  const kind = classes[desc]
  if (kind === 'entity-instance') {
    const t = resolved.entity
    return typeof t === 'string' ? { kind, entityType: t.trim() } : { kind }
  }
  if (kind) return { kind }
  if (desc.includes('/')) {
    const type = desc.replace(/^\/+/, '').replace(/^templates\/[^/]+\//, '')
    return { kind: 'entity-instance', entityType: type }
  }
  if (sections.has(desc)) return { kind: 'abstract' }
  diagnostics.push({ code: codes.unknownDescriptor, message: `unknown descriptor "${desc}" (expected runnable, process-group, group, service, entity, module or an entity type path ns/type)`, file: node.pos.file, line: loc[0], column: loc[1], severity: 'warning' })
  return { kind: 'abstract' }
}
