// The templates handler: `monk load` compiles the files it is sent (actors/templates.ts) into
// `tpl/` records; list and info read them back from the local replica.
import type { Mesh } from '../../mesh/mesh.js'
import type { Scheduler } from '../kit/clock.js'
import type { Handlers } from '../messages/index.js'
import type { Diagnostic } from '../messages/templates.js'
import { normalisePath } from '../paths.js'
import { encodeTpl, keys } from '../state.js'
import { decodeSource, hubKeys } from '../hub/records.js'
import { composeTemplates, currentTpls, defKey, encodeDef, priorDefs } from '../templates.js'
import { hubDefsFor, localNamespaces, resolveTemplate } from '../hub/lookup.js'
import type { HubSyncer } from '../hub/syncer.js'
import { allTemplates, hubHandlers, kitProblem } from './hub.js'
import { WorkloadError } from './workloads.js'

const shape = (d: Diagnostic): Diagnostic => ({ code: d.code, message: d.message, file: d.file, line: d.line, column: d.column })

export function templateHandlers (mesh: Mesh, clock: Scheduler, syncer?: HubSyncer): Handlers<'templates'> {
  return {
    ...hubHandlers(mesh, clock, syncer),
    'templates.load': async m => {
      // hub templates this load may build on (a local kit inheriting a hub kit); they are never written as local ones
      const prior = priorDefs(mesh)
      const local = localNamespaces(mesh)
      for (const d of prior) local.add(d.namespace)
      const c = composeTemplates([...prior, ...hubDefsFor(mesh, Object.values(m.files), local)], currentTpls(mesh), m.files, m.paths, clock.now())
      // MANIFEST SECRET: secrets the kit needs before it runs (spec §2.11, §5.2)
      for (const x of c.secrets) {
        if (mesh.get(keys.secret('global', x.name)) !== undefined) continue
        c.warnings.push({ code: 'secret-missing', message: `the kit needs secret "${x.name}" before it runs; add it with monk secrets add -g ${x.name}=VALUE`, file: x.file, line: x.line, column: x.column, severity: 'warning' })
      }
      if (c.errors.length === 0) {
        for (const d of c.dropped) await mesh.delete(defKey(d.repo, d.path))
        for (const d of c.defs) await mesh.put(defKey(d.repo, d.path), encodeDef(d))
        for (const r of c.records) await mesh.put(keys.tpl(r.path), encodeTpl(r))
        // a path no file defines any more (its file was loaded again without it) is no template any more
        const defined = new Set([...c.defs, ...priorDefs(mesh)].map(d => d.path))
        for (const d of c.dropped) if (!defined.has(d.path)) await mesh.delete(keys.tpl(d.path))
      }
      return { files: c.files, loaded: c.errors.length ? [] : c.defs.map(d => d.path), changed: c.errors.length ? [] : c.changed, nodes: c.counts, errors: c.errors.map(shape), warnings: c.warnings.map(shape) }
    },
    'templates.list': m => Promise.resolve(allTemplates(mesh).filter(t => m.kind === undefined || t.kind === m.kind)),
    'templates.info': m => {
      const r = resolveTemplate(mesh, m.path)
      if (!r) return Promise.reject(new WorkloadError('not-found', `no template "${normalisePath(m.path)}" is loaded or in a hub source (monk list shows them; monk hub ls the sources)`))
      const h = r.hub
      if (!h) return Promise.resolve({ ...r.tpl, repo: r.tpl.repo ?? 'local' })
      const src = decodeSource(mesh.get(hubKeys.source(h.source)))
      const problem = kitProblem(mesh, h)
      return Promise.resolve({ ...r.tpl, repo: h.source, commit: h.commit, file: h.file, line: h.line, ...(src ? { url: src.url } : {}), version: h.meta.version, tags: h.meta.tags, description: h.meta.description, ...(problem !== undefined ? { problem } : {}) })
    },
  }
}
