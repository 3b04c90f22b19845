// `monk update --dry-run`: what an update would change, from the replica alone. Each run/update
// records what it applied (`applied/<instance>`: the template value and the variables given); the
// plan compares that with the template as loaded now and the variables of this update, field by
// field, and names the containers an update replaces. Arrow values are compared as written: the
// owner compares evaluated specs when it starts (start.ts), so a value that evaluates the same
// keeps its container even if the plan lists it.
import type { MapValue, Value } from '../../grammar/monkscript/index.js'
import { isMap } from '../../grammar/monkscript/index.js'
import type { UpdatePlan } from '../messages/workload.js'
import type { Evaluated } from './update-eval.js'
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

/** What updating `instance` from `applied` to the current definition would do (`evaluated`: both sides evaluated). */
export function planUpdate (instance: string, applied: Applied | undefined, now: Applied, running: boolean, evaluated?: { before: Evaluated, after: Evaluated }): UpdatePlan {
  const containers = isMap(now.value.containers) ? Object.keys(now.value.containers) : []
  if (applied === undefined || !running) return { instance, action: 'start', replace: containers, keep: [], changes: [] }
  const written = diffValues(applied.value, now.value)
  const setChanges = diffValues(applied.set, now.set).map(l => l.replace(/^(.) /, '$1 --set '))
  const groupChanges = diffValues(applied.groups, now.groups).map(l => l.replace(/^(.) /, '$1 group '))
  const under = (l: string, part: string, name?: string): boolean => {
    const rest = l.slice(2)
    return name === undefined ? rest.startsWith(`${part}/`) || rest.startsWith(`${part}:`) : rest.startsWith(`${part}/${name}/`) || rest.startsWith(`${part}/${name}:`)
  }
  // the part of the definition under `part/name`, compared evaluated when both sides could be, else as written
  const compare = (part: 'variables' | 'containers' | 'files', name: string): string[] => {
    const b = evaluated?.before[part][name]
    const a = evaluated?.after[part][name]
    if (evaluated !== undefined && b !== null && a !== null) return diffValues(b as Value | undefined, a as Value | undefined, `${part}/${name}`)
    return written.filter(l => under(l, part, name))
  }
  // variables: only those changed as written (a --set or group change is listed as such); their
  // evaluated values drop a rewrite that means the same. Containers and files: every one, so an
  // environment changed by a --set shows where it lands.
  const namesOf = (part: 'variables' | 'containers' | 'files'): string[] => {
    const fromWritten = written.filter(l => under(l, part)).map(l => l.slice(2 + part.length + 1).split(/[/:]/)[0] ?? '')
    const fromEval = evaluated && part !== 'variables' ? [...Object.keys(evaluated.before[part]), ...Object.keys(evaluated.after[part])] : []
    return [...new Set([...fromWritten, ...fromEval])].filter(n => n !== '').sort()
  }
  const byPart = (part: 'variables' | 'containers' | 'files'): Map<string, string[]> => new Map(namesOf(part).map(n => [n, compare(part, n)]))
  const vars = byPart('variables')
  const cons = byPart('containers')
  const files = byPart('files')
  const other = written.filter(l => !under(l, 'variables') && !under(l, 'containers') && !under(l, 'files'))
  const changes = [...other, ...[...vars.values()].flat(), ...[...cons.values()].flat(), ...[...files.values()].flat(), ...setChanges, ...groupChanges]
  // as written, a change of variables, set values or group values may reach any container (env,
  // Arrow values); evaluated, the containers' own comparison says it. connections and depends
  // always replace everything (what they feed is resolved on the owner).
  const everything = other.some(l => /^. (connections|depends)(\/|:)/.test(l)) ||
    (evaluated === undefined && (setChanges.length > 0 || groupChanges.length > 0 || written.some(l => under(l, 'variables'))))
  const fileOf = (id: string): string | undefined => {
    for (const side of [evaluated?.after.files[id], evaluated?.before.files[id]]) if (isObj(side) && typeof side.container === 'string') return side.container
    for (const v of [now.value.files, applied.value.files]) {
      const f = isMap(v) && isMap(v[id]) ? v[id] : undefined
      if (f !== undefined && typeof f.container === 'string') return f.container
    }
    return undefined
  }
  const replace = containers.filter(c => everything || (cons.get(c) ?? []).length > 0 || [...files].some(([id, lines]) => lines.length > 0 && (fileOf(id) ?? containers[0]) === c))
  return { instance, action: changes.length === 0 ? 'unchanged' : 'update', replace, keep: containers.filter(c => !replace.includes(c)), changes }
}
