// gcp against its emulator, end to end: real monkd processes, the real monk CLI, the real SDK.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { GceEmulator } from '../emulators/gce.js'
import { startCloud } from '../helpers/cloud-emulators.js'
import { providerScenario, timings } from '../helpers/cloud-scenario.js'

const test = suite('cloud e2e: gcp')
test('grow 2, join with tags, shrink; quota, 500s + slow boot, never-join, bad region; no credential leaks', async () => {
  const base = mkdtempSync(join(tmpdir(), 'monk-cloud-gcp-'))
  try {
    const c = await startCloud('gcp')
    await providerScenario(c, base)
    // the machines that joined had their startup-script (and with it the join token) removed
    const emu = c.emu as GceEmulator
    const cleared = emu.all().filter(m => { const md = emu.metadataOf(m.id); return md !== undefined && !JSON.stringify(md).includes('startup-script') })
    assert.ok(cleared.length >= 2, `startup-script removed from ${cleared.length} of ${emu.all().length} machines`)
    for (const [k, ms] of Object.entries(timings)) console.log(`  ${k}: ${ms} ms`)
  } finally { rmSync(base, { recursive: true, force: true }) }
})
test.run()
