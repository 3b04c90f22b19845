// The Go-template subset of `files.*.contents` (spec §3.6): `{{ v "x" }}`, `{{ var "x" }}`,
// `{{ if v "x" }}…{{ else if v "y" }}…{{ else }}…{{ end }}`, `not (v "x")`, comments `{{/* … */}}` and
// the `{{-` / `-}}` blank trimming. Everything outside `{{ }}` is literal text (nginx `$host`, shell `$X`).
// Values print with Arrow's to-s (nil prints as nothing); `if` uses Go's truthiness (false, 0, nil, "",
// empty array or object are false).

import { ArrowError } from './errors.js'
import { type ArrowValue, isObject, toS } from './values.js'

/** The value of a variable for `v`/`var` (already evaluated); undefined = not defined. */
export type TemplateLookup = (name: string) => ArrowValue | undefined

type Cond = { name: string; negate: boolean }
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'out'; name: string }
  | { kind: 'if'; branches: Array<{ cond: Cond; body: Node[] }>; otherwise: Node[] }

type Action =
  | { kind: 'out'; name: string }
  | { kind: 'if'; cond: Cond }
  | { kind: 'else-if'; cond: Cond }
  | { kind: 'else' }
  | { kind: 'end' }
  | { kind: 'comment' }

interface Token { action: Action | null; text: string; offset: number }

const cache = new Map<string, Node[] | ArrowError>()
const CACHE_SIZE = 1000 // templates are few (one per file entry); the bound only guards generated text

/** Render `text`. Throws ArrowError `template` (with the offset of the bad action) when it is malformed. */
export function renderTemplate (text: string, lookup: TemplateLookup): string {
  let nodes = cache.get(text)
  if (nodes === undefined) {
    try { nodes = parseTemplate(text) } catch (e) { if (e instanceof ArrowError) nodes = e; else throw e }
    if (cache.size >= CACHE_SIZE) cache.clear()
    cache.set(text, nodes)
  }
  if (nodes instanceof ArrowError) throw nodes
  return renderNodes(nodes, lookup)
}

/** Problems of a template without rendering it (for load-time checks): empty when it is well formed. */
export function checkTemplate (text: string): Array<{ code: 'template'; message: string; offset: number }> {
  try {
    parseTemplate(text)
    return []
  } catch (e) {
    if (!(e instanceof ArrowError)) throw e
    return [{ code: 'template', message: e.message, offset: e.location?.offset ?? 0 }]
  }
}

/** The variable names a template reads (`v "x"`, `var "x"`, in output and conditions); [] when it is malformed. */
export function templateReads (text: string): string[] {
  let nodes: Node[]
  try { nodes = parseTemplate(text) } catch (e) { if (e instanceof ArrowError) return []; throw e }
  const out: string[] = []
  const walk = (list: Node[]): void => {
    for (const n of list) {
      if (n.kind === 'out') out.push(n.name)
      else if (n.kind === 'if') {
        for (const b of n.branches) { out.push(b.cond.name); walk(b.body) }
        walk(n.otherwise)
      }
    }
  }
  walk(nodes)
  return out
}

function renderNodes (nodes: Node[], lookup: TemplateLookup): string {
  let out = ''
  for (const n of nodes) {
    switch (n.kind) {
      case 'text': out += n.text; break
      case 'out': out += toS(lookup(n.name) ?? null); break
      case 'if': {
        const branch = n.branches.find(b => goTruthy(lookup(b.cond.name) ?? null) !== b.cond.negate)
        out += renderNodes(branch === undefined ? n.otherwise : branch.body, lookup)
        break
      }
    }
  }
  return out
}

function goTruthy (v: ArrowValue): boolean {
  if (v === null || v === false || v === 0 || v === 0n || v === '') return false
  if (Array.isArray(v)) return v.length > 0
  if (isObject(v)) return Object.keys(v).length > 0
  return true
}

function fail (text: string, offset: number, message: string): never {
  throw new ArrowError('template', `template: ${message}`).at(text, { start: offset, end: offset + 2 })
}

function tokenize (text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  let trimNext = false
  while (i < text.length) {
    const open = text.indexOf('{{', i)
    let literal = text.slice(i, open === -1 ? text.length : open)
    if (trimNext) literal = literal.replace(/^\s+/, '')
    trimNext = false
    if (open === -1) { tokens.push({ action: null, text: literal, offset: i }); break }
    const close = findClose(text, open + 2)
    if (close === -1) fail(text, open, 'unclosed action: "{{" without "}}"')
    let inner = text.slice(open + 2, close)
    if (/^-[ \t\r\n]/.test(inner)) { literal = literal.replace(/\s+$/, ''); inner = inner.slice(1) }
    if (/[ \t\r\n]-$/.test(inner)) { trimNext = true; inner = inner.slice(0, -1) }
    tokens.push({ action: null, text: literal, offset: i })
    tokens.push({ action: parseAction(text, open, inner.trim()), text: '', offset: open })
    i = close + 2
  }
  return tokens
}

