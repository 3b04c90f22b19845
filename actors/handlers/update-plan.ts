// `monk update --dry-run`: what an update would change, from the replica alone. Each run/update
// records what it applied (`applied/<instance>`: the template value and the variables given); the
// plan compares that with the template as loaded now and the variables of this update, field by
// field, and names the containers an update replaces. Arrow values are compared as written: the
// owner compares evaluated specs when it starts (start.ts), so a value that evaluates the same
// keeps its container even if the plan lists it.
import type { MapValue, Value } from '../../grammar/monkscript/index.js'
import { isMap } from '../../grammar/monkscript/index.js'
import type { UpdatePlan } from '../messages/workload.js'
import { isObj } from '../values.js'

export const appliedKey = (instance: string): string => `applied/${instance}`

export interface Applied { value: MapValue, set: Record<string, string>, groups: MapValue[] }

export function encodeApplied (a: Applied): MapValue {
  return { value: a.value, set: { ...a.set }, groups: a.groups }
}

export function decodeApplied (v: unknown): Applied | undefined {
  if (!isObj(v) || !isObj(v.value)) return undefined
  const set: Record<string, string> = {}
  if (isObj(v.set)) for (const [k, x] of Object.entries(v.set)) if (typeof x === 'string') set[k] = x
  const groups = Array.isArray(v.groups) ? v.groups.filter(isObj) as MapValue[] : []
  return { value: v.value as MapValue, set, groups }
}

const show = (v: Value | undefined): string => {
  const s = JSON.stringify(v)
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

/** Field-level differences between two values: `~ a/b: old → new`, `+ a/c: new`, `- a/d: old`. */
export function diffValues (before: Value | undefined, after: Value | undefined, path = '', out: string[] = []): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return out
  if (isMap(before) && isMap(after)) {
    for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) diffValues(before[k], after[k], path === '' ? k : `${path}/${k}`, out)
    return out
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    for (let i = 0; i < Math.max(before.length, after.length); i++) diffValues(before[i], after[i], `${path}/${i}`, out)
    return out
  }
  if (before === undefined) out.push(`+ ${path}: ${show(after)}`)
  else if (after === undefined) out.push(`- ${path}: ${show(before)}`)
  else out.push(`~ ${path}: ${show(before)} → ${show(after)}`)
  return out
}

/** What updating `instance` from `applied` to the current definition would do. */
export function planUpdate (instance: string, applied: Applied | undefined, now: Applied, running: boolean): UpdatePlan {
  const containers = isMap(now.value.containers) ? Object.keys(now.value.containers) : []
  if (applied === undefined || !running) return { instance, action: 'start', replace: containers, keep: [], changes: [] }
  const changes = diffValues(applied.value, now.value)
  const setChanges = diffValues(applied.set, now.set).map(l => l.replace(/^(.) /, '$1 --set '))
  const groupChanges = diffValues(applied.groups, now.groups).map(l => l.replace(/^(.) /, '$1 group '))
  const all = [...changes, ...setChanges, ...groupChanges]
  // a change of variables, set values or group variables may reach any container (env, arrow values)
  const everything = setChanges.length > 0 || groupChanges.length > 0 || changes.some(l => /^. (variables|connections|depends)(\/|:)/.test(l))
  const filesOf = (c: string): boolean => {
    const files = isMap(now.value.files) ? now.value.files : {}
    const old = isMap(applied.value.files) ? applied.value.files : {}
    return changes.some(l => {
      const m = /^. files\/([^/:]+)/.exec(l)
      if (!m) return false
      const id = m[1] ?? ''
      const f = isMap(files[id]) ? files[id] : isMap(old[id]) ? old[id] : {}
      return f.container === c
    })
  }
  const replace = containers.filter(c => everything || filesOf(c) || changes.some(l => l.slice(2).startsWith(`containers/${c}/`) || l.slice(2).startsWith(`containers/${c}:`)))
  return { instance, action: all.length === 0 ? 'unchanged' : 'update', replace, keep: containers.filter(c => !replace.includes(c)), changes: all }
}
