// The web UI's files (DESIGN §12, `monk gui`): the sources in ui/ and the UI library (preact, its
// hooks, htm) taken from node_modules as the packages ship them built. `npm run build` writes all
// of them to dist/ui/ (scripts/build.mjs), so an installed monkd serves them with no CDN and no
// network; run from source, they are read from ui/ and node_modules. The browser loads them as ES
// modules by relative path: the one bare import in the library (`from "preact"` in the hooks) is
// rewritten to the file beside it, so the page needs no import map (and no inline script).
import { existsSync, readFileSync } from 'node:fs'
import { dirname, extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** vendor/<file> → the package file it is made from. */
const VENDOR: Readonly<Record<string, { pkg: string, file: string }>> = {
  'preact.mjs': { pkg: 'preact', file: 'dist/preact.mjs' },
  'hooks.mjs': { pkg: 'preact', file: 'hooks/dist/hooks.mjs' },
  'htm.mjs': { pkg: 'htm', file: 'dist/htm.mjs' },
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
}

export interface Asset { readonly type: string, readonly body: Buffer }

const here = dirname(fileURLToPath(import.meta.url))

/** The directory of the UI sources: dist/ui beside a built monkd, else the repository's ui/. */
export function uiDir (): string {
  // cli/api → ui (source); dist/cli/api → dist/ui (built)
  return join(here, '..', '..', 'ui')
}

function packageDir (pkg: string): string {
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', pkg)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dirname(dir) === dir) throw new Error(`the web UI needs the npm package ${pkg} (run npm ci)`)
  }
}

/** The vendored library files, as the browser gets them. */
export function vendorFiles (): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, { pkg, file }] of Object.entries(VENDOR)) {
    const text = readFileSync(join(packageDir(pkg), file), 'utf8')
    out[name] = text.replace(/from\s*"preact"/g, 'from"./preact.mjs"').replace(/\/\/# sourceMappingURL=.*$/m, '')
  }
  return out
}

const cache = new Map<string, Asset>()

/** The file at `rel` under /ui/ ('' = index.html), or undefined when there is none (or the path leaves ui/). */
export function uiAsset (rel: string): Asset | undefined {
  const name = rel === '' ? 'index.html' : rel
  const hit = cache.get(name)
  if (hit) return hit
  const type = TYPES[extname(name)]
  if (type === undefined || name.includes('\0')) return undefined
  const dir = uiDir()
  const full = normalize(join(dir, name))
  if (!full.startsWith(dir + sep)) return undefined
  let body: Buffer | undefined
  if (existsSync(full)) body = readFileSync(full)
  else if (name.startsWith('vendor/') && Object.hasOwn(VENDOR, name.slice('vendor/'.length))) body = Buffer.from(vendorFiles()[name.slice('vendor/'.length)]!)
  if (body === undefined) return undefined
  const asset = { type, body }
  cache.set(name, asset)
  return asset
}
