// Messages of the workloads handler: run, update, restart, stop and purge a path (a runnable or a
// group), and list what runs. With `wait: true` the reply is a stream of WorkEvents that ends when
// the daemon says the work is done (running, stopped, gone) or failed: the CLI only renders them.
import * as v from 'valibot'
import { flag, int, message, name, path, tags, vars } from './fields.js'

/** Seconds the daemon watches a waited request before it ends the stream with a timeout. */
const timeout = v.pipe(v.number('a number of seconds'), v.minValue(0.001, 'a number of seconds from 0.001 to 86400'), v.maxValue(86_400, 'a number of seconds from 0.001 to 86400'))
const waited = { wait: v.optional(flag), timeout: v.optional(timeout) }
const runFields = { path, tags: v.optional(tags), peer: v.optional(name), set: v.optional(vars), forceMove: v.optional(flag), ...waited }

export const workloadRequests = {
  'workload.run': message('workload.run', runFields),
  /** `dryRun`: change nothing; the reply's `plan` says what an update would replace and why. */
  'workload.update': message('workload.update', { ...runFields, dryRun: v.optional(flag) }),
  /** A path, or every running instance (`all`), or those run with or placed on a tag (`tag`; with a path, only its instances). */
  'workload.stop': message('workload.stop', { path: v.optional(path), all: v.optional(flag), tag: v.optional(name), ...waited }),
  'workload.restart': message('workload.restart', { path, ...waited }),
  'workload.purge': message('workload.purge', { path, excise: v.optional(flag), ...waited }),
  /** `monk scale PATH N`: N replicas of a runnable (0 keeps the want but runs none). */
  'workload.scale': message('workload.scale', { path, replicas: int(0, 1000), ...waited }),
  'workload.ps': message('workload.ps', { all: v.optional(flag), peer: v.optional(name), tag: v.optional(name) }),
} as const

export type WorkloadRequest = v.InferOutput<typeof workloadRequests[keyof typeof workloadRequests]>
export type WorkRequest = Exclude<WorkloadRequest, { type: 'workload.ps' }>

export type InstanceState = 'starting' | 'running' | 'stopped' | 'failed'

export interface ContainerRow { name: string, image: string, status: string }

export interface PsRow {
  instance: string
  peer: string
  peerName: string
  status: InstanceState
  containers: ContainerRow[]
  /** Present when the instance has volumes on its owner. */
  volumes?: VolumeRow[]
  /** Why no peer runs it (placement's explanation), when none does. */
  waiting?: string
  error?: string
  /** Present for an entity instance (it has no containers): whether its readiness check passed. */
  entity?: { type: string, ready: boolean }
}

/** A volume on the owner: declared (`volumes`) or a `paths` bind; its directory and where it is mounted. */
export interface VolumeRow { name: string, host: string, mounts: string[], size: number | null, kind: string }

/** A published port of an instance (one spelling: a service endpoint from the status record). */
export interface PortRow { service: string, host: string, port: number }

/** A connection of an instance as its peer last published it (every few seconds): its local endpoint, target, where the last socket went, bytes and state. */
export interface ConnectionInfo {
  name: string
  /** host:port the instance reaches the target on (stays the same when the target moves). */
  endpoint: string
  target: string
  /** Peer id the last socket went to ('' before any). */
  peer: string
  peerName?: string
  state: 'idle' | 'open' | 'failing'
  bytesIn: number
  bytesOut: number
  active: number
  /** How the last socket's bytes went: 'raw' (a sealed socket to the target peer's p2p port), 'stream' (a libp2p stream, the fallback), 'local' (the target runs on this peer). */
  path?: 'raw' | 'stream' | 'local'
  lastError?: string
}

/** `runnable.describe` (answered from the local replica), and the rows of a run summary. */
export interface Describe {
  instance: string
  template: string | null
  /** The wanted state: run or stop; null when nothing is wanted (purged). */
  state: 'run' | 'stop' | null
  status: InstanceState | 'not placed' | null
  peer: string | null
  peerName: string | null
  /** The owner's runtime (`docker`, `process`), so a tree calls host processes processes; absent when unplaced. */
  runtime?: string
  containers: ContainerRow[]
  ports: PortRow[]
  /** The instance's connections through the overlay (present when it has any open). */
  connections?: ConnectionInfo[]
  /** Present when the instance has volumes on its owner. */
  volumes?: VolumeRow[]
  /** Recent events on the owner (liveness restarts), oldest first; present when there are any. */
  events?: Array<{ time: string, message: string }>
  ready: boolean
  error: string | null
  /** What a starting instance waits for (`depends ns/db`, `image busybox:1`, `readiness`). */
  waiting: string | null
  generation: number
  /** Present for an entity instance: its definition and persisted state (secret-looking fields masked), the last action and its output or error. */
  entity?: EntityDescribe
}

export interface EntityDescribe {
  type: string
  definition: Record<string, unknown>
  state: Record<string, unknown>
  created: boolean
  lastAction: string
  output: string[]
  error: string | null
  actions: string[]
}

export type Goal = 'running' | 'stopped' | 'gone'

/** Where an instance is on its way to the goal, as the daemon sees it in the replica. */
export type Phase = 'placing' | 'depends' | 'pulling' | 'readiness' | 'running' | 'stopping' | 'stopped' | 'removing' | 'gone' | 'failed'

export type WorkEvent =
  | { event: 'accepted', instances: string[], goal: Goal, skipped?: Skipped[] }
  | { event: 'phase', instance: string, phase: Phase, peer: string | null, peerName: string | null, detail: string }
  | { event: 'done', goal: Goal, instances: string[], describe: Describe[] }
  | { event: 'failed', code: 'run-failed' | 'timeout' | 'unplaceable', instance: string, message: string, describe: Describe[] }

/** What `update --dry-run` finds for one instance: start it, update it (replace, keep), or nothing. */
export interface UpdatePlan {
  instance: string
  action: 'start' | 'update' | 'unchanged'
  /** Containers an update replaces, and those it keeps. */
  replace: string[]
  keep: string[]
  /** Field-level differences from what was last applied: `~ path: old → new`, `+ path: v`, `- path: v`. */
  changes: string[]
}

/** A group member a run does not start, and why (entities, abstract nodes, members not loaded). */
export interface Skipped { path: string, kind: string, why: string }

export interface WorkReply { instances: string[], plan?: UpdatePlan[], skipped?: Skipped[] }

export interface WorkloadReplies {
  'workload.run': WorkReply
  'workload.update': WorkReply
  'workload.stop': WorkReply
  'workload.restart': WorkReply
  'workload.purge': WorkReply
  'workload.scale': WorkReply
  'workload.ps': PsRow[]
}
