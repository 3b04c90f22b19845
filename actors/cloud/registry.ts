// Opens a Provider of a kind from its credentials and options. Each driver (and its SDK) is
// imported only when first used: @google-cloud/compute alone takes 1-2 s and 170 MB to load.
import { checkCredentials } from './credentials.js'
import type { MonkdCommand } from './local.js'
import type { AwsCredentials, Credentials, DigitalOceanCredentials, GcpCredentials, Provider, ProviderKind, ProviderOptions } from './provider.js'

export interface ProviderDeps {
  /** How this host starts monkd (local machines). */
  monkd?: MonkdCommand
}

export async function openProvider (kind: ProviderKind, creds: Credentials, options: ProviderOptions, deps: ProviderDeps = {}): Promise<Provider> {
  const c = checkCredentials(kind, creds)
  switch (kind) {
    case 'aws': return await (await import('./aws.js')).openAws(c as unknown as AwsCredentials, options)
    case 'gcp': return await (await import('./gcp.js')).openGcp(c as unknown as GcpCredentials, options)
    case 'digitalocean': return await (await import('./digitalocean.js')).openDigitalOcean(c as unknown as DigitalOceanCredentials, options)
    case 'local': return await (await import('./local.js')).openLocal(options, deps.monkd)
  }
}
