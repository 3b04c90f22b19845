// Runtime decoding of messages: valibot checks an unknown value against a message schema and the
// first issue becomes a MessageError naming the field (`tags[1]`, `set.PORT`), so the control API
// answers 400 with that field and the `/monk/actor/1` protocol a typed `bad-request`.
import * as v from 'valibot'

export class MessageError extends Error {
  override readonly name = 'MessageError'
  readonly code = 'invalid-body'
  constructor (readonly field: string, message: string) { super(message) }
}

export class UnknownMessageError extends Error {
  override readonly name = 'UnknownMessageError'
  readonly code = 'unknown-type'
  readonly field = 'type'
  constructor (where: string, type: string, known: readonly string[]) {
    super(`${where} does not accept messages of type '${type}' (accepted: ${[...known].sort().join(', ')})`)
  }
}

/** `tags[1]`, `set.PORT`, '' for the value itself. */
export function fieldOf (issue: v.BaseIssue<unknown>): string {
  let out = ''
  for (const p of issue.path ?? []) {
    const k = p.key
    if (typeof k === 'number') out += `[${k}]`
    else out += out === '' ? String(k) : `.${String(k)}`
  }
  return out
}

function shown (value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : `"${value}"`
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`
  return typeof value === 'object' ? 'an object' : typeof value
}

/** One readable sentence for a valibot issue. */
export function issueText (issue: v.BaseIssue<unknown>, allowed?: readonly string[]): string {
  const field = fieldOf(issue)
  const where = field === '' ? 'the request body' : `field '${field}'`
  if (issue.kind === 'schema' && issue.expected === 'never' && issue.type === 'strict_object') {
    return `${where} is not allowed here${allowed ? ` (allowed: ${allowed.join(', ') || 'none'})` : ''}`
  }
  if (issue.input === undefined && issue.kind === 'schema') return `${where} is required`
  return `${where} must be ${expectedOf(issue)}, got ${shown(issue.input)}`
}

function expectedOf (issue: v.BaseIssue<unknown>): string {
  // our schemas carry the human text as the message; valibot's default messages start with "Invalid"
  return issue.message.startsWith('Invalid ') ? (issue.expected ?? 'something else') : issue.message
}

/** Decodes `value` with `schema` or throws MessageError naming the first bad field. */
export function decodeWith<S extends v.GenericSchema> (schema: S, value: unknown): v.InferOutput<S> {
  const isMessage = schema.type === 'strict_object' || schema.type === 'object'
  if (isMessage && (typeof value !== 'object' || value === null || Array.isArray(value))) throw new MessageError('', `the request body must be an object {type, ...}, got ${shown(value)}`)
  const r = v.safeParse(schema, value, { abortEarly: true })
  if (r.success) return r.output
  const issue = r.issues[0]
  const allowed = schema.type === 'strict_object' && 'entries' in schema && typeof schema.entries === 'object' && schema.entries !== null ? Object.keys(schema.entries) : undefined
  throw new MessageError(fieldOf(issue), issueText(issue, allowed))
}
