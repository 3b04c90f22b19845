// The local provider (machines are detached processes on this host) through the shared compliance
// suite; the "monkd" here is a node process that idles, so the suite tests the provider alone.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openProvider } from '../../../actors/cloud/registry.js'
import { compliance } from './compliance.js'

compliance('local', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'monk-local-machines-'))
  const provider = await openProvider('local', {}, { dir }, { monkd: { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)', '--'] } })
  return {
    provider, where: { region: 'local', zone: null }, instanceType: 'process', secrets: [],
    close: async () => {
      for (const m of await provider.list('c0ffee0000000001', { region: 'local', zone: null })) await provider.destroy(m)
      await provider.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})
