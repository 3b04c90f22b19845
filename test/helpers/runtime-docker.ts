// Docker engine availability for the runtime tests: skip with one clear line when none answers,
// fail instead when CI requires the engine (MONK_REQUIRE_DOCKER=1, or MONK_CI=1).
import { DockerRuntime } from '../../actors/runtime/docker.js'

/** Built by scripts/test-docker.sh with `docker import` (no registry needed). */
export const TEST_IMAGE = process.env['MONK_TEST_IMAGE'] ?? 'monk-test/busybox:1'

export const DOCKER_REQUIRED = process.env['MONK_REQUIRE_DOCKER'] === '1' || process.env['MONK_CI'] === '1'

export type Availability = { ok: true, runtime: DockerRuntime } | { ok: false, reason: string }

/** A runtime on the engine with the test image present, or why not. */
export async function dockerForTests (): Promise<Availability> {
  let runtime: DockerRuntime
  try {
    runtime = await DockerRuntime.open({ pingTimeoutMs: 3000 })
  } catch (err) {
    return { ok: false, reason: `${(err as Error).message} (run: bash scripts/test-docker.sh)` }
  }
  try {
    if (!await runtime.hasImage(TEST_IMAGE)) { await runtime.close(); return { ok: false, reason: `test image ${TEST_IMAGE} is missing (run: bash scripts/test-docker.sh)` } }
  } catch (err) {
    await runtime.close()
    return { ok: false, reason: (err as Error).message }
  }
  return { ok: true, runtime }
}
