// The cloud credentials entity host modules use: this peer's sealed copy of the cluster's provider
// credentials (`provider/<kind>`), opened at call time in the daemon, never handed to the guest.
import { JWT } from 'google-auth-library'
import type { Mesh } from '../../mesh/mesh.js'
import { decodeProvider, providerKey, SealKey } from '../cloud/credentials.js'
import type { ProviderKind } from '../cloud/provider.js'
import type { CloudCredentials } from './host/cloud.js'

export function clusterCloud (mesh: Pick<Mesh, 'get' | 'peerId'>, home: string): CloudCredentials {
  let seal: SealKey | null = null
  const open = (kind: ProviderKind): Readonly<Record<string, string>> | undefined => {
    const rec = decodeProvider(mesh.get(providerKey(kind)))
    const env = rec?.envelopes[mesh.peerId]
    if (!env) return undefined
    seal ??= SealKey.open(home)
    return seal.open(kind, mesh.peerId, env)
  }
  return {
    aws: () => {
      const c = open('aws')
      return c?.accessKeyId !== undefined && c.secretAccessKey !== undefined ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken !== undefined ? { sessionToken: c.sessionToken } : {}) } : undefined
    },
    digitalocean: () => open('digitalocean')?.token,
    gcp: async () => {
      const sa = open('gcp')?.serviceAccount
      if (sa === undefined) return undefined
      const j = JSON.parse(sa) as { client_email: string, private_key: string, project_id?: string }
      const jwt = new JWT({ email: j.client_email, key: j.private_key, scopes: ['https://www.googleapis.com/auth/cloud-platform'] })
      const t = await jwt.getAccessToken()
      if (typeof t.token !== 'string') return undefined
      return { token: t.token, project: j.project_id ?? '' }
    },
  }
}
