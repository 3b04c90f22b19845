// Messages of a runnable actor (`runnable/<instance>` on the control API; forwarded to the owner
// over `/monk/actor/1` when the work lives on another peer). Owned by the runnable rewrite (A2).
import * as v from 'valibot'
import { list, message, name, text } from './fields.js'
import type { Describe } from './workload.js'

export const runnableRequests = {
  'runnable.describe': message('runnable.describe', {}),
  'runnable.actions': message('runnable.actions', {}),
  'runnable.action': message('runnable.action', { action: name, args: v.optional(v.pipe(v.record(v.string(), v.unknown(), 'an object'), v.check(o => Object.keys(o).length <= 256, 'an object with at most 256 entries'))) }),
  'runnable.exec': message('runnable.exec', { cmd: list(v.string('a string'), 1, 4096), container: v.optional(name) }),
  'runnable.logs': message('runnable.logs', { follow: v.optional(v.boolean('true or false')), tail: v.optional(v.pipe(v.number('an integer'), v.integer('an integer from 0 to 1000000'), v.minValue(0, 'an integer from 0 to 1000000'), v.maxValue(1_000_000, 'an integer from 0 to 1000000'))), container: v.optional(name) }),
  /** Peer to peer only (`/monk/actor/1`): one page of an owner's logs. */
  'runnable.logs-page': message('runnable.logs-page', { tail: v.optional(v.number()), since: v.optional(text(1, 64)), container: v.optional(name) }),
} as const

export type RunnableRequest = v.InferOutput<typeof runnableRequests[keyof typeof runnableRequests]>

export interface LogItem { time: string, stream: 'stdout' | 'stderr', container: string, text: string }
export interface ActionInfo { name: string, description: string, arguments: Record<string, unknown> }
export interface ExecReply { exitCode: number, stdout: string, stderr: string }

export interface RunnableReplies {
  'runnable.describe': Describe
  'runnable.actions': ActionInfo[]
  'runnable.action': { output: unknown }
  'runnable.exec': ExecReply
  'runnable.logs': LogItem
  'runnable.logs-page': LogItem[]
}
