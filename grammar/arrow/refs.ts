// The variables a script reads (`$name`, `${name}`), for load-time checks of names that nothing
// defines. A read followed by `default` (`$x default("y")`, `$x "y" default`) is marked covered:
// that idiom expects the variable may be missing.
import type { Body, Term } from './ast.js'
import { ArrowError } from './errors.js'
import { parseScript, type ScriptKind } from './parse.js'

export interface VariableRead { name: string, offset: number, defaulted: boolean }

/** Variables read by `source`; [] when it does not parse (the syntax error is reported elsewhere). */
export function variableReads (source: string, kind: ScriptKind): VariableRead[] {
  let body: Body
  try { body = parseScript(source, kind).body } catch (e) { if (e instanceof ArrowError) return []; throw e }
  const out: VariableRead[] = []
  walkBody(body, out)
  return out
}

const isDefault = (t: Term | undefined, call: boolean): boolean => t?.type === 'op' && t.name === 'default' && (t.args !== null) === call

function walkBody (body: Body, out: VariableRead[]): void {
  body.forEach((t, i) => {
    if (t.type === 'var') out.push({ name: t.name, offset: t.loc.start, defaulted: isDefault(body[i + 1], true) || isDefault(body[i + 2], false) })
    else walkTerm(t, out)
  })
}

function walkTerm (t: Term, out: VariableRead[]): void {
  switch (t.type) {
    case 'template':
      for (const p of t.parts) {
        if (typeof p === 'string') continue
        if (p.type === 'var') out.push({ name: p.name, offset: p.loc.start, defaulted: false })
        else walkBody(p.body, out)
      }
      return
    case 'array': for (const b of t.items) walkBody(b, out); return
    case 'object':
      for (const e of t.entries) {
        if (e.key.type === 'var') out.push({ name: e.key.name, offset: e.key.loc.start, defaulted: false })
        walkBody(e.value, out)
      }
      return
    case 'func': walkBody(t.body, out); return
    case 'op': for (const b of t.args ?? []) walkBody(b, out); return
    default:
  }
}
