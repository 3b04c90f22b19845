// The MonkScript loader: files, directories and MANIFESTs → template nodes + diagnostics.
import type { LineCounter } from 'yaml'
import { codes } from './errors.js'
import { parseManifest, type Manifest } from './manifest.js'
import { LoadResult, type ScriptChecker } from './result.js'
import { dirname, joinPath, type FileSource } from './source.js'
import type { Diagnostic, TemplateNode } from './types.js'
import { readYaml, type ScalarSite } from './yaml.js'

export interface LoadOptions {
  source: FileSource
  /** Repository id of what is loaded: `local` for files from disk (the default), `monk` for hub kits. */
  repo?: string
  /** Checks one Arrow script (the Arrow package's `checkScript`); without it scripts are not parsed. */
  checkScript?: ScriptChecker
  /**
   * Also load every YAML file with a namespace under a directory that a MANIFEST does not list
   * (after the MANIFEST's own files, in MANIFEST order). `monk lint` uses it to check everything.
   */
  everything?: boolean
  /**
   * Definitions kept from earlier loads (the daemon's composed tree), placed before this load's
   * nodes so that a path this load defines again wins. They get no script checks (already checked).
   */
  prior?: readonly TemplateNode[]
}

/** A YAML file's text kept until the load finishes, to place script diagnostics precisely. */
export interface FileText { text: string, lines: LineCounter }

/** Per-node data that only the loader needs. */
export interface NodeExtra { sites: ScalarSite[], order: number }

const yamlFile = /\.ya?ml$/i
const skipDirs = new Set(['node_modules', '.git'])

/** Loads files, directories (their MANIFEST where present, else every YAML file with a namespace) and MANIFESTs. */
export function loadPaths (paths: string[], opts: LoadOptions): LoadResult {
  const loader = new Loader(opts)
  for (const p of paths) loader.loadPath(p)
  return loader.finish()
}

class Loader {
  readonly diagnostics: Diagnostic[] = []
  readonly nodes: TemplateNode[] = []
  readonly extras = new Map<TemplateNode, NodeExtra>()
  readonly manifests: Manifest[] = []
  readonly files: string[] = []
  readonly texts = new Map<string, FileText>()
  private readonly visited = new Set<string>()
  /** Files that MANIFESTs list under RESOURCES: embedded data, never loaded as templates. */
  private readonly resources = new Set<string>()
  private readonly repo: string

  constructor (private readonly opts: LoadOptions) {
    this.repo = opts.repo ?? 'local'
    if (opts.prior) this.nodes.push(...opts.prior)
  }

  loadPath (path: string): void {
    const p = joinPath('/', path)
    const kind = this.opts.source.kind(p)
    if (kind === 'dir') this.loadDir(p)
    else if (kind === 'file') {
      if (p.endsWith('/MANIFEST')) this.loadManifest(p)
      else this.loadYaml(p, true)
    } else {
      this.diagnostics.push({ code: codes.fileUnreadable, message: `no such file or directory: ${path}`, file: p, line: 1, column: 1, severity: 'error' })
    }
  }

  private loadDir (dir: string): void {
    const manifest = `${dir}/MANIFEST`
    if (this.opts.source.kind(manifest) === 'file') {
      this.loadManifest(manifest)
      if (!this.opts.everything) return
    }
    const names = this.opts.source.listDir(dir) ?? []
    const subdirs: string[] = []
    for (const name of names) {
      const p = dir === '/' ? `/${name}` : `${dir}/${name}`
      const k = this.opts.source.kind(p)
      if (k === 'file' && yamlFile.test(name)) this.loadYaml(p, false)
      else if (k === 'dir' && !skipDirs.has(name)) subdirs.push(p)
    }
    for (const d of subdirs) this.loadDir(d)
  }

  private loadManifest (file: string): void {
    if (this.visited.has(file)) return
    this.visited.add(file)
    const text = this.opts.source.readFile(file)
    if (text === undefined) {
      this.diagnostics.push({ code: codes.fileUnreadable, message: 'cannot read MANIFEST', file, line: 1, column: 1, severity: 'error' })
      return
    }
    const m = parseManifest(text, file, this.diagnostics)
    this.manifests.push(m)
    const dir = dirname(file)
    for (const r of m.resources) this.resources.add(joinPath(dir, r))
    for (const l of m.load) {
      const p = joinPath(dir, l.path)
      if (this.opts.source.kind(p) !== 'file') {
        this.diagnostics.push({ code: codes.manifestMissing, message: `LOAD names "${l.path}", which does not exist`, file, line: l.line, column: l.column, severity: 'error' })
        continue
      }
      this.loadYaml(p, true)
    }
    for (const d of m.dirs) {
      const p = joinPath(dir, d.path)
      if (this.opts.source.kind(p) !== 'dir') {
        this.diagnostics.push({ code: codes.manifestMissing, message: `DIR names "${d.path}", which is not a directory`, file, line: d.line, column: d.column, severity: 'error' })
        continue
      }
      this.loadDir(p)
    }
  }

  /** `explicit`: named by the user or a MANIFEST (a file without namespace is then an error, not skipped). */
  private loadYaml (file: string, explicit: boolean): void {
    if (this.visited.has(file)) return
    const text = this.opts.source.readFile(file)
    if (text === undefined) {
      this.diagnostics.push({ code: codes.fileUnreadable, message: 'cannot read file', file, line: 1, column: 1, severity: 'error' })
      return
    }
    if (!explicit && !/^["']?namespace["']?\s*:/m.test(text)) return
    if (!explicit && this.resources.has(file)) return
    this.visited.add(file)
    this.files.push(file)
    const dir = dirname(file)
    const { docs, lines } = readYaml(text, {
      file,
      diagnostics: this.diagnostics,
      embed: target => this.opts.source.readFile(joinPath(dir, target)),
    })
    this.texts.set(file, { text, lines })
    let ns: string | undefined
    for (const doc of docs) {
      ns = doc.namespace ?? ns
      if (ns === undefined) {
        const first = doc.entries[0]
        if (first) this.diagnostics.push({ code: codes.missingNamespace, message: 'the document has no `namespace` key (it must come first)', file, line: first.line, column: first.column, severity: 'error' })
        continue
      }
      for (const e of doc.entries) {
        if (e.value === null || typeof e.value !== 'object' || Array.isArray(e.value)) {
          this.diagnostics.push({ code: codes.notAMapping, message: `top-level key "${e.key}" must be a mapping (a template node)`, file, line: e.line, column: e.column, severity: 'warning' })
          continue
        }
        const node: TemplateNode = {
          path: `${ns}/${e.key}`, namespace: ns, name: e.key, repo: this.repo, kind: 'abstract',
          pos: { file, line: e.line, column: e.column }, value: e.value, locs: e.locs,
        }
        this.nodes.push(node)
        this.extras.set(node, { sites: e.scalars, order: this.nodes.length })
      }
    }
  }

  finish (): LoadResult {
    return new LoadResult({
      nodes: this.nodes, extras: this.extras, diagnostics: this.diagnostics, manifests: this.manifests,
      files: this.files, texts: this.texts, checkScript: this.opts.checkScript,
    })
  }
}
