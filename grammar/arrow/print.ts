// Canonical printer: syntax tree → Arrow source. Parsing the printed text gives the same tree (except
// locations), which the property tests check.

import type { Body, ObjectKey, Script, StringLit, IntLit, Term, TemplatePart } from './ast.js'

export function printScript (s: Script): string {
  const body = printBody(s.body)
  return s.prefix ? (body === '' ? '<-' : `<- ${body}`) : body
}

export function printBody (body: Body): string {
  return body.map(printTerm).join(' ')
}

export function printTerm (t: Term): string {
  switch (t.type) {
    case 'nil': return 'nil'
    case 'bool': return t.value ? 'true' : 'false'
    case 'int': return t.value.toString()
    case 'bigint': return `${t.value.toString()}n`
    case 'float': return printFloat(t.value)
    case 'string': return quote(t.value)
    case 'template': return '`' + t.parts.map(printPart).join('') + '`'
    case 'var': return `$${t.name}${printKey(t.key)}`
    case 'array': return '[' + t.items.map(printBody).join(', ') + ']'
    case 'object': return '{' + t.entries.map(e => `${printObjectKey(e.key)}: ${printBody(e.value)}`).join(', ') + '}'
    case 'func': return t.body.length === 0 ? '<-{}' : `<-{ ${printBody(t.body)} }`
    case 'op': return t.args === null ? t.name : `${t.name}(${t.args.map(printBody).join(', ')})`
  }
}

function printFloat (v: number): string {
  if (!Number.isFinite(v)) return v > 0 ? '1e999' : '-1e999'
  if (Object.is(v, -0)) return '-0.0'
  const s = String(v)
  return /[.eE]/.test(s) ? s : `${s}.0`
}

function printKey (k: StringLit | IntLit | null): string {
  if (k === null) return ''
  return `[${k.type === 'string' ? quote(k.value) : k.value.toString()}]`
}

function printObjectKey (k: ObjectKey): string {
  switch (k.type) {
    case 'string': return quote(k.value)
    case 'name': return k.name
    case 'var': return `$${k.name}${printKey(k.key)}`
  }
}

function printPart (p: TemplatePart): string {
  if (typeof p === 'string') return p.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')
  if (p.type === 'var') return `\${${p.name}${printKey(p.key)}}`
  return `\${${printBody(p.body)}}`
}

/** A double-quoted string literal with the escapes the grammar reads back. */
export function quote (s: string): string {
  let out = '"'
  for (const ch of s) {
    switch (ch) {
      case '"': out += '\\"'; break
      case '\\': out += '\\\\'; break
      case '\n': out += '\\n'; break
      case '\t': out += '\\t'; break
      case '\r': out += '\\r'; break
      default: {
        const c = ch.codePointAt(0) as number
        out += c < 0x20 || c === 0x7f ? `\\x${c.toString(16).padStart(2, '0')}` : ch
      }
    }
  }
  return out + '"'
}
