// What the cloud side answers (`cluster.nodes`, `cluster.providers`) and the requests it takes, as
// the control API decoded them (actors/messages/cloud.ts).
import type { RequestOf } from '../messages/index.js'
import type { ProviderKind, ProviderOptions } from './provider.js'

/** The requests as the control API decoded them (actors/messages/cloud.ts). */
export type GrowRequest = Omit<RequestOf<'cluster.grow'>, 'type' | 'follow'>
export type ShrinkRequest = Omit<RequestOf<'cluster.shrink'>, 'type' | 'follow'>
export type PeerRemoveRequest = Omit<RequestOf<'cluster.peer-remove'>, 'type' | 'follow'>

export interface NodeRow {
  name: string
  provider: ProviderKind
  state: string
  region: string
  zone: string | null
  instanceType: string
  tags: string[]
  cloudId: string | null
  address: string | null
  peerId: string | null
  /** Whether the node's peer is alive now (joined nodes). */
  alive: boolean
  driver: string
  driverName: string
  error: { code: string, message: string } | null
  warning: string | null
  cleanup: string
  requestedAt: number
  stateAt: number
  history: Array<{ state: string, at: number, by: string, note?: string }>
}

export interface ProviderRow {
  kind: ProviderKind
  options: ProviderOptions
  fingerprint: string
  holders: string[]
  nodes: number
  addedAt: number
}