/** Index of the `}}` closing an action, skipping quoted strings; -1 if none. */
function findClose (text: string, from: number): number {
  let q: string | null = null
  for (let i = from; i < text.length; i++) {
    const c = text[i]
    if (q !== null) {
      if (c === '\\' && q === '"') i++
      else if (c === q) q = null
    } else if (c === '"' || c === '`') q = c
    else if (c === '}' && text[i + 1] === '}') return i
  }
  return -1
}

const WORDS = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\(|\)|[^\s()"`]+)/gy

function words (text: string, offset: number, inner: string): string[] {
  const out: string[] = []
  WORDS.lastIndex = 0
  let m: RegExpExecArray | null
  while (WORDS.lastIndex < inner.length && (m = WORDS.exec(inner)) !== null) out.push(m[1] as string)
  if (WORDS.lastIndex < inner.trimEnd().length) fail(text, offset, `cannot read action {{ ${inner} }}`)
  return out
}

function stringArg (text: string, offset: number, w: string | undefined, action: string): string {
  if (w === undefined) fail(text, offset, `${action} needs a quoted variable name`)
  if (w.startsWith('`')) return w.slice(1, -1)
  if (w.startsWith('"')) {
    try { return JSON.parse(w) as string } catch { fail(text, offset, `bad string ${w}`) }
  }
  return fail(text, offset, `${action} needs a quoted variable name, got ${w}`)
}

function lookupCall (text: string, offset: number, ws: string[], inner: string): string {
  const [fn, arg, ...rest] = ws
  if (fn !== 'v' && fn !== 'var') fail(text, offset, `unsupported action {{ ${inner} }} (only v, var, if, else, end)`)
  const name = stringArg(text, offset, arg, fn)
  if (rest.length > 0) fail(text, offset, `unexpected ${rest.join(' ')} in {{ ${inner} }}`)
  return name
}

function condition (text: string, offset: number, ws: string[], inner: string): Cond {
  if (ws[0] === 'not') {
    if (ws[1] !== '(' || ws[ws.length - 1] !== ')') fail(text, offset, `write not as {{ if not (v "x") }}, got {{ ${inner} }}`)
    return { name: lookupCall(text, offset, ws.slice(2, -1), inner), negate: true }
  }
  if (ws[0] === '(' && ws[ws.length - 1] === ')') return { name: lookupCall(text, offset, ws.slice(1, -1), inner), negate: false }
  return { name: lookupCall(text, offset, ws, inner), negate: false }
}

function parseAction (text: string, offset: number, inner: string): Action {
  if (inner.startsWith('/*')) {
    if (!inner.endsWith('*/')) fail(text, offset, 'unclosed comment')
    return { kind: 'comment' }
  }
  const ws = words(text, offset, inner)
  switch (ws[0]) {
    case undefined: return fail(text, offset, 'empty action {{ }}')
    case 'if': return { kind: 'if', cond: condition(text, offset, ws.slice(1), inner) }
    case 'else':
      if (ws.length === 1) return { kind: 'else' }
      if (ws[1] === 'if') return { kind: 'else-if', cond: condition(text, offset, ws.slice(2), inner) }
      return fail(text, offset, `unexpected {{ ${inner} }}`)
    case 'end':
      if (ws.length > 1) fail(text, offset, `unexpected {{ ${inner} }}`)
      return { kind: 'end' }
    default: return { kind: 'out', name: lookupCall(text, offset, ws, inner) }
  }
}

function parseTemplate (text: string): Node[] {
  const tokens = tokenize(text)
  let pos = 0
  // Parse nodes until an else/else-if/end (returned to the caller) or the end of input.
  const block = (inIf: boolean): { nodes: Node[]; stop: Token | null } => {
    const nodes: Node[] = []
    while (pos < tokens.length) {
      const t = tokens[pos++] as Token
      const a = t.action
      if (a === null) { if (t.text !== '') nodes.push({ kind: 'text', text: t.text }); continue }
      switch (a.kind) {
        case 'comment': break
        case 'out': nodes.push({ kind: 'out', name: a.name }); break
        case 'if': {
          const branches: Array<{ cond: Cond; body: Node[] }> = []
          let cond = a.cond
          let otherwise: Node[] = []
          for (;;) {
            const r = block(true)
            if (r.stop === null) fail(text, t.offset, '{{ if }} without {{ end }}')
            const sa = r.stop.action as Action
            if (sa.kind === 'else-if') { branches.push({ cond, body: r.nodes }); cond = sa.cond; continue }
            branches.push({ cond, body: r.nodes })
            if (sa.kind === 'else') {
              const e = block(true)
              if (e.stop === null || (e.stop.action as Action).kind !== 'end') fail(text, (e.stop ?? t).offset, '{{ else }} must be followed by {{ end }}')
              otherwise = e.nodes
            }
            break
          }
          nodes.push({ kind: 'if', branches, otherwise })
          break
        }
        default:
          if (!inIf) fail(text, t.offset, `{{ ${a.kind === 'else-if' ? 'else if' : a.kind} }} without {{ if }}`)
          return { nodes, stop: t }
      }
    }
    return { nodes, stop: null }
  }
  return block(false).nodes
}
