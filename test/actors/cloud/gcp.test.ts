// The gcp provider against its emulator, through the real SDK: the shared compliance suite.
import { openProvider } from '../../../actors/cloud/registry.js'
import { startCloud } from '../../helpers/cloud-emulators.js'
import { compliance } from './compliance.js'

compliance('gcp', async () => {
  const c = await startCloud('gcp')
  c.emu.faults.neverJoin = true
  const provider = await openProvider('gcp', c.creds, c.options)
  const badProvider = await openProvider('gcp', c.badCreds, c.options)
  return {
    provider, badProvider, emu: c.emu, where: c.where, badWhere: c.badWhere, instanceType: c.instanceType, secrets: c.secrets, firewallOpens: c.firewallOpens,
    userData: id => c.emu.all().find(m => m.id === id || m.name === id)?.userData,
    close: async () => { await provider.close(); await badProvider.close(); await c.emu.close() },
  }
})
