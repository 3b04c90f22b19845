// Arrow values of a definition evaluated (`<-` strings run, lists without nils): what the owner
// builds containers from (start.ts), and what `update --dry-run` compares (handlers/update-plan.ts).
import { compile, toPlain } from '../../grammar/arrow/index.js'
import type { Value } from '../../grammar/monkscript/index.js'
import type { ScopeVars } from '../../grammar/monkscript/variables.js'

/** Container fields with every Arrow value evaluated (lists keep order; nil items are dropped). */
export async function evaluateFields (fields: Record<string, Value>, vars: ScopeVars): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields)) out[k] = await evaluateValue(v, vars)
  return out
}

export async function evaluateValue (v: Value, vars: ScopeVars): Promise<unknown> {
  if (typeof v === 'string' && v.trimStart().startsWith('<-')) return toPlain(await compile(v, 'value').run({ ...vars.ctx, vars }))
  if (Array.isArray(v)) {
    const out: unknown[] = []
    for (const x of v) { const e = await evaluateValue(x, vars); if (e !== null && e !== undefined) out.push(e) }
    return out
  }
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) out[k] = await evaluateValue(x, vars)
    return out
  }
  return v
}
