// monkd's home holds the cluster key, the peer's identity key, logs and runtime state: it and what
// monkd keeps in it are private to monkd's user (0700 directories, 0600 files), also when the home
// existed before with looser modes (issue 13, "At rest"). Workload data (volumes, process
// runtime working directories) keeps its modes: workloads own it; the 0700 home already keeps
// other users out of it.
import { chmodSync, lstatSync, readdirSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { WORK_DIR } from '../actors/runtime/process-state.js'

/** Whether `rel` (relative to the home) holds workload data: only the directory itself is tightened. */
function belongsToWorkloads (rel: string): boolean {
  const parts = rel.split(sep)
  return parts[0] === 'volumes' || (parts[0] === 'runtime' && parts[parts.length - 1] === WORK_DIR)
}

/** Tightens `home` and monkd's files in it. Returns the paths changed (for the log). */
export function tightenHome (home: string): string[] {
  const changed: string[] = []
  const fix = (path: string, want: number): void => {
    const st = lstatSync(path)
    if (st.isSymbolicLink()) return
    if ((st.mode & 0o777) === want) return
    chmodSync(path, want)
    changed.push(path)
  }
  const walk = (dir: string): void => {
    fix(dir, 0o700)
    if (dir !== home && belongsToWorkloads(relative(home, dir))) return
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile()) fix(p, 0o600)
    }
  }
  walk(home)
  return changed
}
