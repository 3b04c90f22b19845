// Compiling one fetched hub source with the MonkScript loader into hub template records: every
// template with its definition (to compose local loads on top), its resolved record (to run and
// dump), its kit's metadata, and a content hash. Against the previous records it tells what to
// write (new or changed hash), what to delete (gone from the repository) and what to keep: a kit
// with any error at this commit (a file that does not compile, a record beyond the mesh's entry
// limit, or a parent in such a kit) keeps all its templates at their previous version, and the
// error goes to the source's status.
import { createHash } from 'node:crypto'
import { checkScript } from '../../grammar/arrow/index.js'
import { isMap, loadPaths, type MapValue } from '../../grammar/monkscript/index.js'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import type { FileSource } from '../../grammar/monkscript/index.js'
import type { TplDef } from '../templates.js'
import type { TplRecord } from '../state.js'
import { defaults as meshDefaults } from '../../mesh/defaults.js'
import { entrySize } from '../../mesh/codec.js'
import { signatureBytes } from '../../mesh/signing.js'
import { encodeKit, hubKeys, type HubKit, type KitMeta } from './records.js'

export interface CompiledSource {
  /** Records to write: new or changed (by content hash). */
  write: HubKit[]
  /** Template paths to delete: no longer in the repository. */
  remove: string[]
  /** Kits with errors at this commit: all their templates keep their previous version (or are not served). */
  broken: Array<{ kit: string, error: string }>
  kits: number
  templates: number
}

export class NoKitsError extends Error { override readonly name = 'NoKitsError' }

const diskSource: FileSource = {
  readFile (p) { try { return readFileSync(p, 'utf8') } catch { return undefined } },
  listDir (p) { try { return readdirSync(p).sort() } catch { return undefined } },
  kind (p) { try { const st = statSync(p); return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : undefined } catch { return undefined } },
}

const kib = (n: number): number => Math.ceil(n / 1024)

/** Bytes the record takes as a replica entry (key, HLC, value and the writer's signature). */
function recordSize (key: string, rec: HubKit): number {
  return entrySize({ key, hlc: { wall: Date.now(), counter: 0xffff, peer: 'x'.repeat(64) }, value: encodeKit(rec) }) + signatureBytes + 2
}

const hashOf = (x: unknown): string => createHash('sha256').update(JSON.stringify(x)).digest('hex').slice(0, 32)

function metaOf (value: MapValue, manifest: Record<string, string[]> | undefined): KitMeta {
  const md = isMap(value.metadata) ? value.metadata : {}
  const split = (s: string): string[] => s.split(',').map(t => t.trim()).filter(Boolean)
  const tags = new Set<string>()
  for (const t of manifest?.TAGS ?? []) for (const x of split(t)) tags.add(x)
  if (typeof md.tags === 'string') for (const x of split(md.tags)) tags.add(x)
  else if (Array.isArray(md.tags)) for (const x of md.tags) if (typeof x === 'string') tags.add(x)
  const scalar = (v: unknown): string | null => typeof v === 'string' || typeof v === 'number' ? String(v) : null
  return {
    version: scalar(md.version) ?? manifest?.VERSION?.[0] ?? null,
    tags: [...tags],
    description: scalar(md.description) ?? manifest?.DESCRIPTION?.join(' ') ?? null,
  }
}

/**
 * Compiles the checkout `dir` of source `source` at `commit`. `previous` holds the source's current
 * records by template path. Throws NoKitsError when the repository holds no template at all.
 */
