// What monk loads but does not act on: every field of a node that the daemon will not use, as a
// warning at the place it is written (file:line:col), so nothing in a kit is dropped silently.
// `monk lint` reports them. The tables say what monk acts on; keep them in step with the runtime
// (actors/runtime/spec.ts for container fields, runnable-spec.ts for the rest).
import { codes } from './errors.js'
import { isMap } from './merge.js'
import type { LoadResult } from './result.js'
import type { Diagnostic, MapValue, TemplateNode, Value } from './types.js'
import { escapeKey } from './yaml.js'

/** Sections of a runnable monk acts on, and why the others are not. */
const runnableKeys = new Set(['defines', 'inherits', 'containers', 'variables', 'services', 'connections', 'depends', 'checks', 'actions', 'files', 'affinity', 'permitted-secrets', 'metadata', 'version', 'description', 'volumes', 'scale'])
const groupKeys = new Set(['defines', 'inherits', 'members', 'runnable-list', 'variables', 'actions', 'metadata', 'version', 'description', 'permitted-secrets', 'depends'])
const serviceNodeKeys = new Set(['defines', 'inherits', 'variables', 'services', 'actions', 'connections', 'depends', 'metadata', 'version', 'description', 'permitted-secrets'])
const sectionWhy: Record<string, string> = {
  nodes: 'nodes are not provisioned by a run; grow the cluster with monk cluster grow',
  recovery: 'recovery is not acted on: a failed instance restarts with backoff and moves when its peer is lost',
  balancers: 'balancers are not created by monk',
}
/** Container fields the runtimes act on (actors/runtime/spec.ts, start.ts). */
const containerKeys = new Set(['image', 'image-tag', 'entrypoint', 'bash', 'cmd', 'command', 'workdir', 'environment', 'ports', 'paths', 'labels', 'restart', 'cap-add', 'ulimits', 'user', 'hooks', 'resources', 'files', 'mounted-volumes'])
const containerWhy: Record<string, string> = {}
/** Requests placement reserves and the runtimes need nothing more for; others (devices) are reserved but not passed in. */
const placedRequests = new Set(['cpu', 'memory'])
const serviceKeys = new Set(['container', 'port', 'host-port', 'address', 'description', 'publish', 'protocol'])
const serviceWhy: Record<string, string> = {
  protocol: 'only tcp, udp and custom are acted on; this protocol is not',
  'ingress-routes': 'ingress routes are not created by monk',
}
const volumeKeys = new Set(['kind', 'path'])
const volumeWhy: Record<string, string> = {
  size: 'the size is not enforced: a local volume is a directory on the peer',
  backup: 'backups (cloud snapshots) are not taken of a local volume',
  name: 'a cloud resource name has no meaning for a local volume',
}
const scaleWhy = 'not acted on: replicas are set by scale.value (a whole number) or monk scale PATH N'
const variableKeys = new Set(['type', 'value', 'env', 'description', 'required'])
const fileKeys = new Set(['container', 'path', 'contents', 'mode', 'chmod', 'raw', 'description'])
const readinessKeys = new Set(['code', 'period', 'initialDelay', 'attempts'])
const checkWhy: Record<string, string> = {}
const dependsKeys = new Set(['wait-for'])
const waitForKeys = new Set(['runnables', 'timeout'])
const connectionKeys = new Set(['runnable', 'target', 'service', 'description', 'optional'])
const affinityKeys = new Set(['tag', 'name', 'resident', 'ignore-pressure'])
const actionKeys = new Set(['code', 'description', 'arguments'])

/** Sections of an entity type the entity actor acts on (actors/entity/type.ts). */
const entityTypeKeys = new Set(['defines', 'inherits', 'metadata', 'schema', 'lifecycle', 'checks', 'requires', 'connections', 'services', 'depends', 'permitted-secrets', 'description', 'version'])
const entityTypeWhy: Record<string, string> = {
  'state-schema': 'the state schema is not checked: the state is what the lifecycle returns',
}
/** A module node: only its source is used (by require). */
const moduleKeys = new Set(['defines', 'inherits', 'metadata', 'source', 'description', 'version'])

/** One warning per field monk will not act on, for the winning definition of every node. */
export function notActedOn (result: LoadResult): Diagnostic[] {
  const out: Diagnostic[] = []
  // abstract nodes that runnables inherit from are read as runnables (their fields end up in one)
  const bases = new Map<string, string>()
  for (const n of result.nodes.values()) {
    if (n.kind !== 'runnable' && n.kind !== 'group' && n.kind !== 'process-group' && n.kind !== 'service') continue
    for (const p of result.resolve(n.path)?.chain ?? []) if (!bases.has(p)) bases.set(p, n.kind)
  }
  for (const n of result.nodes.values()) {
    const at = (keyPath: string): { file: string, line: number, column: number } => {
      const l = n.locs[keyPath]
      return { file: n.pos.file, line: l?.[0] ?? n.pos.line, column: l?.[1] ?? n.pos.column }
    }
    const warn = (keyPath: string, message: string): void => { out.push({ code: codes.notActedOn, message, ...at(keyPath), severity: 'warning', node: n.path }) }
    const kind = n.kind === 'abstract' ? bases.get(n.path) : n.kind
    if (kind === undefined) continue
    const v = n.value
    // an entity instance's fields are its definition: all of them reach the lifecycle
    if (kind === 'entity-instance') continue
    if (kind === 'entity') { topLevel(n, v, entityTypeKeys, warn, entityTypeWhy); continue }
    if (kind === 'module') { topLevel(n, v, moduleKeys, warn); continue }
    if (kind === 'group' || kind === 'process-group') { topLevel(n, v, groupKeys, warn); sectionsOf(n, v, warn); continue }
    topLevel(n, v, kind === 'service' ? serviceNodeKeys : runnableKeys, warn)
    sectionsOf(n, v, warn)
  }
  return out
}

