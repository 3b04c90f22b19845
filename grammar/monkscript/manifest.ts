// MANIFEST files (spec §5.2): one `KEYWORD value...` directive per line, repeated keywords accumulate.
import { codes } from './errors.js'
import type { Diagnostic } from './types.js'

export interface Manifest {
  file: string
  repo: string | undefined
  /** YAML files to load, in order, relative to the MANIFEST's directory. */
  load: Array<{ path: string, line: number, column: number }>
  /** Subdirectories that hold their own MANIFEST (DIR and DIRS). */
  dirs: Array<{ path: string, line: number, column: number }>
  resources: string[]
  entry: string[]
  secrets: string[]
  /** Metadata and other known keywords, by keyword (upper case), in order. */
  meta: Record<string, string[]>
}

/** Keywords we know (spec §5.2); anything else is reported as a warning. */
const known = new Set(['REPO', 'LOAD', 'DIR', 'DIRS', 'RESOURCES', 'DESCRIPTION', 'TAGS', 'HOSTING', 'VERSION',
  'VERSION_HASH', 'AUTHOR', 'FILES', 'ENTRY', 'ENV', 'IMAGE', 'SECRET', 'BLOBS', 'BLOBSIGNORE'])

/** Parses a MANIFEST. A file that holds YAML instead of directives gets one error and no entries. */
export function parseManifest (text: string, file: string, diagnostics: Diagnostic[]): Manifest {
  const m: Manifest = { file, repo: undefined, load: [], dirs: [], resources: [], entry: [], secrets: [], meta: {} }
  const lines = text.split(/\r?\n/)
  // Directives before the first YAML-looking line are kept; the YAML itself is reported once, not read.
  const yamlAt = lines.findIndex(looksLikeYaml)
  if (yamlAt >= 0) {
    diagnostics.push({ code: codes.manifestYaml, message: 'this MANIFEST holds YAML from here on, not MANIFEST directives (REPO, LOAD, DIR, ...); move the YAML to a .yaml file and LOAD it', file, line: yamlAt + 1, column: 1, severity: 'error' })
  }
  lines.forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || (yamlAt >= 0 && i >= yamlAt)) return
    const indent = raw.length - raw.trimStart().length
    const tokens = [...raw.matchAll(/\S+/g)]
    const words = tokens.map(t => t[0])
    const kw = (words[0] ?? '').toUpperCase()
    const args = words.slice(1)
    const rest = line.slice((words[0] ?? '').length).trim()
    /** 1-based column of word k, for diagnostics about missing files. */
    const at = (k: number) => (tokens[k]?.index ?? indent) + 1
    switch (kw) {
      case 'REPO': m.repo = args[0]; break
      case 'LOAD': args.forEach((a, k) => m.load.push({ path: a, line: i + 1, column: at(k + 1) })); break
      case 'DIR': case 'DIRS': args.forEach((a, k) => m.dirs.push({ path: a, line: i + 1, column: at(k + 1) })); break
      case 'RESOURCES': m.resources.push(...args); break
      case 'ENTRY': m.entry.push(...args); break
      case 'SECRET': m.secrets.push(...args); break
      default:
        if (!known.has(kw)) {
          diagnostics.push({ code: codes.manifestUnknown, message: `unknown MANIFEST keyword "${words[0]}" (ignored)`, file, line: i + 1, column: indent + 1, severity: 'warning' })
          return
        }
        ;(m.meta[kw] ??= []).push(rest)
    }
  })
  return m
}

function looksLikeYaml (line: string): boolean {
  const t = line.trim()
  return t === '---' || /^[A-Za-z_][\w.-]*:(\s|$)/.test(t) || t.startsWith('- ')
}
