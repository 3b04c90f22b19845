// Volumes of an instance on this peer (spec §2.7.9): each declared volume is a directory, under
// `<home>/volumes/<encoded instance>/<name>` unless its `path` names one, bound into containers by
// `mounted-volumes` or by `paths` (which kits build from `${monk-volume-path}`, that same per-instance
// directory). Directories outlive containers: restart, update, crash and daemon restart keep them,
// stop keeps them, purge removes the instance's volume directory. The process runtime cannot
// remount, so a path seen in the container becomes a symlink under the instance's rootfs
// (`$MONK_ROOTFS/<path>`), as files are written there.
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync, readlinkSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import type { ScopeVars } from '../../grammar/monkscript/variables.js'
import type { VolumeDecl } from '../../grammar/monkscript/runnable-spec.js'
import type { Mount } from '../runtime/runtime.js'
import { instanceDirName, within } from './dirs.js'
import { RunnableError } from './errors.js'

/** A volume as this peer holds it, for status (`describe`, `ps`). */
export interface VolumeRow {
  /** The declared name, or `paths` for a bind from a container's `paths`. */
  name: string
  /** Directory on the peer. */
  host: string
  /** `container:/path` for every place it is mounted. */
  mounts: string[]
  /** Size in GB as declared (not enforced on a local directory), or null. */
  size: number | null
  kind: string
}

/** The root of every volume directory on this peer. */
export function volumesRoot (home: string): string {
  return resolve(home, 'volumes')
}

/** `${monk-volume-path}` of one instance: its own directory under the peer's volume root. */
export function instanceVolumeDir (home: string, instance: string): string {
  return within(volumesRoot(home), instanceDirName(instance), `volumes of ${instance}`)
}

/** Removes an instance's volume directory (purge). Volumes with a `path` elsewhere are the operator's: kept. */
export function purgeVolumes (home: string, instance: string): void {
  rmSync(instanceVolumeDir(home, instance), { recursive: true, force: true })
}

const LOCAL_KINDS = new Set(['', 'local'])

/**
 * Evaluates each declared volume and creates its directory: name → host directory. `warn` gets
 * what is declared but not acted on (a size limit, a cloud disk kind, backups).
 */
export async function resolveVolumes (decls: readonly VolumeDecl[], vars: ScopeVars, dir: string, evaluate: (v: unknown, vars: ScopeVars) => Promise<unknown>, warn: (field: string, message: string) => void): Promise<Map<string, VolumeRow>> {
  const out = new Map<string, VolumeRow>()
  for (const d of decls) {
    const field = `volumes.${d.name}`
    const kindV = await evaluate(d.kind, vars)
    const kind = kindV === null || kindV === undefined ? 'local' : String(kindV)
    const sizeV = await evaluate(d.size, vars)
    let size: number | null = null
    if (sizeV !== null && sizeV !== undefined && sizeV !== '') {
      size = Number(sizeV)
      if (!Number.isFinite(size) || size <= 0) throw new RunnableError('bad-volume', `${field}.size must be a number of GB > 0, got ${JSON.stringify(sizeV)}`)
      warn(`${field}.size`, `${size} GB is not enforced: a local volume is a directory on the peer's disk`)
    }
    if (!LOCAL_KINDS.has(kind.toLowerCase())) warn(`${field}.kind`, `kind ${kind} (a cloud disk) is not provisioned by this peer; a local directory is used`)
    if (d.backup) warn(`${field}.backup`, 'backups (cloud snapshots) are not taken of a local volume')
    if (d.cloudName !== null) warn(`${field}.name`, 'a cloud resource name has no meaning for a local volume')
    const pathV = await evaluate(d.path, vars)
    let host: string
    if (pathV === null || pathV === undefined || pathV === '') host = within(dir, d.name, field, 'bad-volume')
    else {
      host = String(pathV)
      if (!isAbsolute(host)) throw new RunnableError('bad-volume', `${field}.path must be an absolute directory on the peer, got ${JSON.stringify(host)}`)
    }
    mkdirSync(host, { recursive: true })
    out.set(d.name, { name: d.name, host, mounts: [], size, kind })
  }
  return out
}

/**
 * The process runtime sees the host filesystem: a mount whose two paths differ becomes a symlink
 * `<rootfs>/<container path>` → host directory (created). Returns the mounts left for the runtime.
 */
export function linkMounts (rootfs: string, mounts: readonly Mount[], warn: (field: string, message: string) => void = () => {}): Mount[] {
  const left: Mount[] = []
  for (const m of mounts) {
    if (m.hostPath === m.containerPath) { left.push(m); continue }
    if (m.readOnly) warn(`mount ${m.containerPath}`, `${m.hostPath} is linked read-write: the process runtime cannot make it read-only`)
    mkdirSync(m.hostPath, { recursive: true })
    const link = within(rootfs, `.${m.containerPath}`, `mount ${m.containerPath}`, 'bad-volume')
    mkdirSync(dirname(link), { recursive: true })
    let current: string | null = null
    try { if (lstatSync(link).isSymbolicLink()) current = readlinkSync(link) } catch { /* not there */ }
    if (current === m.hostPath) continue
    if (current !== null || existsSync(link)) rmSync(link, { recursive: true, force: true })
    symlinkSync(m.hostPath, link, 'dir')
  }
  return left
}

/** Records the mounts of `container` against the volumes they bind (and `paths` binds as their own rows). */
export function noteMounts (rows: Map<string, VolumeRow>, container: string, mounts: readonly Mount[], fromVolumes: ReadonlySet<string>): void {
  for (const m of mounts) {
    const where = `${container}:${m.containerPath}`
    const vol = [...rows.values()].find(r => m.hostPath === r.host || m.hostPath.startsWith(`${r.host}/`))
    if (vol) { if (!vol.mounts.includes(where)) vol.mounts.push(where); continue }
    if (fromVolumes.has(m.hostPath)) continue
    const key = `paths ${m.hostPath}`
    const row = rows.get(key) ?? { name: 'paths', host: m.hostPath, mounts: [], size: null, kind: 'bind' }
    if (!row.mounts.includes(where)) row.mounts.push(where)
    rows.set(key, row)
  }
}

/** The `files` list of one container (spec §2.7.1, `[{path, contents, mode?, raw?}]`), evaluated. */
export function containerFiles (v: unknown, container: string): Array<{ path: string, contents: string, mode: number, raw: boolean }> {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new RunnableError('bad-file', `containers.${container}.files must be a list of {path, contents}`)
  return v.map((raw, i) => {
    const f = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw as Record<string, unknown> : undefined
    const field = `containers.${container}.files[${i}]`
    if (!f || typeof f['path'] !== 'string' || !f['path'].startsWith('/')) throw new RunnableError('bad-file', `${field}.path must be an absolute path in the container`)
    const m = f['mode'] ?? f['chmod']
    const mode = m === undefined || m === null ? 0o600 : parseInt(String(m), 8)
    if (!Number.isFinite(mode)) throw new RunnableError('bad-file', `${field}.mode must be octal permissions, got ${JSON.stringify(m)}`)
    const c = f['contents']
    return { path: f['path'], contents: c === undefined || c === null ? '' : typeof c === 'string' ? c : JSON.stringify(c), mode, raw: f['raw'] === true }
  })
}