type Warn = (keyPath: string, message: string) => void

function topLevel (n: TemplateNode, v: MapValue, known: ReadonlySet<string>, warn: Warn, why: Record<string, string> = sectionWhy): void {
  for (const k of Object.keys(v)) {
    if (known.has(k)) continue
    warn(escapeKey(k), `${n.path}: ${k}: ${why[k] ?? `not a field monk knows for a ${n.kind === 'abstract' ? 'runnable' : n.kind}; ignored`}`)
  }
}

/** Checks the keys of every entry of a map section (`containers/*`, `services/*`, ...). */
function entries (n: TemplateNode, v: Value | undefined, section: string, known: ReadonlySet<string>, why: Record<string, string>, what: string, warn: Warn): void {
  if (!isMap(v)) return
  for (const [name, e] of Object.entries(v)) {
    if (!isMap(e)) continue
    const base = `${section}/${escapeKey(name)}`
    keys(n, e, base, known, why, `${what} ${name}`, warn)
  }
}

function keys (n: TemplateNode, m: MapValue, base: string, known: ReadonlySet<string>, why: Record<string, string>, what: string, warn: Warn): void {
  for (const k of Object.keys(m)) {
    if (known.has(k) || k === 'inherits' || k === 'defines') continue
    if (k === 'protocol' && typeof m[k] === 'string' && ['tcp', 'udp', 'custom'].includes(m[k].toLowerCase())) continue
    warn(`${base}/${escapeKey(k)}`, `${n.path}: ${what}: ${k}: ${why[k] ?? 'not a field monk knows here; ignored'}`)
  }
}

function sectionsOf (n: TemplateNode, v: MapValue, warn: Warn): void {
  entries(n, v.containers, 'containers', containerKeys, containerWhy, 'container', warn)
  entries(n, v.services, 'services', serviceKeys, serviceWhy, 'service', warn)
  entries(n, v.volumes, 'volumes', volumeKeys, volumeWhy, 'volume', warn)
  if (isMap(v.containers)) {
    for (const [name, c] of Object.entries(v.containers)) {
      const req = isMap(c) && isMap(c.resources) && isMap(c.resources.requests) ? Object.keys(c.resources.requests).filter(r => !placedRequests.has(r)) : []
      if (req.length) warn(`containers/${escapeKey(name)}/resources`, `${n.path}: container ${name}: resources: ${req.join(', ')} ${req.length > 1 ? 'are' : 'is'} reserved by placement against the capacity peers publish, but the device is not passed to the container`)
    }
  }
  if (isMap(v.scale)) {
    for (const k of Object.keys(v.scale)) {
      if (k === 'defines') continue
      const literal = typeof v.scale[k] === 'number' || (typeof v.scale[k] === 'string' && /^\s*\d+(\.0+)?\s*$/.test(v.scale[k]))
      if (k !== 'value' || !literal) warn(`scale/${escapeKey(k)}`, `${n.path}: scale.${k}: ${k === 'value' ? 'a metric-driven count is not evaluated; ' : ''}${scaleWhy}`)
    }
  }
  if (isMap(v.variables)) for (const [name, x] of Object.entries(v.variables)) if (isMap(x)) keys(n, x, `variables/${escapeKey(name)}`, variableKeys, {}, `variable ${name}`, warn)
  entries(n, v.files, 'files', fileKeys, {}, 'file', warn)
  entries(n, v.connections, 'connections', connectionKeys, {}, 'connection', warn)
  entries(n, v.actions, 'actions', actionKeys, {}, 'action', warn)
  if (isMap(v.checks)) {
    keys(n, v.checks, 'checks', new Set(['readiness', 'readyness', 'liveness']), checkWhy, 'checks', warn)
    if (isMap(v.checks.readiness)) keys(n, v.checks.readiness, 'checks/readiness', readinessKeys, {}, 'readiness', warn)
    if (isMap(v.checks.liveness)) {
      keys(n, v.checks.liveness, 'checks/liveness', readinessKeys, {}, 'liveness', warn)
      if (typeof v.checks.liveness.code !== 'string') warn('checks/liveness', `${n.path}: checks.liveness has no code: nothing is checked`)
    }
  }
  if (isMap(v.depends)) {
    keys(n, v.depends, 'depends', dependsKeys, {}, 'depends', warn)
    if (isMap(v.depends['wait-for'])) keys(n, v.depends['wait-for'], 'depends/wait-for', waitForKeys, {}, 'depends.wait-for', warn)
  }
  if (isMap(v.affinity)) keys(n, v.affinity, 'affinity', affinityKeys, {}, 'affinity', warn)
}
