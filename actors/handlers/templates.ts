// The templates handler: `monk load` compiles the files it is sent (actors/templates.ts) into
// `tpl/` records; list and info read them back from the local replica.
import type { Mesh } from '../../mesh/mesh.js'
import type { Scheduler } from '../kit/clock.js'
import type { Handlers } from '../messages/index.js'
import type { Diagnostic } from '../messages/templates.js'
import { normalisePath } from '../paths.js'
import { decodeTpl, encodeTpl, keys } from '../state.js'
import { composeTemplates, currentTpls, defKey, encodeDef, priorDefs } from '../templates.js'
import { WorkloadError } from './workloads.js'

const shape = (d: Diagnostic): Diagnostic => ({ code: d.code, message: d.message, file: d.file, line: d.line, column: d.column })

export function templateHandlers (mesh: Mesh, clock: Scheduler): Handlers<'templates'> {
  return {
    'templates.load': async m => {
      const c = composeTemplates(priorDefs(mesh), currentTpls(mesh), m.files, m.paths, clock.now())
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
    'templates.list': m => Promise.resolve(mesh.scan('tpl/').flatMap(e => {
      const t = decodeTpl(e.value)
      return t !== undefined && (m.kind === undefined || t.kind === m.kind) ? [{ path: t.path, kind: t.kind, file: t.file }] : []
    })),
    'templates.info': m => {
      const t = decodeTpl(mesh.get(keys.tpl(normalisePath(m.path))))
      if (!t) return Promise.reject(new WorkloadError('not-found', `no template "${m.path}" is loaded`))
      return Promise.resolve({ ...t })
    },
  }
}
