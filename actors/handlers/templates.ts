// The templates handler: `monk load` compiles the files it is sent (actors/templates.ts) into
// `tpl/` records; list and info read them back from the local replica.
import type { Mesh } from '../../mesh/mesh.js'
import type { Scheduler } from '../kit/clock.js'
import type { Handlers } from '../messages/index.js'
import type { Diagnostic } from '../messages/templates.js'
import { normalisePath } from '../paths.js'
import { decodeTpl, encodeTpl, keys } from '../state.js'
import { compileTemplates } from '../templates.js'
import { WorkloadError } from './workloads.js'

const shape = (d: Diagnostic): Diagnostic => ({ code: d.code, message: d.message, file: d.file, line: d.line, column: d.column })

export function templateHandlers (mesh: Mesh, clock: Scheduler): Handlers<'templates'> {
  return {
    'templates.load': async m => {
      const c = compileTemplates(m.files, m.paths, clock.now())
      if (c.errors.length === 0) for (const r of c.records) await mesh.put(keys.tpl(r.path), encodeTpl(r))
      return { files: c.files, loaded: c.errors.length ? [] : c.records.map(r => r.path), nodes: c.counts, errors: c.errors.map(shape), warnings: c.warnings.map(shape) }
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
