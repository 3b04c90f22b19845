// YAML 1.2 (core schema) reading with positions: file text → documents of plain values + locations.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, Scalar, type Document, type Node as YNode } from 'yaml'
import { codes } from './errors.js'
import type { Diagnostic, MapValue, Value } from './types.js'

/** A top-level key of a document with its value as written. */
export interface RawEntry {
  key: string
  /** 1-based position of the key. */
  line: number
  column: number
  value: Value
  /** [line, column] per key path below this entry ('' = the entry's value). */
  locs: Record<string, [number, number]>
  /** Scalars that hold scripts or code, found while walking (see ScalarSite). */
  scalars: ScalarSite[]
}

/** A string scalar the loader may need to locate precisely later (arrow values and code candidates). */
export interface ScalarSite {
  keyPath: string
  text: string
  /** Offsets of the scalar token in the file text. */
  start: number
  end: number
  style: 'plain' | 'quoted' | 'block'
}

export interface RawDocument {
  /** `namespace` value, without a leading '/', or undefined when the document has none. */
  namespace: string | undefined
  namespacePos: [number, number] | undefined
  entries: RawEntry[]
}

export interface ReadOptions {
  file: string
  /** Called for a scalar starting with `<<<`: returns the embedded text or undefined (then an error is reported). */
  embed?: (target: string) => string | undefined
  diagnostics: Diagnostic[]
}

/** Escapes one key for a key path ('/' → '~1', '~' → '~0'). */
export function escapeKey (key: string): string {
  return key.includes('/') || key.includes('~') ? key.replace(/~/g, '~0').replace(/\//g, '~1') : key
}

/** Parses a YAML file into documents. Syntax errors become diagnostics; a broken document is skipped. */
export function readYaml (text: string, opts: ReadOptions): { docs: RawDocument[], lines: LineCounter } {
  const lines = new LineCounter()
  const docs: RawDocument[] = []
  let parsed: Document.Parsed[]
  try {
    parsed = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false, schema: 'core', strict: false, prettyErrors: false }) as Document.Parsed[]
  } catch (err) {
    opts.diagnostics.push({ code: codes.yamlSyntax, message: `cannot parse YAML: ${(err as Error).message}`, file: opts.file, line: 1, column: 1, severity: 'error' })
    return { docs, lines }
  }
  if (!Array.isArray(parsed)) parsed = [parsed]
  for (const doc of parsed) {
    if (doc.errors.length) {
      for (const e of doc.errors) {
        const lp = e.linePos?.[0] ?? lines.linePos(e.pos[0])
        opts.diagnostics.push({ code: codes.yamlSyntax, message: firstLine(e.message), file: opts.file, line: lp.line, column: lp.col, severity: 'error' })
      }
      continue
    }
    for (const w of doc.warnings) {
      const lp = w.linePos?.[0] ?? lines.linePos(w.pos[0])
      opts.diagnostics.push({ code: codes.yamlSyntax, message: firstLine(w.message), file: opts.file, line: lp.line, column: lp.col, severity: 'warning' })
    }
    const root = doc.contents
    if (root === null || (isScalar(root) && root.value === null)) continue
    if (!isMap(root)) {
      const lp = lines.linePos(root.range?.[0] ?? 0)
      opts.diagnostics.push({ code: codes.notAMapping, message: 'a MonkScript document must be a mapping with a namespace key first', file: opts.file, line: lp.line, column: lp.col, severity: 'error' })
      continue
    }
    const walker = new Walker(doc, lines, opts)
    const out: RawDocument = { namespace: undefined, namespacePos: undefined, entries: [] }
    const entries = new Map<string, RawEntry>()
    root.items.forEach((pair, index) => {
      const keyNode = pair.key as YNode | null
      const key = walker.keyText(keyNode)
      const kpos = lines.linePos((keyNode as { range?: [number, number, number] } | null)?.range?.[0] ?? 0)
      if (key === 'namespace') {
        const v = walker.plain(pair.value as YNode | null)
        if (index !== 0) opts.diagnostics.push({ code: codes.namespaceNotFirst, message: '`namespace` should be the first key of the document', file: opts.file, line: kpos.line, column: kpos.col, severity: 'warning' })
        if (typeof v !== 'string' || !/^\/?[^\s/][^\s]*$/.test(v.trim())) {
          opts.diagnostics.push({ code: codes.badNamespace, message: `namespace must be a name such as "my-app", got ${JSON.stringify(v)}`, file: opts.file, line: kpos.line, column: kpos.col, severity: 'error' })
          return
        }
        out.namespace = v.trim().replace(/^\/+/, '').replace(/\/+$/, '')
        out.namespacePos = [kpos.line, kpos.col]
        return
      }
      if (entries.delete(key)) {
        opts.diagnostics.push({ code: codes.duplicateKey, message: `duplicate key "${key}" (the later one wins)`, file: opts.file, line: kpos.line, column: kpos.col, severity: 'warning' })
      }
      const locs: Record<string, [number, number]> = {}
      const scalars: ScalarSite[] = []
      walker.locs = locs
      walker.scalars = scalars
      const value = walker.value(pair.value as YNode | null, '')
      entries.set(key, { key, line: kpos.line, column: kpos.col, value, locs, scalars })
    })
    out.entries = [...entries.values()]
    docs.push(out)
  }
  return { docs, lines }
}

