// Every request and reply of monk, and THE table saying which actor handles each message type.
// The control API (cli/api), the `/monk/actor/1` protocol (actors/cluster/remote.ts) and the CLI
// import these types; the daemon routes by `handlerOf`. Schemas are valibot (small, tree-shaken):
// the CLI imports only types from here (`import type`), so `monk` never builds a schema at start.
import type * as v from 'valibot'
import { cloudRequests, type CloudReplies, type CloudRequest } from './cloud.js'
import { clusterRequests, type ClusterReplies, type ClusterRequest } from './cluster.js'
import { runnableRequests, type LogItem, type RunnableReplies, type RunnableRequest } from './runnable.js'
import { secretRequests, type SecretsReplies, type SecretsRequest } from './secrets.js'
import { templateRequests, type TemplatesReplies, type TemplatesRequest } from './templates.js'
import { workloadRequests, type WorkEvent, type WorkloadReplies, type WorkloadRequest } from './workload.js'
import type { GrowEvent } from './grow.js'
import { groupRequests, type GroupLogItem, type GroupReplies, type GroupRequest } from './group.js'
import { UnknownMessageError } from './decode.js'

/**
 * Which actor handles which messages: one row per actor, one key per message type. Adding a
 * message = adding it to its actor's file; adding an actor = one row here and its handlers.
 */
export const messageTable = {
  cluster: clusterRequests,
  templates: templateRequests,
  workloads: workloadRequests,
  secrets: secretRequests,
  cloud: cloudRequests,
  runnable: runnableRequests,
  group: groupRequests,
} as const

export type ActorKind = keyof typeof messageTable
export type Request = ClusterRequest | TemplatesRequest | WorkloadRequest | SecretsRequest | CloudRequest | RunnableRequest | GroupRequest
export type RequestType = Request['type']
/** Messages to the `peer` path of the control API (everything but an instance's own). */
export type PeerMessage = Exclude<Request, RunnableRequest | GroupRequest>
/** Messages to `runnable/<instance>`. */
export type RunnableMessage = RunnableRequest
/** Messages to `group/<path>`. */
export type GroupMessage = GroupRequest
export type RequestOf<T extends RequestType> = Extract<Request, { type: T }>
/** The message types an actor kind handles. */
export type TypesOf<A extends ActorKind> = keyof typeof messageTable[A] & RequestType

/** The reply of each message type (for a stream: see StreamOf). */
export type Replies = ClusterReplies & TemplatesReplies & WorkloadReplies & SecretsReplies & CloudReplies & RunnableReplies & GroupReplies
export type ReplyOf<T extends RequestType> = Replies[T]

/** Messages whose reply can be a stream (NDJSON on the control API), and the items streamed. */
export interface Streams {
  'workload.run': WorkEvent
  'workload.update': WorkEvent
  'workload.restart': WorkEvent
  'workload.stop': WorkEvent
  'workload.purge': WorkEvent
  'workload.scale': WorkEvent
  /** A group's path streams its members' lines, each with its `member`. */
  'runnable.logs': LogItem | GroupLogItem
  'cluster.grow': GrowEvent
  'cluster.shrink': GrowEvent
  'cluster.peer-remove': GrowEvent
  'group.logs': GroupLogItem
}
export type StreamOf<T extends RequestType> = T extends keyof Streams ? Streams[T] : never

/** What a handler of message type T returns: its reply, or (stream types) a stream, possibly promised. */
export type Answer<T extends RequestType> = T extends keyof Streams
  ? Promise<ReplyOf<T> | AsyncIterable<Streams[T]>> | AsyncIterable<Streams[T]>
  : Promise<ReplyOf<T>>

export interface HandlerContext {
  /** `ns/app` for `runnable/ns/app`; undefined for peer-level messages. */
  readonly target: string | undefined
  /** Aborted when the asker goes away: streams stop then. */
  readonly signal: AbortSignal
}

/** A handler of message type T (declared as a method so the table can hold every handler under one type). */
export type Handler<T extends RequestType> = { handle (msg: RequestOf<T>, ctx: HandlerContext): Answer<T> }['handle']
/** The handlers of one actor kind: exactly its message types, each typed. */
export type Handlers<A extends ActorKind> = { readonly [T in TypesOf<A>]: Handler<T> }

const byType = new Map<string, ActorKind>()
for (const [actor, requests] of Object.entries(messageTable)) {
  for (const type of Object.keys(requests)) {
    if (byType.has(type)) throw new Error(`message ${type} is handled twice`)
    byType.set(type, actor as ActorKind)
  }
}

/** The actor kind that handles a message type, or undefined for an unknown type. */
export function handlerOf (type: string): ActorKind | undefined {
  return byType.get(type)
}

/** The request schema of a message type, or undefined. */
export function schemaOf (type: string): v.GenericSchema | undefined {
  const actor = byType.get(type)
  if (actor === undefined) return undefined
  const requests: Readonly<Record<string, v.GenericSchema>> = messageTable[actor]
  return requests[type]
}

/** Every actor's handlers: what a daemon (or a test's stand-in) serves. */
export type AllHandlers = { readonly [A in ActorKind]: Handlers<A> }

/** Delivers a decoded message to the handler the table names; unknown types are an `unknown-type` error. */
export function dispatch (all: AllHandlers, msg: Request, ctx: HandlerContext): Answer<RequestType> {
  const actor = handlerOf(msg.type)
  if (actor === undefined) throw new UnknownMessageError('monkd', msg.type, [...byType.keys()])
  const handlers: Readonly<Record<string, Handler<RequestType>>> = all[actor]
  const h = handlers[msg.type]
  if (h === undefined) throw new UnknownMessageError(actor, msg.type, Object.keys(handlers))
  return h(msg, ctx)
}

/** The message types of some actor kinds (for an API route). */
export function typesOf (actors: readonly ActorKind[]): string[] {
  return [...byType].filter(([, a]) => actors.includes(a)).map(([t]) => t)
}

export type * from './cluster.js'
export type * from './templates.js'
export type * from './workload.js'
export type * from './secrets.js'
export type * from './cloud.js'
export type * from './runnable.js'
export type * from './grow.js'
export type * from './group.js'
export { MessageError, UnknownMessageError, decodeWith } from './decode.js'
