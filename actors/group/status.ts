// A group's start order and its own status, as pure functions of its members: the order from
// `depends` among the members (list order where depends says nothing), and the aggregate of the
// members' states (running / failed with which member / pending with what it waits for).
import type { GroupMember, GroupStatus } from '../messages/group.js'

export interface MemberDecl {
  /** Instance (= runnable template) path. */
  path: string
  /** `depends.wait-for` targets of the member. */
  depends: readonly string[]
}

/**
 * Members in start order: every member after the members it depends on (targets outside the
 * group are ignored), ties in list order. Members in a `depends` cycle come last, in list order.
 */
export function startOrder (members: readonly MemberDecl[]): { order: string[], cycles: string[] } {
  const inGroup = new Set(members.map(m => m.path))
  const waitsOn = new Map(members.map(m => [m.path, new Set(m.depends.filter(d => inGroup.has(d) && d !== m.path))]))
  const order: string[] = []
  const done = new Set<string>()
  for (;;) {
    const next = members.find(m => !done.has(m.path) && [...(waitsOn.get(m.path) ?? [])].every(d => done.has(d)))
    if (next === undefined) break
    order.push(next.path)
    done.add(next.path)
  }
  const cycles = members.filter(m => !done.has(m.path)).map(m => m.path)
  return { order: [...order, ...cycles], cycles }
}

/** The group's own status from its members' rows (`members` in any order; `order` from startOrder). */
export function aggregate (path: string, members: readonly GroupMember[], order: readonly string[], cycles: readonly string[] = []): GroupStatus {
  const byPath = new Map(members.map(m => [m.instance, m]))
  const ordered = [...order.map(p => byPath.get(p)).filter((m): m is GroupMember => m !== undefined), ...members.filter(m => !order.includes(m.instance))]
  const base = { path, order: [...order], cycles: [...cycles], members: ordered }
  const wanted = ordered.filter(m => m.status !== null)
  if (wanted.length === 0) return { ...base, state: 'absent', summary: `${path} is not running`, failed: null, pending: null }
  const bad = ordered.find(m => m.status === 'failed')
  if (bad !== undefined) {
    const error = bad.error ?? 'failed'
    return { ...base, state: 'failed', summary: `failed: ${bad.instance}: ${error}`, failed: { member: bad.instance, error }, pending: null }
  }
  if (ordered.every(m => m.status === 'stopped')) return { ...base, state: 'stopped', summary: `stopped (${ordered.length} of ${ordered.length})`, failed: null, pending: null }
  const up = ordered.filter(m => m.status === 'running' && m.ready)
  if (up.length === ordered.length) return { ...base, state: 'running', summary: `running (${up.length} of ${ordered.length})`, failed: null, pending: null }
  const next = ordered.find(m => !(m.status === 'running' && m.ready)) as GroupMember
  const waiting = next.status === null
    ? 'not wanted (run the group again)'
    : next.status === 'stopped'
      ? 'stopped'
      : next.status === 'not placed' ? 'a peer to start it' : next.waiting ?? (next.status === 'running' ? 'readiness' : 'starting')
  const cyc = cycles.includes(next.instance) ? ` (depends cycle: ${cycles.join(', ')})` : ''
  return { ...base, state: 'pending', summary: `pending: ${next.instance} waits for ${waiting}${cyc} (${up.length} of ${ordered.length} running)`, failed: null, pending: { member: next.instance, waiting } }
}
