// Messages of a runnable actor (`runnable/<instance>` on the control API; forwarded to the owner
// over `/monk/actor/1` when the work lives on another peer). Owned by the runnable rewrite (A2).
import * as v from 'valibot'
import { list, message, name, text } from './fields.js'
import type { Describe } from './workload.js'
import type { GroupDescribe } from './group.js'
import type { Request } from '../kit/index.js'
import type { Assignment } from '../runnable/decide.js'

export const runnableRequests = {
  'runnable.describe': message('runnable.describe', {}),
  'runnable.actions': message('runnable.actions', {}),
  'runnable.action': message('runnable.action', { action: name, args: v.optional(v.pipe(v.record(v.string(), v.unknown(), 'an object'), v.check(o => Object.keys(o).length <= 256, 'an object with at most 256 entries'))) }),
  /** `stdin`: the command's whole input (`monk exec -i`, read before sending), at most 1 MiB; without it the command reads nothing. */
  'runnable.exec': message('runnable.exec', { cmd: list(v.string('a string'), 1, 4096), container: v.optional(name), stdin: v.optional(v.pipe(v.string('a string'), v.maxLength(1 << 20, 'at most 1 MiB of input'))) }),
  'runnable.logs': message('runnable.logs', { follow: v.optional(v.boolean('true or false')), tail: v.optional(v.pipe(v.number('an integer'), v.integer('an integer from 0 to 1000000'), v.minValue(0, 'an integer from 0 to 1000000'), v.maxValue(1_000_000, 'an integer from 0 to 1000000'))), container: v.optional(name) }),
  /** Peer to peer only (`/monk/actor/1`): one page of an owner's logs. */
  'runnable.logs-page': message('runnable.logs-page', { tail: v.optional(v.number()), since: v.optional(text(1, 64)), container: v.optional(name) }),
} as const

export type RunnableRequest = v.InferOutput<typeof runnableRequests[keyof typeof runnableRequests]>

export interface LogItem { time: string, stream: 'stdout' | 'stderr', container: string, text: string }
export interface ActionInfo { name: string, description: string, arguments: Record<string, unknown> }
export interface ExecReply { exitCode: number, stdout: string, stderr: string }

export interface RunnableReplies {
  /** An instance's Describe; sent to a group's path, the group's (it has `members`). */
  'runnable.describe': Describe | GroupDescribe
  'runnable.actions': ActionInfo[]
  'runnable.action': { output: unknown }
  'runnable.exec': ExecReply
  'runnable.logs': LogItem
  'runnable.logs-page': LogItem[]
}

// ---- inside the daemon: the runnable actor's own vocabulary (actors/runnable/actor.ts) ----
// Commands in the imperative, facts in the past tense; no closures. Requests carry `replyTo`.

/** The log streams of the owner's containers, one per container (local only: never on the wire). */
export type LogStreams = Array<{ container: string, stream: AsyncIterable<{ time: Date, stream: 'stdout' | 'stderr', text: string }> & { close: () => void } }>

/** What the actor reports of itself (`runnable.status`): its phase and what it waits for. */
export interface RunnableView { instance: string, phase: string, waiting: string | null, error: string | null, failures: number, retryAt: number, ready: boolean }

export type RunnableMsg =
  /** Placement: this peer's part for the instance (owner or not, run/stop/purge). */
  | { readonly type: 'runnable.assign', readonly assignment: Assignment }
  /** Look again at the containers and the replica (the peer's tick, or a wake-up the actor set). */
  | { readonly type: 'runnable.tick' }
  /** Something a failed start may have waited for changed (a secret grant): retry now instead of after the backoff. */
  | { readonly type: 'runnable.nudge' }
  | { readonly type: 'runnable.start-blocked', readonly op: number, readonly waiting: string }
  /** Facts from the start pipeline and readiness attempts (`op` says which). */
  | { readonly type: 'runnable.started', readonly op: number }
  | { readonly type: 'runnable.start-failed', readonly op: number, readonly error: string }
  | { readonly type: 'runnable.progressed', readonly op: number, readonly waiting: string }
  | { readonly type: 'runnable.checked', readonly op: number, readonly ready: boolean, readonly detail: string }
  | { readonly type: 'runnable.live-checked', readonly op: number, readonly alive: boolean, readonly detail: string }
  | Request<'runnable.action', { output: unknown }, { readonly action: string, readonly args: Readonly<Record<string, unknown>> }>
  | Request<'runnable.exec', ExecReply, { readonly cmd: readonly string[], readonly container?: string, readonly stdin?: string }>
  | Request<'runnable.logs-page', LogItem[], { readonly tail?: number, readonly since?: string, readonly container?: string }>
  | Request<'runnable.logs', LogStreams, { readonly follow: boolean, readonly tail?: number, readonly container?: string }>
  | Request<'runnable.actions', ActionInfo[]>
  | Request<'runnable.status', RunnableView>
