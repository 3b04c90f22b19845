// The hub's messages (served by the templates actor): `hub add/rm/ls/sync` edit the sources (cluster
// settings in the replica) and ask the source's fetcher for a sync; list/search/info read the hub
// templates next to the loaded ones, from the local replica.
import type { Mesh } from '../../mesh/mesh.js'
import type { Scheduler } from '../kit/clock.js'
import type { HubDef, HubRow, TemplateRow } from '../messages/templates.js'
import { findHubKit, hubDefsFor, hubKits, hubSources, localNamespaces } from '../hub/lookup.js'
import { decodeSource, decodeStatus, encodeSource, hubKeys, sourceNameProblem, type HubKit } from '../hub/records.js'
import { wantOf, type HubSyncer } from '../hub/syncer.js'
import { decodeTpl, type TplRecord } from '../state.js'
import { sameData } from '../values.js'
import { WorkloadError } from './workloads.js'

export function hubRow (mesh: Mesh, name: string, syncer: HubSyncer | undefined): HubRow | undefined {
  const s = decodeSource(mesh.get(hubKeys.source(name)))
  if (!s) return undefined
  const st = decodeStatus(mesh.get(hubKeys.status(name)))
  return {
    name, url: s.url, ref: s.ref, commit: st?.commit ?? null, kits: st?.kits ?? 0, templates: st?.templates ?? 0, syncedAt: st?.syncedAt ?? null,
    triedAt: st?.triedAt ?? null, error: st?.error ?? null, broken: st?.broken ?? [], by: st?.by ?? '', fetcher: syncer?.fetcherOf(name) ?? '', written: st?.written ?? 0, deleted: st?.deleted ?? 0,
    bytes: mesh.scan(hubKeys.kitPrefix(name)).reduce((n, e) => n + Buffer.byteLength(e.key) + Buffer.byteLength(JSON.stringify(e.value)), 0),
  }
}

/** Asks for a sync of each source; the returned function waits until each is answered (or `timeoutMs` passes). */
export async function requestSync (mesh: Mesh, clock: Scheduler, names: string[]): Promise<(timeoutMs: number) => Promise<void>> {
  const targets: Array<[string, number]> = []
  for (const n of names) {
    const st = decodeStatus(mesh.get(hubKeys.status(n)))
    const req = Math.max(wantOf(mesh.get(hubKeys.want(n))), st?.handled ?? 0) + 1
    await mesh.put(hubKeys.want(n), { req, at: clock.now() })
    targets.push([n, req])
  }
  const done = (): boolean => targets.every(([n, req]) => (decodeStatus(mesh.get(hubKeys.status(n)))?.handled ?? 0) >= req || mesh.get(hubKeys.source(n)) === undefined)
  return async timeoutMs => {
    if (done()) return
    await new Promise<void>(resolve => {
      const stop = mesh.onChange('hub/', () => { if (done()) finish() })
      const t = clock.setTimeout(finish, timeoutMs)
      function finish (): void { stop(); t.cancel(); resolve() }
    })
  }
}

/** The error of a hub template's kit at its source's last commit (the template is then its kit's previous version). */
export function kitProblem (mesh: Mesh, k: HubKit): string | undefined {
  const st = decodeStatus(mesh.get(hubKeys.status(k.source)))
  const b = st?.broken.find(x => x.kit === (k.kit || '.'))
  if (!st || !b) return undefined
  return `kit ${b.kit} of ${k.source} has errors at commit ${st.commit?.slice(0, 12) ?? '?'} (${b.error}); this is its version from commit ${k.commit.slice(0, 12)}`
}

const metaRow = (t: TplRecord, k: HubKit | undefined, changed?: boolean): TemplateRow => {
  const md = t.value.metadata
  const mdObj = md !== null && typeof md === 'object' && !Array.isArray(md) ? md as Record<string, unknown> : {}
  const tags = k?.meta.tags ?? (typeof mdObj.tags === 'string' ? mdObj.tags.split(',').map(x => x.trim()).filter(Boolean) : Array.isArray(mdObj.tags) ? mdObj.tags.filter((x): x is string => typeof x === 'string') : [])
  const scalar = (v: unknown): string | null => typeof v === 'string' || typeof v === 'number' ? String(v) : null
  return {
    path: t.path, kind: t.kind, file: t.file, repo: k?.source ?? t.repo ?? 'local',
    version: k?.meta.version ?? scalar(mdObj.version), tags, description: k?.meta.description ?? scalar(mdObj.description),
    ...(k ? { commit: k.commit } : t.commit !== undefined ? { commit: t.commit } : {}),
    ...(changed === true ? { changed } : {}),
  }
}

