// Cloud emulators for tests: one call starts an emulator with known credentials and gives what a
// test needs to point the real SDK at it (provider options and credentials).
import { Ec2Emulator } from '../emulators/ec2.js'
import { GceEmulator } from '../emulators/gce.js'
import { DoEmulator } from '../emulators/digitalocean.js'
import type { Emulator } from '../emulators/http.js'
import type { MachineHost } from '../emulators/machines.js'
import type { Credentials, Location, ProviderKind } from '../../actors/cloud/provider.js'

/** Credentials that look real enough to be grepped for (each is unique per run). */
export const AWS_KEY = `AKIA${Math.random().toString(36).slice(2, 10).toUpperCase()}EMU1`
export const AWS_SECRET = `emuSecret/${Math.random().toString(36).slice(2)}+${Date.now().toString(36)}Zq`
export const DO_TOKEN = `dop_v1_${Buffer.from(String(Math.random())).toString('hex').slice(0, 48)}`

export interface Cloud {
  kind: ProviderKind
  emu: Emulator
  creds: Credentials
  /** Wrong credentials of the right shape. */
  badCreds: Credentials
  /** Env vars a `monk cluster provider add` reads (the SDK's standard sources). */
  env: Record<string, string>
  options: { endpoint: string }
  where: Location
  badWhere: Location
  instanceType: string
  /** Strings that must never appear in logs, ps, describe or errors. */
  secrets: string[]
  /** Whether the cloud's firewall (security group) opens `port` for the cluster's machines. */
  firewallOpens: (port: number) => boolean
}

export async function startCloud (kind: Exclude<ProviderKind, 'local'>, host?: MachineHost): Promise<Cloud> {
  switch (kind) {
    case 'aws': {
      const emu = await new Ec2Emulator({ accessKeyId: AWS_KEY, secretAccessKey: AWS_SECRET, ...(host ? { host } : {}) }).start()
      return {
        kind, emu, creds: { accessKeyId: AWS_KEY, secretAccessKey: AWS_SECRET }, badCreds: { accessKeyId: AWS_KEY, secretAccessKey: 'not-the-secret-0000' },
        env: { AWS_ACCESS_KEY_ID: AWS_KEY, AWS_SECRET_ACCESS_KEY: AWS_SECRET }, options: { endpoint: emu.url },
        where: { region: 'eu-west-1', zone: 'eu-west-1a' }, badWhere: { region: 'xx-nowhere-1', zone: null }, instanceType: 't3.small',
        secrets: [AWS_SECRET, AWS_KEY],
        firewallOpens: port => emu.securityGroups().some(g => g.rules.includes(`tcp:${port}:0.0.0.0/0`)),
      }
    }
    case 'gcp': {
      const emu = await new GceEmulator({ project: 'monk-emu', ...(host ? { host } : {}) }).start()
      const other = new GceEmulator({ project: 'monk-emu' })
      const sa = emu.serviceAccount()
      const j = JSON.parse(sa) as { private_key: string, private_key_id: string }
      const keyLines = j.private_key.split('\n').filter(l => l.length >= 40 && !l.startsWith('-----'))
      return {
        kind, emu, creds: { serviceAccount: sa }, badCreds: { serviceAccount: other.serviceAccount() },
        env: {}, options: { endpoint: emu.url },
        where: { region: 'us-central1', zone: 'us-central1-a' }, badWhere: { region: 'mars-north1', zone: 'mars-north1-a' }, instanceType: 'e2-small',
        secrets: [j.private_key_id, ...keyLines],
        firewallOpens: port => emu.firewallRules().some(f => JSON.stringify(f.allowed ?? []).includes(`"${port}"`) && JSON.stringify(f.sourceRanges ?? []).includes('0.0.0.0/0')),
      }
    }
    case 'digitalocean': {
      const emu = await new DoEmulator({ token: DO_TOKEN, ...(host ? { host } : {}) }).start()
      return {
        kind, emu, creds: { token: DO_TOKEN }, badCreds: { token: 'dop_v1_wrong' },
        env: { DIGITALOCEAN_TOKEN: DO_TOKEN }, options: { endpoint: emu.url },
        where: { region: 'nyc3', zone: null }, badWhere: { region: 'atlantis1', zone: null }, instanceType: 's-1vcpu-2gb',
        secrets: [DO_TOKEN],
        firewallOpens: port => emu.firewalls().some(f => JSON.stringify(f.inbound_rules ?? []).includes(`"ports":"${port}"`)),
      }
    }
  }
}
