// A grown AWS machine requires IMDSv2 with a hop limit of 1 (issue 13): its containers cannot read
// the user data or the role's credentials from the metadata service. Through the real SDK against
// the EC2 emulator, which records the options RunInstances carried.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { openProvider } from '../../../actors/cloud/registry.js'
import type { Ec2Emulator } from '../../emulators/ec2.js'
import { startCloud } from '../../helpers/cloud-emulators.js'
import { specOf } from './compliance.js'

const Imds = suite('cloud aws: instance metadata options')

Imds('RunInstances asks for IMDSv2 only, hop limit 1', async () => {
  const c = await startCloud('aws')
  c.emu.faults.neverJoin = true
  const provider = await openProvider('aws', c.creds, c.options)
  try {
    const m = await provider.create(specOf({ ...c, provider, badProvider: provider, userData: () => undefined, close: async () => {} }, 'imds-1'))
    assert.equal((c.emu as unknown as Ec2Emulator).metadataOptions(m.id), { HttpTokens: 'required', HttpPutResponseHopLimit: '1', HttpEndpoint: 'enabled' })
  } finally {
    await provider.close()
    await c.emu.close()
  }
})

Imds.run()
