// Messages of a group actor (`group/<path>` on the control API: a group or process-group that is
// wanted). Answered on the peer that receives them: the members' state is in the local replica,
// member logs and actions are routed to the members' owners.
import * as v from 'valibot'
import type { Request } from '../kit/index.js'
import { message, name } from './fields.js'
import type { ActionInfo, LogItem } from './runnable.js'
import type { Describe, InstanceState } from './workload.js'

const args = v.optional(v.pipe(v.record(v.string(), v.unknown(), 'an object'), v.check(o => Object.keys(o).length <= 256, 'an object with at most 256 entries')))
const tail = v.optional(v.pipe(v.number('an integer'), v.integer('an integer from 0 to 1000000'), v.minValue(0, 'an integer from 0 to 1000000'), v.maxValue(1_000_000, 'an integer from 0 to 1000000')))

export const groupRequests = {
  'group.status': message('group.status', {}),
  'group.describe': message('group.describe', {}),
  'group.actions': message('group.actions', {}),
  'group.action': message('group.action', { action: name, args }),
  'group.logs': message('group.logs', { follow: v.optional(v.boolean('true or false')), tail }),
} as const

export type GroupRequest = v.InferOutput<typeof groupRequests[keyof typeof groupRequests]>

/**
 * A group's own state: `running` when every member runs and is ready, `failed` when a member
 * failed (which one, and why), `pending` while a member is on its way (which one, and what it
 * waits for), `stopped` when every member is stopped, `absent` when none is wanted.
 */
export type GroupState = 'running' | 'pending' | 'failed' | 'stopped' | 'absent'

export interface GroupMember {
  instance: string
  status: InstanceState | 'not placed' | null
  ready: boolean
  peerName: string | null
  waiting: string | null
  error: string | null
}

export interface GroupStatus {
  path: string
  state: GroupState
  /** One line for people: `running (3 of 3)`, `failed: t/web: image not found`, `pending: t/web waits for depends t/db`. */
  summary: string
  failed: { member: string, error: string } | null
  pending: { member: string, waiting: string } | null
  /** Members in start order (`depends` first, then list order). */
  order: string[]
  /** Members whose `depends` form a cycle (they wait on each other for ever). */
  cycles: string[]
  members: GroupMember[]
}

export interface GroupDescribe {
  path: string
  kind: string
  status: GroupStatus
  members: Describe[]
  actions: ActionInfo[]
}

/** A log line of a group: the member it came from, and the line. */
export interface GroupLogItem extends LogItem { member: string }

export interface GroupReplies {
  'group.status': GroupStatus
  'group.describe': GroupDescribe
  'group.actions': ActionInfo[]
  'group.action': { output: unknown }
  'group.logs': GroupLogItem
}

/** Inside the daemon: the group actor's requests (one per wire message, with replyTo). */
export type GroupMsg =
  | Request<'group.status', GroupStatus>
  | Request<'group.describe', GroupDescribe>
  | Request<'group.actions', ActionInfo[]>
  | Request<'group.action', { output: unknown }, { readonly action: string, readonly args: Readonly<Record<string, unknown>> }>
  | Request<'group.logs', AsyncIterable<GroupLogItem>, { readonly follow: boolean, readonly tail?: number, readonly signal: AbortSignal }>
