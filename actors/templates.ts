// Templates sent by `monk load`: compiled with the loader (diagnostics as `monk lint` gives them)
// into `tpl/<ns>/<name>` records, inheritance applied, so every peer runs from the same tree.
import { checkScript } from '../grammar/arrow/index.js'
import { loadPaths, memorySource, type Diagnostic } from '../grammar/monkscript/index.js'
import type { TplRecord } from './state.js'

export interface CompiledTemplates {
  records: TplRecord[]
  files: number
  errors: Diagnostic[]
  warnings: Diagnostic[]
  counts: Record<string, number>
}

/** Compiles the given files (absolute path → text); `paths` are what the user named. */
export function compileTemplates (files: Record<string, string>, paths: string[], now: number): CompiledTemplates {
  const result = loadPaths(paths, { source: memorySource(files), checkScript })
  const records: TplRecord[] = []
  for (const node of result.nodes.values()) {
    const r = result.resolve(node.path)
    if (!r) continue
    records.push({ path: node.path, kind: node.kind, value: r.value, members: result.membersOf(node.path), groups: result.groupsOf(node.path), file: node.pos.file, loadedAt: now })
  }
  return { records, files: result.files.length, errors: result.errors, warnings: result.warnings, counts: result.counts() }
}
