// Temporary directories for tests that are removed when the test process exits, so a test run
// leaves no /tmp/monk-* behind (processes started inside must be gone by then).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dirs = new Set<string>()
let hooked = false

/** Removes `dir` (recursively) when the process exits; returns it. */
export function rmOnExit (dir: string): string {
  dirs.add(dir)
  if (!hooked) {
    hooked = true
    process.once('exit', () => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })
  }
  return dir
}

/** `mkdtemp` under the system temp directory (`PREFIX-xxxxxx`), removed at exit. */
export function tempDir (prefix: string): string {
  return rmOnExit(mkdtempSync(join(tmpdir(), `${prefix}-`)))
}