export function compileSource (source: string, dir: string, commit: string, previous: ReadonlyMap<string, Pick<HubKit, 'hash' | 'kit'>>, now: number, maxRecordBytes: number = meshDefaults.maxEntryBytes): CompiledSource {
  const result = loadPaths([dir], { source: diskSource, repo: source, checkScript })
  const rel = (f: string): string => f.startsWith(dir + '/') ? f.slice(dir.length + 1) : f
  const manifestDirs = result.manifests.map(m => ({ dir: rel(m.file).replace(/\/?MANIFEST$/, ''), meta: m.meta }))
    .sort((a, b) => b.dir.length - a.dir.length)
  const kitOf = (file: string): { dir: string, meta: Record<string, string[]> | undefined } => {
    const r = rel(file)
    const m = manifestDirs.find(x => x.dir === '' || r.startsWith(x.dir + '/'))
    if (m) return { dir: m.dir, meta: m.meta }
    const i = r.lastIndexOf('/')
    return { dir: i < 0 ? '' : r.slice(0, i), meta: undefined }
  }
  if (result.nodes.size === 0) {
    const first = result.errors[0]
    throw new NoKitsError(`the repository holds no kit (no MANIFEST or YAML file with a namespace)${first ? `; first error: ${rel(first.file)}:${first.line}:${first.column}: ${first.message}` : ''}`)
  }
  // A kit with any error keeps all its templates at their previous version (or serves none).
  const brokenKits = new Map<string, string>()
  for (const d of result.errors) {
    const k = kitOf(d.file).dir
    if (!brokenKits.has(k)) brokenKits.set(k, `${rel(d.file)}:${d.line}:${d.column}: ${d.message}`)
  }
  // Every template compiled, with its encoded size: one beyond the mesh's entry limit breaks its kit.
  const candidates: Array<{ rec: HubKit, chain: string[] }> = []
  const kitOfPath = new Map<string, string>()
  for (const node of result.nodes.values()) {
    if (node.repo !== source) continue
    const kit = kitOf(node.pos.file)
    kitOfPath.set(node.path, kit.dir)
    const r = result.resolve(node.path)
    if (!r) {
      if (!brokenKits.has(kit.dir)) brokenKits.set(kit.dir, `${rel(node.pos.file)}:${node.pos.line}:${node.pos.column}: ${node.path} does not resolve`)
      continue
    }
    const file = `${source}:${rel(node.pos.file)}`
    const def: TplDef = { path: node.path, namespace: node.namespace, name: node.name, repo: source, pos: { file, line: node.pos.line, column: node.pos.column }, value: node.value, locs: node.locs }
    const tpl: TplRecord = { path: node.path, kind: node.kind, value: r.value, members: result.membersOf(node.path), groups: result.groupsOf(node.path), chain: r.chain, file, loadedAt: now }
    const meta = metaOf(r.value, kit.meta)
    const hash = hashOf({ def, tpl: { ...tpl, loadedAt: 0 }, meta, kit: kit.dir })
    const rec: HubKit = { source, kit: kit.dir, commit, hash, file: rel(node.pos.file), line: node.pos.line, def, tpl, meta }
    const size = recordSize(hubKeys.kit(source, node.path), rec)
    if (size > maxRecordBytes && !brokenKits.has(kit.dir)) {
      brokenKits.set(kit.dir, `${rel(node.pos.file)}:${node.pos.line}:${node.pos.column}: the compiled record of ${node.path} is ${kib(size)} KiB, more than the mesh's entry limit of ${kib(maxRecordBytes)} KiB`)
    }
    candidates.push({ rec, chain: r.chain })
  }
  // A kit that inherits from a broken kit keeps its previous version too (until nothing changes).
  for (let more = true; more;) {
    more = false
    for (const { rec, chain } of candidates) {
      if (brokenKits.has(rec.kit)) continue
      const via = chain.find(p => { const k = kitOfPath.get(p); return k !== undefined && k !== rec.kit && brokenKits.has(k) })
      if (via === undefined) continue
      brokenKits.set(rec.kit, `${rec.file}:${rec.line}: ${rec.def.path} inherits ${via} from kit ${kitOfPath.get(via) || '.'}, which has errors`)
      more = true
    }
  }
  const write: HubKit[] = []
  const seen = new Set<string>()
  let served = 0
  const kits = new Set<string>()
  for (const { rec } of candidates) {
    seen.add(rec.def.path)
    if (brokenKits.has(rec.kit)) continue
    kits.add(rec.kit)
    served++
    if (previous.get(rec.def.path)?.hash !== rec.hash) write.push(rec)
  }
  // Gone from the repository: deleted, unless its kit is broken at this commit (then it stays).
  const remove: string[] = []
  for (const [path, k] of previous) {
    if (!seen.has(path) && !brokenKits.has(k.kit) && !brokenKits.has(kitOfPath.get(path) ?? k.kit)) remove.push(path)
  }
  return { write, remove, broken: [...brokenKits].map(([kit, error]) => ({ kit: kit || '.', error })), kits: kits.size, templates: served }
}
