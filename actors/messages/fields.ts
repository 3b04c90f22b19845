// Field schemas shared by the message files, and `message()`: a strict `{type, ...fields}` object
// (an unknown field is an error, so a typo in a CLI flag mapping cannot pass silently).
import * as v from 'valibot'
import { pathProblem } from '../../mesh/keys.js'

/** A strict message body `{type: <type>, ...entries}`. */
export function message<const T extends string, const E extends v.ObjectEntries> (type: T, entries: E) {
  return v.strictObject({ type: v.literal(type), ...entries })
}

/** A bounded string; `what` is said in errors ("a template path like ns/name"). */
export function text (min: number, max: number, what?: string) {
  return v.pipe(v.string(what ?? (min > 0 ? 'a non-empty string' : 'a string')), v.minLength(min, min === 1 ? 'a non-empty string' : `at least ${min} characters long`), v.maxLength(max, `at most ${max} characters long`))
}

/**
 * A name that becomes part of a replica key (template and instance paths, secret scopes and names):
 * the mesh's own segment rule (no empty, "." or ".." segment; one leading `/` allowed), so a bad name
 * is a 400 naming the field before anything is written (`..` once named $MONK_HOME itself).
 */
export const keyName = <S extends v.GenericSchema<unknown, string>>(schema: S, what: string) => v.pipe(schema, v.rawCheck(({ dataset, addIssue }) => {
  if (!dataset.typed) return
  const s = dataset.value
  const problem = pathProblem(s.startsWith('/') ? s.slice(1) : s)
  if (problem !== undefined) addIssue({ message: `${what} with no empty, "." or ".." path segment (${problem})` })
}))

export const path = keyName(v.pipe(v.string('a template path like ns/name'), v.minLength(1, 'a template path like ns/name'), v.maxLength(512, 'at most 512 characters long'), v.regex(/^\/?[^\s/][^\s]*$/, 'a template path like ns/name')), 'a template path like ns/name')
export const name = text(1, 256)
export const tags = v.pipe(v.array(text(1, 128), 'a list of strings'), v.maxLength(64, 'a list of at most 64'))
export const vars = v.pipe(v.record(v.string(), text(0, 1 << 16), 'an object'), v.check(o => Object.keys(o).length <= 1024, 'an object with at most 1024 entries'))
export const flag = v.boolean('true or false')
export const int = (min: number, max: number) => v.pipe(v.number('a number'), v.integer(`an integer from ${min} to ${max}`), v.minValue(min, `an integer from ${min} to ${max}`), v.maxValue(max, `an integer from ${min} to ${max}`))
export const list = <T extends v.GenericSchema>(item: T, min: number, max: number) =>
  v.pipe(v.array(item, 'a list'), v.minLength(min, `a list of at least ${min}`), v.maxLength(max, `a list of at most ${max}`))
export const strMap = (maxValue: number, maxEntries: number, minValue = 0) =>
  v.pipe(v.record(v.string(), text(minValue, maxValue), 'an object'), v.check(o => Object.keys(o).length <= maxEntries, `an object with at most ${maxEntries} entries`))
