// gcp against its emulator, end to end: real monkd processes, the real monk CLI, the real SDK.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import { startCloud } from '../helpers/cloud-emulators.js'
import { providerScenario, timings } from '../helpers/cloud-scenario.js'

const test = suite('cloud e2e: gcp')
test('grow 2, join with tags, shrink; quota, 500s + slow boot, never-join, bad region; no credential leaks', async () => {
  const base = mkdtempSync(join(tmpdir(), 'monk-cloud-gcp-'))
  try {
    await providerScenario(await startCloud('gcp'), base)
    for (const [k, ms] of Object.entries(timings)) console.log(`  ${k}: ${ms} ms`)
  } finally { rmSync(base, { recursive: true, force: true }) }
})
test.run()
