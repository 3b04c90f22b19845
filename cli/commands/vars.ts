// Run-time variables from the command line: `--set k=v` (repeatable) and `--variables-file FILE`
// (YAML; its top-level scalars are variables of the target, nested maps `ns: {runnable: {var: v}}`
// variables of members). Values travel as strings; the daemon types them.
import { CliError, exitCodes } from '../output.js'

/** Commander collector for repeatable options. */
export function collect (value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/** `k=v` pairs to a record; a pair without `=` or with an empty key is a usage error. */
export function parsePairs (pairs: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new CliError('bad-flag', `${flag} wants NAME=VALUE, got "${pair}"`, exitCodes.usage)
    out[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return out
}

/**
 * Reads a variables file: a YAML mapping whose values are scalars (string, number, boolean;
 * null becomes '') for the target, or nested maps for members (`ns/runnable/var` keys). Anything else is a `bad-variables-file` error (exit 1) naming the file and why.
 */
export async function readVariablesFile (file: string): Promise<Record<string, string>> {
  const bad = (why: string, cause?: unknown): CliError =>
    new CliError('bad-variables-file', `cannot use variables file ${file}: ${why}`, exitCodes.failure, { cause })
  const { readFile } = await import('node:fs/promises')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    throw bad((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message, e)
  }
  const { parseDocument } = await import('yaml')
  const doc = parseDocument(text, { prettyErrors: false })
  const err = doc.errors[0]
  if (err) {
    const at = err.linePos?.[0]
    throw bad(`not valid YAML${at ? ` (line ${at.line}, column ${at.col})` : ''}: ${err.message.split('\n')[0]}`, err)
  }
  const value: unknown = doc.toJS()
  if (value === null || value === undefined) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw bad('the top level must be a mapping of variable names to values')
  const out: Record<string, string> = {}
  // Nested maps address members (spec §2.6): `ns: {runnable: {var: value}}` is `--set ns/runnable/var=value`.
  const walk = (prefix: string, map: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(map)) {
      const key = prefix === '' ? k : `${prefix}/${k}`
      const member = prefix.split('/').filter(x => x !== '').length
      if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
        if (prefix !== '' && member < 2) throw bad(`variable "${key.split('/')[0] ?? key}" must be a scalar, or a map of member variables ns: {runnable: {variable: value}} ("${key}" names no member: a member path is ns/runnable)`)
        out[key] = v === null ? '' : String(v)
      } else if (typeof v === 'object' && !Array.isArray(v)) {
        walk(key, v as Record<string, unknown>)
      } else {
        throw bad(`variable "${key}" must be a scalar (string, number or boolean) or a map of member variables, not a list`)
      }
    }
  }
  walk('', value as Record<string, unknown>)
  return out
}

/** The `set` of a run/update: the variables file first, `--set` pairs win over it. */
export async function runVariables (opts: { set?: string[], variablesFile?: string }): Promise<Record<string, string> | undefined> {
  const fromFile = opts.variablesFile !== undefined ? await readVariablesFile(opts.variablesFile) : {}
  const fromFlags = parsePairs(opts.set ?? [], '--set')
  const all = { ...fromFile, ...fromFlags }
  return Object.keys(all).length ? all : undefined
}
