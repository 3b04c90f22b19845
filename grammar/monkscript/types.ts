// Public data shapes of the MonkScript loader: diagnostics, template nodes and the load result.

/** Severity of a diagnostic: errors make `monk lint` exit 1; warnings do not. */
export type Severity = 'error' | 'warning'

/** A problem found while loading, always with the file and 1-based line/column it concerns. */
export interface Diagnostic {
  code: string
  message: string
  file: string
  line: number
  column: number
  severity: Severity
  /** The node (`ns/name`) the problem belongs to, when it is about one node's inheritance or members. */
  node?: string
}

/** A plain, serializable YAML value after loading (arrow values stay strings starting with `<-`). */
export type Value = string | number | boolean | null | Value[] | { [key: string]: Value }
export type MapValue = { [key: string]: Value }

/** The class of a top-level node, from its `defines` (spec §2.2). */
export type NodeKind =
  | 'runnable' | 'process-group' | 'group' | 'service' | 'entity' | 'entity-instance' | 'module' | 'abstract'

/** 1-based source position. */
export interface Pos { file: string; line: number; column: number }

/** One top-level node of the template tree, as written (before inheritance). */
export interface TemplateNode {
  /** `ns/name` */
  path: string
  namespace: string
  name: string
  /** Repository id: `local` for files loaded from disk unless a MANIFEST REPO names it. */
  repo: string
  kind: NodeKind
  /** For entity instances: the entity type path (`ns/type`). */
  entityType?: string
  /** Position of the node's key. */
  pos: Pos
  /** The mapping as written, `<<<` embeds already resolved, legacy section descriptors normalised. */
  value: MapValue
  /**
   * [line, column] of every value inside `value` (in `pos.file`), keyed by its key path: keys joined
   * with '/', a '/' or '~' inside a key escaped as '~1' / '~0' (JSON-pointer style); '' = the node.
   */
  locs: Record<string, [number, number]>
}

/** A node with inheritance applied (every `inherits` at any depth resolved and merged). */
export interface ResolvedNode {
  path: string
  kind: NodeKind
  entityType?: string
  value: MapValue
  /** Paths of the nodes this one inherits from, nearest first (top-level `inherits` only). */
  chain: string[]
  /** Where each key path of `value` was written (child positions win over inherited ones). */
  locOf(keyPath: string): Pos | undefined
}

/** Where an Arrow script occurs: an arrow value (`<- ...`) or a code field (actions/checks/scale). */
export interface ScriptRef {
  kind: 'value' | 'code'
  /** The whole YAML scalar value (for kind 'value' it starts with `<-` after leading blanks). */
  source: string
  /** Node path and the key path inside it ('containers/app/environment/0'). */
  node: string
  field: string
  pos: Pos
}
