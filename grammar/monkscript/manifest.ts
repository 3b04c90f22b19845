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
  /** Where each SECRET name was written (the daemon checks them at load). */
  secretsAt: Array<{ name: string, line: number, column: number }>
  /** Metadata and other known keywords, by keyword (upper case), in order. */
  meta: Record<string, string[]>
}

/** Keywords we know (spec §5.2); anything else is reported as a warning. */
const known = new Set(['REPO', 'LOAD', 'DIR', 'DIRS', 'RESOURCES', 'DESCRIPTION', 'TAGS', 'HOSTING', 'VERSION',
  'VERSION_HASH', 'AUTHOR', 'FILES', 'ENTRY', 'ENV', 'IMAGE', 'SECRET', 'BLOBS', 'BLOBSIGNORE'])

/** Parses a MANIFEST. A file that holds YAML instead of directives gets one error and no entries. */
export function parseManifest (text: string, file: string, diagnostics: Diagnostic[]): Manifest {
  const m: Manifest = { file, repo: undefined, load: [], dirs: [], resources: [], entry: [], secrets: [], secretsAt: [], meta: {} }
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
      case 'SECRET': args.forEach((a, k) => { m.secrets.push(a); m.secretsAt.push({ name: a, line: i + 1, column: at(k + 1) }) }); break
      default:
        if (!known.has(kw)) {
          diagnostics.push({ code: codes.manifestUnknown, message: `unknown MANIFEST keyword "${words[0]}" (ignored)`, file, line: i + 1, column: indent + 1, severity: 'warning' })
          return
        }
        ;(m.meta[kw] ??= []).push(rest)
        {
          const why = notActedOn(kw, args)
          if (why !== undefined) diagnostics.push({ code: codes.manifestNotActedOn, message: why, file, line: i + 1, column: indent + 1, severity: 'warning' })
        }
    }
  })
  return m
}

/** Why monk loads but does not act on a MANIFEST keyword (spec §5.2), or undefined when it does. */
function notActedOn (kw: string, args: string[]): string | undefined {
  switch (kw) {
    case 'IMAGE': {
      const [image = '?', targets = '?', context = '.', dockerfile = 'Dockerfile'] = args
      return `IMAGE ${image} is not built by monk: build it on every peer that runs ${targets} before running (docker build -t ${image} -f ${dockerfile} ${context})`
    }
    case 'ENV': return `ENV ${args.join(' ')} declares an environment; monk has no environments: an ENTRY ${args[0] ?? 'env'}:ns/name is taken as ns/name`
    case 'FILES': return 'FILES lists the package\'s files for publishing; monk loads only what LOAD and DIR name, so FILES is not acted on'
    case 'BLOBS': return `BLOBS ${args.join(' ')}: blobs are not supported by monk; the blobs://NAME paths that use them fail to mount`
    case 'BLOBSIGNORE': return 'BLOBSIGNORE: blobs are not supported by monk, so this is not acted on'
    default: return undefined
  }
}

function looksLikeYaml (line: string): boolean {
  const t = line.trim()
  return t === '---' || /^[A-Za-z_][\w.-]*:(\s|$)/.test(t) || t.startsWith('- ')
}
