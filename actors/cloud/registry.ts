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
  const field = (k: string): string => c[k] ?? '' // checkCredentials made sure each needed one is there
  switch (kind) {
    case 'aws': {
      const aws: AwsCredentials = { accessKeyId: field('accessKeyId'), secretAccessKey: field('secretAccessKey'), ...(c.sessionToken !== undefined ? { sessionToken: c.sessionToken } : {}) }
      return await (await import('./aws.js')).openAws(aws, options)
    }
    case 'gcp': {
      const gcp: GcpCredentials = { serviceAccount: field('serviceAccount') }
      return await (await import('./gcp.js')).openGcp(gcp, options)
    }
    case 'digitalocean': {
      const digitalocean: DigitalOceanCredentials = { token: field('token') }
      return await (await import('./digitalocean.js')).openDigitalOcean(digitalocean, options)
    }
    case 'local': return await (await import('./local.js')).openLocal(options, deps.monkd)
  }
}