/** Every template a lookup can reach: loaded ones, then hub ones not shadowed (a running hub template marked when its hub version moved on). */
export function allTemplates (mesh: Mesh): TemplateRow[] {
  const rows: TemplateRow[] = []
  const local = localNamespaces(mesh)
  const ran = new Map<string, TplRecord>()
  for (const e of mesh.scan('tpl/')) {
    const t = decodeTpl(e.value)
    if (!t) continue
    if (t.repo === undefined) rows.push(metaRow(t, undefined))
    else ran.set(`${t.repo}\n${t.path}`, t)
  }
  const seen = new Set<string>()
  for (const k of hubKits(mesh)) {
    if (local.has(k.def.namespace)) continue
    const run = ran.get(`${k.source}\n${k.def.path}`)
    const key = `${k.source}\n${k.def.path}`
    seen.add(key)
    rows.push(metaRow(k.tpl, k, run !== undefined && run.commit !== k.commit && !sameData(run.value, k.tpl.value)))
  }
  // running hub templates whose source was removed
  for (const [key, t] of ran) if (!seen.has(key)) rows.push(metaRow(t, undefined))
  return rows
}

export function hubHandlers (mesh: Mesh, clock: Scheduler, syncer: HubSyncer | undefined) {
  return {
    'hub.add': async (m: { name: string, url: string, ref?: string | undefined }): Promise<HubRow> => {
      const problem = sourceNameProblem(m.name)
      if (problem !== undefined) throw new WorkloadError('bad-request', problem)
      const prev = decodeSource(mesh.get(hubKeys.source(m.name)))
      // the request first: the fetcher sees it with the source, so one fetch answers both
      const wait = await requestSync(mesh, clock, [m.name])
      await mesh.put(hubKeys.source(m.name), encodeSource({ name: m.name, url: m.url, ref: m.ref ?? null, addedAt: Math.max(clock.now(), (prev?.addedAt ?? 0) + 1) }))
      await wait(120_000)
      const row = hubRow(mesh, m.name, syncer)
      if (!row) throw new WorkloadError('not-found', `hub source "${m.name}" was removed meanwhile`)
      return row
    },
    'hub.rm': async (m: { name: string }): Promise<{ removed: string, templates: number }> => {
      if (mesh.get(hubKeys.source(m.name)) === undefined) throw new WorkloadError('not-found', `no hub source "${m.name}" (monk hub ls lists them)`)
      await mesh.delete(hubKeys.source(m.name))
      await mesh.delete(hubKeys.status(m.name))
      await mesh.delete(hubKeys.want(m.name))
      const kits = mesh.scan(hubKeys.kitPrefix(m.name))
      for (const e of kits) await mesh.delete(e.key)
      return { removed: m.name, templates: kits.length }
    },
    'hub.ls': (): Promise<HubRow[]> => Promise.resolve(hubSources(mesh).flatMap(s => hubRow(mesh, s.name, syncer) ?? [])),
    'hub.sync': async (m: { name?: string | undefined, timeout?: number | undefined }): Promise<HubRow[]> => {
      const names = m.name !== undefined ? [m.name] : hubSources(mesh).map(s => s.name)
      if (m.name !== undefined && mesh.get(hubKeys.source(m.name)) === undefined) throw new WorkloadError('not-found', `no hub source "${m.name}" (monk hub ls lists them)`)
      await (await requestSync(mesh, clock, names))((m.timeout ?? 120) * 1000)
      return names.flatMap(n => hubRow(mesh, n, syncer) ?? [])
    },
    'templates.hub-defs': (m: { texts: string[] }): Promise<HubDef[]> => Promise.resolve(hubDefsFor(mesh, m.texts, new Set()).map(d => ({ ...d, pos: { ...d.pos }, value: d.value as Record<string, unknown> }))),
    'templates.search': (m: { words: string[] }): Promise<TemplateRow[]> => {
      const words = m.words.map(w => w.toLowerCase())
      return Promise.resolve(allTemplates(mesh).filter(r => {
        const hay = [r.path, r.description ?? '', ...r.tags].join(' ').toLowerCase()
        return words.every(w => hay.includes(w))
      }))
    },
  }
}

export { findHubKit }
