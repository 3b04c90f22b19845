// The values the replica holds: plain JSON-like data plus byte strings, encodable deterministically.

/** A replicated value. No undefined, NaN, Infinity, Map, Date or class instances. */
export type Value = null | boolean | number | string | Uint8Array | Value[] | { [key: string]: Value }

/** Why `value` cannot be replicated, or undefined if it can. */
export function valueProblem (value: unknown, maxDepth: number): string | undefined {
  return walk(value, maxDepth, '')
}

function walk (v: unknown, depth: number, path: string): string | undefined {
  if (depth < 0) return `nested deeper than allowed at ${path || 'the root'}`
  switch (typeof v) {
    case 'string': case 'boolean': return undefined
    case 'number': return Number.isFinite(v) ? undefined : `${path || 'value'} is ${String(v)}, not a finite number`
    case 'object': {
      if (v === null || v instanceof Uint8Array) return undefined
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const p = walk(v[i], depth - 1, `${path}[${i}]`)
          if (p) return p
        }
        return undefined
      }
      const proto = Object.getPrototypeOf(v) as unknown
      if (proto !== Object.prototype && proto !== null) return `${path || 'value'} is a ${(v as object).constructor?.name ?? 'non-plain object'}, not a plain object`
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        // harmless as decoded data, but Object.assign or a naive merge downstream would turn it into a prototype
        if (k === '__proto__') return `${path || 'value'} has a __proto__ key`
        const p = walk(item, depth - 1, path ? `${path}.${k}` : k)
        if (p) return p
      }
      return undefined
    }
    default: return `${path || 'value'} is ${typeof v}, which cannot be replicated`
  }
}
