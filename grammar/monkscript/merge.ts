// Inheritance merge rules (spec §2.4): maps deep-merge, scalars replace, lists merge by index,
// an empty child list clears, and a scalar over a variable spec replaces only its `value`.
import type { MapValue, Value } from './types.js'

export function isMap (v: Value | undefined): v is MapValue {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Overlays `child` on `parent` and returns the result; neither input is modified (subtrees that
 * one side alone provides are shared, so treat results as immutable).
 * `variableSpec` is true when both sides are the spec of one variable (`variables.<name>`).
 */
export function merge (parent: Value | undefined, child: Value, variableSpec = false): Value {
  if (parent === undefined) return child
  if (isMap(child)) {
    if (!isMap(parent)) return child
    const out: MapValue = { ...parent }
    for (const key of Object.keys(child)) {
      const c = child[key] as Value
      const p = Object.prototype.hasOwnProperty.call(parent, key) ? parent[key] : undefined
      setKey(out, key, merge(p, c))
    }
    return out
  }
  if (Array.isArray(child)) {
    if (!Array.isArray(parent) || child.length === 0) return child
    const out = parent.slice()
    child.forEach((c, i) => { out[i] = i < parent.length ? merge(parent[i], c) : c })
    return out
  }
  // A scalar over a full variable spec sets its value and keeps type, env, description (spec §2.6).
  if (variableSpec && isMap(parent) && child !== null && ('value' in parent || 'type' in parent || 'env' in parent)) {
    const out: MapValue = { ...parent }
    setKey(out, 'value', child)
    return out
  }
  return child
}

/** Merges a `variables` map: like `merge`, but each entry is merged as a variable spec. */
export function mergeVariables (parent: Value | undefined, child: Value): Value {
  if (!isMap(parent) || !isMap(child)) return merge(parent, child)
  const out: MapValue = { ...parent }
  for (const key of Object.keys(child)) {
    const p = Object.prototype.hasOwnProperty.call(parent, key) ? parent[key] : undefined
    setKey(out, key, merge(p, child[key] as Value, true))
  }
  return out
}

/** Deep merge of a whole node, applying the variable-spec rule to every `variables` map at any depth. */
export function mergeNode (parent: Value | undefined, child: Value): Value {
  if (parent === undefined) return child
  if (!isMap(child) || !isMap(parent)) return merge(parent, child)
  const out: MapValue = { ...parent }
  for (const key of Object.keys(child)) {
    const c = child[key] as Value
    const p = Object.prototype.hasOwnProperty.call(parent, key) ? parent[key] : undefined
    let v: Value
    if (key === 'variables') v = mergeVariables(p, c)
    else if (isMap(c) && isMap(p)) v = mergeNode(p, c)
    else v = merge(p, c)
    setKey(out, key, v)
  }
  return out
}

/** Sets a key as plain data (a `__proto__` key stays a key). */
export function setKey (obj: MapValue, key: string, value: Value): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
  else obj[key] = value
}
