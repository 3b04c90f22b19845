// Arrow syntax tree: what the Peggy grammar builds. Every node carries the span it was parsed from.

/** Half-open span `[start, end)` of UTF-16 offsets into the source string given to the parser. */
export interface Span { start: number; end: number }

/** A whole script: an optional leading `<-` and a body of terms. */
export interface Script {
  type: 'script'
  /** True when the source started with `<-` (after blanks). */
  prefix: boolean
  body: Body
  loc: Span
}

/** A sequence of terms run left to right on one stack. */
export type Body = Term[]

export type Term =
  | NilLit | BoolLit | IntLit | BigIntLit | FloatLit | StringLit | TemplateLit
  | VarRef | ArrayLit | ObjectLit | FuncLit | OpCall

export interface NilLit { type: 'nil'; loc: Span }
export interface BoolLit { type: 'bool'; value: boolean; loc: Span }
/** An integer literal in any base; kept exact (the compiler decides number vs BigInt at run time). */
export interface IntLit { type: 'int'; value: bigint; loc: Span }
/** `123n` */
export interface BigIntLit { type: 'bigint'; value: bigint; loc: Span }
export interface FloatLit { type: 'float'; value: number; loc: Span }
/** A `"..."` or `'...'` string, escapes already decoded. */
export interface StringLit { type: 'string'; value: string; loc: Span }
/** A backtick string: literal text and `${...}` parts. Adjacent text is merged into one string. */
export interface TemplateLit { type: 'template'; parts: TemplatePart[]; loc: Span }
export type TemplatePart = string | VarRef | Interp
/** `${ body }` inside a backtick string, when it is more than a variable name. */
export interface Interp { type: 'interp'; body: Body; loc: Span }
/** `$name`, `$name["key"]`, and `${name}` / `${name["key"]}` inside backticks. */
export interface VarRef { type: 'var'; name: string; key: StringLit | IntLit | null; loc: Span }
export interface ArrayLit { type: 'array'; items: Body[]; loc: Span }
export interface ObjectLit { type: 'object'; entries: ObjectEntry[]; loc: Span }
export interface ObjectEntry { key: ObjectKey; value: Body }
/** An object key: a string, a bare name (taken as its text) or a variable (its value, as a string). */
export type ObjectKey = StringLit | NameKey | VarRef
export interface NameKey { type: 'name'; name: string; loc: Span }
/** `<-{ body }`: a code block pushed as a value. */
export interface FuncLit { type: 'func'; body: Body; loc: Span }
/**
 * An operator: `name` (postfix form, `args` null) or `name(a, b)` (call form; each argument is a body).
 * `nameEnd` is where the name stops, so errors can point at the name alone.
 */
export interface OpCall { type: 'op'; name: string; args: Body[] | null; loc: Span; nameEnd: number }
