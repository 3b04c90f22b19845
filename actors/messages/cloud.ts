// Messages of the cloud side (actors/cloud-manager.ts and its node actors): grow, inspect and shrink
// the machines of the cluster, and store provider credentials (sealed; never echoed).
import * as v from 'valibot'
import type { NodeRow, ProviderRow } from '../cloud-manager.js'
import { flag, int, list, message, name, strMap, tags, text } from './fields.js'

export const cloudRequests = {
  'cluster.grow': message('cluster.grow', {
    provider: name, name, tags: v.optional(tags), instanceType: v.optional(name), region: v.optional(name), zone: v.optional(name),
    diskSize: v.optional(int(1, 65_536)), count: v.optional(int(1, 100)),
    growTimeout: v.optional(v.pipe(v.number('a number'), v.minValue(0.001, 'a number from 0.001 to 1440'), v.maxValue(1440, 'a number from 0.001 to 1440'))),
    keyPair: v.optional(name), image: v.optional(text(1, 512)),
    /** Stream grow events until every machine joined or failed (one request for `monk cluster grow`). */
    follow: v.optional(flag),
  }),
  'cluster.nodes': message('cluster.nodes', { names: v.optional(list(name, 0, 1000)) }),
  'cluster.shrink': message('cluster.shrink', { name: v.optional(name), tag: v.optional(name), provider: v.optional(name), count: v.optional(int(1, 1000)), force: v.optional(flag), follow: v.optional(flag) }),
  'cluster.peer-remove': message('cluster.peer-remove', { ids: v.optional(list(name, 0, 1000)), tag: v.optional(name), force: v.optional(flag), follow: v.optional(flag) }),
  'cluster.providers': message('cluster.providers', {}),
  'cluster.provider-add': message('cluster.provider-add', { kind: name, credentials: strMap(65_536, 16, 1), options: v.optional(strMap(4096, 16)) }),
} as const

export type CloudRequest = v.InferOutput<typeof cloudRequests[keyof typeof cloudRequests]>

export type { NodeRow, ProviderRow }

export interface CloudReplies {
  'cluster.grow': { nodes: string[], growId: string }
  'cluster.nodes': NodeRow[]
  'cluster.shrink': { nodes: string[], skipped: Array<{ name: string, reason: string }> }
  'cluster.peer-remove': { nodes: string[] }
  'cluster.providers': ProviderRow[]
  'cluster.provider-add': ProviderRow
}
