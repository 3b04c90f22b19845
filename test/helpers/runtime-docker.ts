// Docker engine availability for the runtime tests: skip with one clear line when none answers,
// fail instead when CI requires the engine (MONK_REQUIRE_DOCKER=1, or MONK_CI=1).
import type { Test } from 'uvu'
import * as assert from 'uvu/assert'
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

/**
 * Registers the Docker case `title` on `suite` when an engine answers with the test image. In CI
 * (DOCKER_REQUIRED) a missing engine registers a failing case instead; elsewhere it prints one
 * line naming `what` was skipped.
 */
export async function whenDocker (suite: Test, title: string, fn: () => Promise<void>, what: string): Promise<void> {
  const docker = await dockerForTests()
  if (docker.ok) {
    await docker.runtime.close()
    suite(title, fn)
  } else if (DOCKER_REQUIRED) {
    suite('a Docker engine answers (required in CI)', () => { assert.unreachable(docker.reason) })
  } else {
    console.log(`  skipped the Docker ${what}: ${docker.reason}`)
  }
}
