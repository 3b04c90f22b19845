// Secret environment variables of Docker containers, kept out of the container's config (which the
// engine writes to /var/lib/docker/containers/<id>/config.v2.json and shows in `docker inspect`):
// the values go to a file on tmpfs (SECRETS_DIR, a directory of mode 0700), bind-mounted read-only
// into the container, and the container starts through `/bin/sh -c '. FILE && exec "$@"'` with the
// command it would have run as its arguments. The file lives as long as the container (the engine
// re-reads it on every restart of the container) and is removed with it; after a reboot the tmpfs
// is empty and monkd's start pipeline makes the container, and the file, again.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Where the files live on the host: tmpfs, never a disk. */
export const SECRETS_DIR = '/dev/shm/monk-secrets'
/** Where a container sees its file. */
export const SECRETS_TARGET = '/run/monk-secrets.env'
/** The label naming a container's file on the host (removed with the container). */
export const LABEL_SECRETS_FILE = 'monk.secrets-file'

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/

/** True when `name` can be set by a POSIX shell (others cannot go through the file). */
export const shellName = (name: string): boolean => NAME_RE.test(name)

const quote = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`

/** The file's text: one `export NAME='value'` per variable. */
export function renderSecretEnv (env: Record<string, string>): string {
  return Object.entries(env).map(([k, v]) => `export ${k}=${quote(v)}\n`).join('')
}

/** The variables of a file written by renderSecretEnv. */
export function parseSecretEnv (text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of text.matchAll(/^export ([A-Za-z_][A-Za-z0-9_]*)='((?:[^']|'\\'')*)'\n/gm)) out[m[1]!] = m[2]!.replace(/'\\''/g, "'")
  return out
}

/** Makes SECRETS_DIR (0700, also when it was there with other bits). */
export function ensureSecretsDir (): void {
  mkdirSync(SECRETS_DIR, { recursive: true, mode: 0o700 })
  chmodSync(SECRETS_DIR, 0o700)
}

/** The host file of container `name`. */
export const secretsFile = (name: string): string => join(SECRETS_DIR, `${name}.env`)

/** Writes the file of container `name` (0600, or 0644 when the container runs as another user: the directory stays 0700). */
export function writeSecretEnv (name: string, env: Record<string, string>, otherUser: boolean): string {
  ensureSecretsDir()
  const file = secretsFile(name)
  // a bind source the engine found missing once may have become a directory
  rmSync(file, { recursive: true, force: true })
  writeFileSync(file, renderSecretEnv(env), { mode: otherUser ? 0o644 : 0o600 })
  return file
}

/** The variables in container `name`'s file; {} when there is none. */
export function readSecretEnv (file: string): Record<string, string> {
  try { return parseSecretEnv(readFileSync(file, 'utf8')) } catch { return {} }
}

export function removeSecretEnv (file: string): void {
  if (!file.startsWith(`${SECRETS_DIR}/`)) return
  rmSync(file, { force: true })
}

/** The entrypoint that reads the file, then runs the command it is given as arguments. */
export const SECRETS_ENTRYPOINT = ['/bin/sh', '-c', `. ${SECRETS_TARGET} && exec "$@"`, 'monk-secrets']
