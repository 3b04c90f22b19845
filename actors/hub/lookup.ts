// Template lookup across repositories (spec §2.3): what was loaded locally first, then the hub
// sources (by name order). A namespace loaded locally shadows the hub's namespace of that name;
// `repo/ns/name` (or `templates/repo/ns/name`) pins a hub source. Everything reads the local
// replica only, so a peer answers offline.
import { normalisePath } from '../paths.js'
import { decodeTpl, keys, type TplRecord } from '../state.js'
import type { TplDef } from '../templates.js'
import { decodeKit, decodeSource, hubKeys, type HubKit, type HubSource } from './records.js'

interface Replica {
  get: (key: string) => unknown
  scan: (prefix: string) => ReadonlyArray<{ key: string, value: unknown }>
}

export function hubSources (mesh: Replica): HubSource[] {
  return mesh.scan('hub/src/').flatMap(e => { const s = decodeSource(e.value); return s ? [s] : [] }).sort((a, b) => a.name.localeCompare(b.name))
}

/** Namespaces that `monk load` defined (materialised hub templates carry their repository and do not count). */
export function localNamespaces (mesh: Replica): Set<string> {
  const out = new Set<string>()
  for (const e of mesh.scan('tpl/')) {
    const t = decodeTpl(e.value)
    if (t && t.repo === undefined) out.add(t.path.split('/')[0] ?? '')
  }
  return out
}

/** Every hub template of one source (or all), decoded. */
export function hubKits (mesh: Replica, source?: string): HubKit[] {
  return mesh.scan(source === undefined ? 'hub/t/' : hubKeys.kitPrefix(source)).flatMap(e => { const k = decodeKit(e.value); return k ? [k] : [] })
}

/** A path pinned to a hub source: `src/ns/name` or `templates/src/ns/name`, when `src` is a source. */
function pinned (mesh: Replica, path: string): { source: string, path: string } | undefined {
  const parts = path.split('/')
  const at = parts[0] === 'templates' && parts.length >= 4 ? 1 : 0
  const src = parts[at] ?? ''
  if (parts.length - at < 3 || mesh.get(hubKeys.source(src)) === undefined) return undefined
  return { source: src, path: parts.slice(at + 1).join('/') }
}

/** The hub template `path` resolves to (not looking at local templates). */
export function findHubKit (mesh: Replica, path: string, shadowed?: ReadonlySet<string>): HubKit | undefined {
  const pin = pinned(mesh, path.trim().replace(/^\/+/, ''))
  const p = normalisePath(path)
  if (pin) return decodeKit(mesh.get(hubKeys.kit(pin.source, pin.path)))
  if ((shadowed ?? localNamespaces(mesh)).has(p.split('/')[0] ?? '')) return undefined
  for (const s of hubSources(mesh)) {
    const k = decodeKit(mesh.get(hubKeys.kit(s.name, p)))
    if (k) return k
  }
  return undefined
}

export interface Resolved { tpl: TplRecord, hub?: HubKit }

/** Local first (what was loaded, or a hub template a workload runs), then the hub. */
export function resolveTemplate (mesh: Replica, path: string): Resolved | undefined {
  const p = normalisePath(path)
  if (pinned(mesh, path.trim().replace(/^\/+/, '')) === undefined) {
    const local = decodeTpl(mesh.get(keys.tpl(p)))
    if (local && local.repo === undefined) return { tpl: local }
  }
  const hub = findHubKit(mesh, p)
  if (hub) return { tpl: hub.tpl, hub }
  const ran = decodeTpl(mesh.get(keys.tpl(p)))
  return ran ? { tpl: ran } : undefined
}

/**
 * The hub definitions a load may build on: those of the namespaces its files name, and (closure)
 * those these name in turn. A namespace the load or earlier loads define locally is not taken.
 */
export function hubDefsFor (mesh: Replica, texts: readonly string[], local: ReadonlySet<string>): TplDef[] {
  const byNs = new Map<string, HubKit[]>()
  for (const s of hubSources(mesh)) {
    for (const k of hubKits(mesh, s.name)) {
      const list = byNs.get(k.def.namespace) ?? []
      if (!list.some(x => x.def.path === k.def.path)) list.push(k)
      byNs.set(k.def.namespace, list)
    }
  }
  if (byNs.size === 0) return []
  const taken = new Set<string>()
  const out: TplDef[] = []
  const mentioned = (text: string): string[] => [...byNs.keys()].filter(ns => !taken.has(ns) && !local.has(ns) && text.includes(`${ns}/`))
  let queue = texts.flatMap(mentioned)
  while (queue.length) {
    const next: string[] = []
    for (const ns of queue) {
      if (taken.has(ns)) continue
      taken.add(ns)
      for (const k of byNs.get(ns) ?? []) {
        out.push(k.def)
        next.push(...mentioned(JSON.stringify(k.def.value)))
      }
    }
    queue = next
  }
  return out
}
