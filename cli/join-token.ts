// Where monkd takes its join token from (issue 13, "No token in argv or logs"): the token carries
// the cluster key, so it must not sit in the process list (`ps` shows argv to every local user).
// `--join-file PATH` (a file only monkd's user can read) and the MONK_JOIN_TOKEN variable (removed
// from monkd's environment once read, so workloads it starts do not inherit it) replace
// `--join TOKEN`, which keeps working with a warning.
import { readFileSync, statSync } from 'node:fs'

export interface JoinSources {
  /** `--join TOKEN` (deprecated: visible in the process list). */
  flag?: string | undefined
  /** `--join-file PATH`. */
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
  const given = [s.flag !== undefined && '--join', s.file !== undefined && '--join-file', s.env !== undefined && s.env !== '' && 'MONK_JOIN_TOKEN'].filter(Boolean)
  if (given.length > 1) throw new Error(`give the join token one way, not ${given.join(' and ')}`)
  const warnings: string[] = []
  if (s.flag !== undefined) {
    warnings.push('--join TOKEN puts the cluster key in the process list, where every local user can read it; use --join-file PATH (mode 0600) or the MONK_JOIN_TOKEN variable')
    return { token: check(s.flag, '--join'), warnings }
  }
  if (s.file !== undefined) {
    let text: string
    let mode: number
    try {
      mode = statSync(s.file).mode
      text = readFileSync(s.file, 'utf8')
    } catch (err) {
      throw new Error(`cannot read the join file ${s.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
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
