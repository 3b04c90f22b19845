// ArrowError: the one error kind of the Arrow language, for parse, check and evaluation failures.

import type { Span } from './ast.js'

/**
 * What failed. Tests assert these codes, never the prose.
 * - `syntax`: the script does not parse.
 * - `unknown-operator`: a word that is no operator (and not a bare word inside call parentheses).
 * - `stack-underflow`: an operator needed more inputs than the stack (or the current frame) holds.
 * - `type`: an operator got a value of the wrong type.
 * - `bad-number`: a string or value could not be converted to a number, or a number is out of range.
 * - `division-by-zero`
 * - `bad-json`: `parse-json` input is not JSON, or `to-json` met a value JSON cannot hold.
 * - `bad-argument`: an argument has the right type but an unusable value (empty path, bad count...).
 * - `missing-capability`: the operator reaches the outside world and the host does not provide it.
 * - `host-error`: the host capability failed.
 * - `code-not-string`: a code field starting with `<-` did not produce a string.
 * - `async-in-sync`: a synchronous evaluation reached an operator that needs to wait.
 * - `limit`: a safety limit (function call depth, number of calls, size) was exceeded.
 * - `variable-cycle`: a variable's value depends on itself.
 * - `variable-type`: a variable's value cannot be coerced to its declared type.
 * - `template`: a Go-template (`files.*.contents`) is malformed.
 * - `wait-for-timeout`: `wait-for` ran out of attempts.
 * - `internal`: a defect of the interpreter itself (never expected; tests fail on it).
 */
export const arrowErrorCodes = [
  'syntax', 'unknown-operator', 'stack-underflow', 'type', 'bad-number', 'division-by-zero',
  'bad-json', 'bad-argument', 'missing-capability', 'host-error', 'code-not-string',
  'async-in-sync', 'limit', 'variable-cycle', 'variable-type', 'template', 'wait-for-timeout',
  'internal',
] as const
export type ArrowErrorCode = typeof arrowErrorCodes[number]

/** Where in a script an error is: 0-based offsets, 1-based line and column. */
export interface ArrowLocation {
  offset: number
  end: number
  line: number
  column: number
}

export interface ArrowErrorOptions {
  cause?: unknown
  /** The operator that failed, when one did. */
  operator?: string
}

/** A failure of an Arrow script, with the script line and a caret under the failing part when known. */
export class ArrowError extends Error {
  override readonly name = 'ArrowError'
  readonly code: ArrowErrorCode
  /** The operator that failed, if any. */
  operator: string | null
  /** Position inside `source`; null until the evaluator attaches it (or when there is none). */
  location: ArrowLocation | null = null
  /** The script the location refers to. */
  source: string | null = null

  constructor (code: ArrowErrorCode, message: string, options: ArrowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.operator = options.operator ?? null
  }

  /** Attach a location once (the innermost attach wins). Returns `this` for `throw err.at(...)`. */
  at (source: string, span: Span): this {
    if (this.location !== null) return this
    this.source = source
    this.location = locate(source, span)
    return this
  }

  /** The source line holding the error, or null without a location. */
  get scriptLine (): string | null {
    if (this.location === null || this.source === null) return null
    return lineAt(this.source, this.location.offset)
  }

  /** Blanks and carets under the failing part of `scriptLine`. */
  get caret (): string | null {
    const loc = this.location
    const line = this.scriptLine
    if (loc === null || line === null) return null
    const width = Math.max(1, Math.min(loc.end - loc.offset, line.length - (loc.column - 1)))
    return ' '.repeat(loc.column - 1) + '^'.repeat(width)
  }

  /** Message, then `line:column`, the script line and the caret (what a CLI prints). */
  format (): string {
    if (this.location === null) return this.message
    return `${this.message} (at ${this.location.line}:${this.location.column})\n  ${this.scriptLine}\n  ${this.caret}`
  }
}

/** Turn a span into line/column (1-based; columns count UTF-16 units, tabs count as one). */
export function locate (source: string, span: Span): ArrowLocation {
  const offset = Math.max(0, Math.min(span.start, source.length))
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset; i++) {
    if (source.charCodeAt(i) === 10) { line++; lineStart = i + 1 }
  }
  return { offset, end: Math.max(offset, Math.min(span.end, source.length)), line, column: offset - lineStart + 1 }
}

function lineAt (source: string, offset: number): string {
  const start = offset === 0 ? 0 : source.lastIndexOf('\n', offset - 1) + 1
  const nl = source.indexOf('\n', offset)
  return source.slice(start, nl === -1 ? source.length : nl).replace(/\r$/, '')
}
