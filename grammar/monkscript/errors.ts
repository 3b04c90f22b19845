// Error kinds of the MonkScript loader. Loading reports Diagnostics; TemplateError is for API misuse
// and for callers that want to fail on the first error of a load.
import type { Diagnostic, Pos } from './types.js'

/** Diagnostic codes the loader emits, one per kind of problem. */
export const codes = {
  yamlSyntax: 'yaml-syntax',
  duplicateKey: 'duplicate-key',
  missingNamespace: 'missing-namespace',
  namespaceNotFirst: 'namespace-not-first',
  badNamespace: 'bad-namespace',
  notAMapping: 'not-a-mapping',
  embedMissing: 'embed-missing',
  manifestYaml: 'manifest-yaml',
  manifestUnknown: 'manifest-unknown-keyword',
  manifestMissing: 'manifest-missing-file',
  manifestNotActedOn: 'manifest-not-acted-on',
  notActedOn: 'not-acted-on',
  inheritsCycle: 'inherits-cycle',
  inheritsDangling: 'inherits-dangling',
  inheritsBadValue: 'inherits-bad-value',
  unknownDescriptor: 'unknown-descriptor',
  entityTypeMissing: 'entity-type-missing',
  memberDangling: 'member-dangling',
  referenceDangling: 'reference-dangling',
  duplicateNode: 'duplicate-node',
  missingContainers: 'missing-containers',
  fileUnreadable: 'file-unreadable',
  arrowSyntax: 'arrow-syntax',
} as const

export class TemplateError extends Error {
  override readonly name = 'TemplateError'
  readonly code: string
  readonly pos: Pos | undefined
  constructor (code: string, message: string, pos?: Pos, options?: { cause?: unknown }) {
    super(pos ? `${pos.file}:${pos.line}:${pos.column}: ${message}` : message, options)
    this.code = code
    this.pos = pos
  }

  static fromDiagnostic (d: Diagnostic): TemplateError {
    return new TemplateError(d.code, d.message, { file: d.file, line: d.line, column: d.column })
  }
}
