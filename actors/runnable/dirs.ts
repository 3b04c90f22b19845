// Where an instance keeps its files on this peer: `<home>/instances/<encoded instance>/files/...`.
// The instance path is encoded injectively (every byte outside [A-Za-z0-9_-] as %XX), so `..` can
// never name a directory outside the root, and `a/b_c` and `a_b/c` never share one. Every path
// built under it is checked to stay inside.
import { createHash } from 'node:crypto'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import { SECRETS_DIR } from '../runtime/docker-secrets.js'
import { RunnableError } from './errors.js'

/** Longest encoded name kept readable; longer ones end in a hash (file names stop at 255 bytes). */
const MAX_NAME = 160

/** The directory name of an instance: injective, never `.`/`..`, never containing a separator. */
export function instanceDirName (instance: string): string {
  let out = ''
  for (const b of Buffer.from(instance, 'utf8')) {
    const c = String.fromCharCode(b)
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  if (out === '') return '%'
  if (out.length <= MAX_NAME) return out
  return `${out.slice(0, MAX_NAME - 65)}~${createHash('sha256').update(instance).digest('hex')}`
}

/** The root of every instance directory on this peer. */
export function instancesRoot (home: string): string {
  return resolve(home, 'instances')
}

/** The directory of one instance (inside instancesRoot, always). */
export function instanceDir (home: string, instance: string): string {
  return within(instancesRoot(home), instanceDirName(instance), `instance ${instance}`)
}

/**
 * Where `files:` entries whose contents carry a secret live on this host: on tmpfs (never a disk),
 * under SECRETS_DIR, one directory per home and instance; the instance directory holds links to them.
 */
export function secretFilesDir (home: string, instance: string): string {
  const h = createHash('sha256').update(resolve(home)).digest('hex').slice(0, 16)
  return within(join(SECRETS_DIR, 'files', h), instanceDirName(instance), `instance ${instance}`)
}

/** The host path of a `files:` entry: `path` resolved under `rootfs`; `../` that leaves it is an error naming the entry. */
export function filePath (rootfs: string, path: string, entry: string): string {
  return within(rootfs, `.${path.startsWith('/') ? '' : '/'}${path}`, `files.${entry}.path ${JSON.stringify(path)}`, 'bad-file')
}

/** `root/rel` resolved, or an error when it is not strictly inside `root`. */
export function within (root: string, rel: string, what: string, code = 'bad-path'): string {
  const base = resolve(root)
  const full = resolve(base, rel)
  const r = relative(base, full)
  if (r === '' || r === '..' || r.startsWith(`..${sep}`) || isAbsolute(r)) {
    throw new RunnableError(code, `${what} leaves its directory ${base}`)
  }
  return join(base, r)
}
