// Parsing: the generated Peggy parser behind a function that only ever fails with ArrowError.

import type { Script } from './ast.js'
import { ArrowError } from './errors.js'
import { SyntaxError as PeggySyntaxError, parse as peggyParse } from './parser.generated.js'

export type ScriptKind = 'value' | 'code'

/**
 * Parse `source` into a located syntax tree. `kind` decides what a leading `<-{` is (see arrow.peggy).
 * Offsets in the tree index into `source` itself.
 */
export function parseScript (source: string, kind: ScriptKind): Script {
  try {
    return peggyParse(source, { kind })
  } catch (e) {
    if (e instanceof PeggySyntaxError) {
      const start = e.location.start.offset
      const end = Math.max(start + 1, e.location.end.offset)
      return fail(new ArrowError('syntax', `syntax error: ${describeFailure(e)}`, { cause: e }).at(source, { start, end }))
    }
    if (e instanceof RangeError) {
      return fail(new ArrowError('limit', 'syntax error: the script nests too deeply to parse', { cause: e }).at(source, { start: 0, end: 1 }))
    }
    throw e
  }
}

function fail (e: ArrowError): never { throw e }

/** Everything a term may start with: listed as one "value or operator" instead of ten expectations. */
const TERM_STARTS = ['"$"', '"<-{"', '"["', '"`"', '"{"', 'boolean', 'name', 'nil', 'number', 'string']

function describeFailure (e: PeggySyntaxError): string {
  // Custom errors from grammar actions (unterminated string...) carry their own message.
  if (!Array.isArray(e.expected) || e.expected.length === 0) return lowerFirst(e.message)
  const seen = new Set<string>()
  for (const x of e.expected) {
    switch (x.type) {
      case 'literal': seen.add(JSON.stringify(x.text)); break
      case 'other': seen.add(x.description); break
      case 'end': seen.add('end of input'); break
      case 'any': seen.add('any character'); break
      case 'class': seen.add('a character class'); break
    }
  }
  let list = [...seen]
  if (TERM_STARTS.every(t => seen.has(t))) list = ['a value or operator', ...list.filter(t => !TERM_STARTS.includes(t))]
  const expected = list.length === 1 ? list[0] : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`
  const found = e.found === null || e.found === undefined ? 'the end of the script' : JSON.stringify(e.found)
  return `expected ${expected} but found ${found}`
}

function lowerFirst (s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s
}