function firstLine (s: string): string {
  const i = s.indexOf('\n')
  return i < 0 ? s : s.slice(0, i)
}

class Walker {
  locs: Record<string, [number, number]> = {}
  scalars: ScalarSite[] = []
  private readonly anchorsSeen = new Set<YNode>()
  constructor (private readonly doc: Document.Parsed, private readonly lines: LineCounter, private readonly opts: ReadOptions) {}

  keyText (node: YNode | null): string {
    if (node === null) return ''
    if (isScalar(node)) return node.value === null ? '' : String(node.value)
    return JSON.stringify(this.plain(node))
  }

  /** A value without recording locations (used for keys and the namespace). */
  plain (node: YNode | null): Value {
    if (node === null) return null
    if (isScalar(node)) return scalarValue(node)
    const saved = this.locs
    const savedS = this.scalars
    this.locs = {}
    this.scalars = []
    const v = this.value(node, '')
    this.locs = saved
    this.scalars = savedS
    return v
  }

  value (node: YNode | null, path: string): Value {
    if (node === null) return null
    const start = node.range?.[0]
    if (start !== undefined) {
      const lp = this.lines.linePos(start)
      this.locs[path] = [lp.line, lp.col]
    }
    if (isScalar(node)) {
      const v = scalarValue(node)
      if (typeof v === 'string') return this.string(node, v, path)
      return v
    }
    if (isMap(node)) {
      const out: MapValue = {}
      for (const pair of node.items) {
        const keyNode = pair.key as YNode | null
        const key = this.keyText(keyNode)
        const sub = path === '' ? escapeKey(key) : `${path}/${escapeKey(key)}`
        if (Object.prototype.hasOwnProperty.call(out, key)) {
          const kp = this.lines.linePos((keyNode as { range?: [number, number, number] } | null)?.range?.[0] ?? 0)
          this.opts.diagnostics.push({ code: codes.duplicateKey, message: `duplicate key "${key}" (the later one wins)`, file: this.opts.file, line: kp.line, column: kp.col, severity: 'warning' })
        }
        // __proto__ and friends must stay plain data keys.
        Object.defineProperty(out, key, { value: this.value(pair.value as YNode | null, sub), enumerable: true, writable: true, configurable: true })
        if (pair.value === null && keyNode?.range) {
          const kp = this.lines.linePos(keyNode.range[0])
          this.locs[sub] = [kp.line, kp.col]
        }
      }
      return out
    }
    if (isSeq(node)) {
      const out: Value[] = []
      node.items.forEach((item, i) => { out.push(this.value(item as YNode | null, path === '' ? String(i) : `${path}/${i}`)) })
      return out
    }
    if (isAlias(node)) {
      const target = node.resolve(this.doc) as YNode | undefined
      if (!target || this.anchorsSeen.has(target)) return null
      this.anchorsSeen.add(target)
      try { return this.value(target, path) } finally { this.anchorsSeen.delete(target) }
    }
    return null
  }

  private string (node: Scalar, v: string, path: string): string {
    const t = node.type
    const style: ScalarSite['style'] = t === 'BLOCK_LITERAL' || t === 'BLOCK_FOLDED' ? 'block' : t === 'QUOTE_DOUBLE' || t === 'QUOTE_SINGLE' ? 'quoted' : 'plain'
    const lead = leadingNonBlank(v)
    if (lead === '<<<' && v.trimStart().startsWith('<<<') && this.opts.embed) {
      const target = v.trim().slice(3).trim()
      const text = this.opts.embed(target)
      if (text !== undefined) return text
      const lp = this.locs[path] ?? [1, 1]
      this.opts.diagnostics.push({ code: codes.embedMissing, message: `embedded file "${target}" (<<<) does not exist or cannot be read`, file: this.opts.file, line: lp[0], column: lp[1], severity: 'error' })
      return v
    }
    if (lead === '<-' || isCodePath(path)) {
      const r = node.range ?? [0, 0, 0]
      this.scalars.push({ keyPath: path, text: v, start: r[0], end: r[1], style })
    }
    return v
  }
}

function leadingNonBlank (v: string): string {
  let i = 0
  while (i < v.length && (v.charCodeAt(i) === 32 || v.charCodeAt(i) === 9 || v.charCodeAt(i) === 10 || v.charCodeAt(i) === 13)) i++
  if (v.startsWith('<<<', i)) return '<<<'
  if (v.startsWith('<-', i)) return '<-'
  return ''
}

/** Key paths (relative to a top-level node) that hold Arrow code without `<-` (spec §3.1). */
export function isCodePath (path: string): boolean {
  if (!path.endsWith('/code') && !path.endsWith('/value')) return false
  const parts = path.split('/')
  if (parts.length === 3 && parts[2] === 'code' && (parts[0] === 'actions' || parts[0] === 'checks')) return true
  if (parts.length === 2 && parts[0] === 'scale' && parts[1] === 'value') return true
  return false
}

function scalarValue (node: Scalar): Value {
  const v = node.value
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  return String(v)
}
