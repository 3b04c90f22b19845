// Where monkd takes its join token from (issue 13, "No token in argv or logs"): the token carries
// the cluster key, so it must not sit in the process list (`ps` shows argv to every local user).
// `--join-file PATH` (a file only monkd's user can read) and the MONK_JOIN_TOKEN variable (removed
// from monkd's environment once read, so workloads it starts do not inherit it) replace
// `--join TOKEN`, which keeps working with a warning. `--join-file -` reads standard input
// (`monk cluster token | ssh host monk cluster join --join-file -`). `monk cluster join` takes the
// same sources (one verb for users; monkd's flags are what it runs).
import { fstatSync, readFileSync, statSync } from 'node:fs'

export interface JoinSources {
  /** `--join TOKEN` (deprecated: visible in the process list). */
  flag?: string | undefined
  /** How the caller spells that flag in messages (default `--join TOKEN`). */
  flagName?: string
  /** `--join-file PATH`, or `-` for standard input. */
  file?: string | undefined
  /** The MONK_JOIN_TOKEN variable, if set. */
  env?: string | undefined
}

export interface JoinToken {
  token: string | undefined
  /** Said once in the log when the source is unsafe (never contains the token). */
  warnings: string[]
}

/** The token from whichever source was given. Throws Error naming the problem (never the token). */
export function joinTokenFrom (s: JoinSources): JoinToken {
  const flagName = s.flagName ?? '--join TOKEN'
  const given = [s.flag !== undefined && (s.flagName === undefined ? '--join' : 'a TOKEN argument'), s.file !== undefined && '--join-file', s.env !== undefined && s.env !== '' && 'MONK_JOIN_TOKEN'].filter(Boolean)
  if (given.length > 1) throw new Error(`give the join token one way, not ${given.join(' and ')}`)
  const warnings: string[] = []
  if (s.flag !== undefined) {
    warnings.push(`${flagName} puts the cluster key in the process list, where every local user can read it; use --join-file PATH (mode 0600), --join-file - (standard input) or the MONK_JOIN_TOKEN variable`)
    return { token: check(s.flag, flagName), warnings }
  }
  if (s.file !== undefined) {
    const stdin = s.file === '-'
    let text: string
    let mode: number
    try {
      mode = stdin ? fstatSync(0).mode : statSync(s.file).mode
      text = readFileSync(stdin ? 0 : s.file, 'utf8')
    } catch (err) {
      throw new Error(`cannot read the join ${stdin ? 'token from standard input' : `file ${s.file}`}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    if (stdin) return { token: check(text.trim(), 'standard input (--join-file -)'), warnings }
    if ((mode & 0o077) !== 0) warnings.push(`the join file ${s.file} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}: other users may read the cluster key; make it 0600`)
    return { token: check(text.trim(), `the join file ${s.file}`), warnings }
  }
  if (s.env !== undefined && s.env !== '') return { token: check(s.env.trim(), 'MONK_JOIN_TOKEN'), warnings }
  return { token: undefined, warnings }
}

function check (token: string, where: string): string {
  if (token === '') throw new Error(`${where} is empty: expected a join token (monk cluster token)`)
  // base64url only: anything else is not a token, and echoing it could print a secret pasted by mistake
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error(`${where} does not hold a join token (base64url expected)`)
  return token
}
