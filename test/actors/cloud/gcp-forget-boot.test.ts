// GCP keeps instance metadata readable from the machine for its whole life: once a grown machine
// has joined, its startup-script (which carries the join token) is removed with setMetadata
// (issue 13). Against the GCE emulator, through the real SDK and the BootForgetter of the driver.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { BootForgetter } from '../../../actors/cloud/forget-boot.js'
import { openProvider } from '../../../actors/cloud/registry.js'
import { silentLogger } from '../../../actors/kit/index.js'
import type { GceEmulator } from '../../emulators/gce.js'
import { startCloud, type Cloud } from '../../helpers/cloud-emulators.js'
import { until } from '../../helpers/monkd.js'
import { specOf } from './compliance.js'

const test = suite<{ c: Cloud }>('gcp: the join token leaves the metadata after the join')
test.before(async ctx => { ctx.c = await startCloud('gcp'); ctx.c.emu.faults.neverJoin = true })
test.after(async ctx => { await ctx.c.emu.close() })

test('forgetBoot removes startup-script (and with it the token); other metadata stays', async ({ c }) => {
  const emu = c.emu as GceEmulator
  const provider = await openProvider('gcp', c.creds, c.options)
  try {
    const spec = specOf({ where: c.where, instanceType: c.instanceType } as Parameters<typeof specOf>[0], 'tok-node-1')
    const m = await provider.create(spec)
    const token = spec.boot.join
    const emuId = emu.all().find(x => x.name === m.id)!.id
    const before = JSON.stringify(emu.metadataOf(emuId))
    assert.ok(before.includes('startup-script') && before.includes(token), 'the token is in the metadata at first')
    const forgetter = new BootForgetter(async () => provider, silentLogger)
    forgetter.add('tok-node-1', 'gcp', { id: m.id, region: m.region, zone: m.zone })
    await until('forgotten', () => forgetter.pending === 0, 20_000)
    const after = JSON.stringify(emu.metadataOf(emuId))
    assert.not.ok(after.includes('startup-script'), after)
    assert.not.ok(after.includes(token), 'the token is gone from the metadata')
    // what the SDK reads back agrees, and a second call is a no-op
    assert.ok(provider.forgetBoot)
    await provider.forgetBoot({ id: m.id, region: m.region, zone: m.zone })
    assert.is(JSON.stringify(emu.metadataOf(emuId)), after)
    await provider.destroy({ id: m.id, region: m.region, zone: m.zone })
  } finally { await provider.close() }
})

test.run()
