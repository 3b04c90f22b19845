// The monkd control protocol: every actor path the daemon serves, the messages each accepts
// (decoded strictly: an unknown or mistyped field is a 400 naming it) and the reply shapes.
// Kinds are only ever appended. The CLI builds these messages; the daemon answers them.
import { keyName } from './names.js'
import type { Route } from './routes.js'
import { array, boolean, integer, json, message, number, optional, record, string, type Infer } from './schema.js'

const path = keyName(string({ min: 1, max: 512, pattern: /^\/?[^\s/][^\s]*$/, patternText: 'a template path like ns/name' }), 'a template path like ns/name')
const scope = keyName(string({ min: 1, max: 512 }), 'a secret scope like ns/app')
const secretName = keyName(string({ min: 1, max: 256 }), 'a secret name')
const name = string({ min: 1, max: 256 })
const tags = array(string({ min: 1, max: 128 }), { max: 64 })
const vars = record(string({ max: 1 << 16 }), { max: 1024 })

export const peerMessages = {
  'peer.status': message('peer.status', {}),
  'templates.load': message('templates.load', { files: record(string({ max: 8 << 20 }), { max: 10_000 }), paths: array(string({ min: 1 }), { min: 1, max: 1000 }) }),
  'templates.list': message('templates.list', { kind: optional(string()) }),
  'templates.info': message('templates.info', { path }),
  'workload.run': message('workload.run', { path, tags: optional(tags), peer: optional(name), set: optional(vars), forceMove: optional(boolean()) }),
  'workload.update': message('workload.update', { path, tags: optional(tags), peer: optional(name), set: optional(vars), forceMove: optional(boolean()) }),
  'workload.stop': message('workload.stop', { path }),
  'workload.restart': message('workload.restart', { path }),
  'workload.purge': message('workload.purge', { path, excise: optional(boolean()) }),
  'workload.ps': message('workload.ps', { all: optional(boolean()), peer: optional(name), tag: optional(name) }),
  'secrets.add': message('secrets.add', { scope, name: secretName, value: string({ max: 1 << 20 }) }),
  'secrets.rm': message('secrets.rm', { scope, name: secretName }),
  'secrets.list': message('secrets.list', { scope: optional(string({ min: 1, max: 512 })) }),
  'cluster.peers': message('cluster.peers', {}),
  'cluster.token': message('cluster.token', {}),
  'cluster.info': message('cluster.info', {}),
  'cluster.peer-tags': message('cluster.peer-tags', { tags }),
  'daemon.stop': message('daemon.stop', {}),
  // clouds (actors/cloud-manager.ts): grow, inspect and shrink the machines of the cluster
  'cluster.grow': message('cluster.grow', {
    provider: name, name, tags: optional(tags), instanceType: optional(name), region: optional(name), zone: optional(name),
    diskSize: optional(integer({ min: 1, max: 65_536 })), count: optional(integer({ min: 1, max: 100 })),
    growTimeout: optional(number({ min: 0.001, max: 1440 })), keyPair: optional(name), image: optional(string({ min: 1, max: 512 })),
  }),
  'cluster.nodes': message('cluster.nodes', { names: optional(array(name, { max: 1000 })) }),
  'cluster.shrink': message('cluster.shrink', { name: optional(name), tag: optional(name), provider: optional(name), count: optional(integer({ min: 1, max: 1000 })), force: optional(boolean()) }),
  'cluster.peer-remove': message('cluster.peer-remove', { ids: optional(array(name, { max: 1000 })), tag: optional(name), force: optional(boolean()) }),
  'cluster.providers': message('cluster.providers', {}),
  // credentials go to the local daemon over the 0600 socket; monkd seals them and never echoes them
  'cluster.provider-add': message('cluster.provider-add', { kind: name, credentials: record(string({ min: 1, max: 65_536 }), { max: 16 }), options: optional(record(string({ max: 4096 }), { max: 16 })) }),
} as const

export const runnableMessages = {
  'runnable.describe': message('runnable.describe', {}),
  'runnable.actions': message('runnable.actions', {}),
  'runnable.action': message('runnable.action', { action: name, args: optional(record(json(), { max: 256 })) }),
  'runnable.exec': message('runnable.exec', { cmd: array(string(), { min: 1, max: 4096 }), container: optional(name) }),
  'runnable.logs': message('runnable.logs', { follow: optional(boolean()), tail: optional(integer({ min: 0, max: 1_000_000 })), container: optional(name) }),
} as const

export const monkdRoutes: Route[] = [
  { kind: 'peer', target: 'none', messages: peerMessages },
  { kind: 'runnable', target: 'required', messages: runnableMessages },
]

/** Reply shapes (what the CLI and scripts rely on). */
export interface PsRow {
  instance: string
  peer: string
  peerName: string
  status: 'running' | 'starting' | 'stopped' | 'failed'
  containers: Array<{ name: string, image: string, status: string }>
  error?: string
}

export interface PeerRow {
  id: string
  name: string
  tags: string[]
  alive: boolean
  addrs: string[]
}

export interface LoadReply {
  files: number
  loaded: string[]
  nodes: Record<string, number>
  errors: Array<{ code: string, message: string, file: string, line: number, column: number }>
  warnings: Array<{ code: string, message: string, file: string, line: number, column: number }>
}

export interface LogItem { time: string, stream: 'stdout' | 'stderr', container: string, text: string }

/** Every message the `peer` actor accepts, typed. */
export type PeerMessage = Infer<typeof peerMessages[keyof typeof peerMessages]>
/** Every message a `runnable/<instance>` actor accepts, typed. */
export type RunnableMessage = Infer<typeof runnableMessages[keyof typeof runnableMessages]>
