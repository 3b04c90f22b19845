// Turns an operator definition into a machine instruction: pops its inputs (checking the current
// frame), runs it, pushes the result — or, for a result that is a promise, pushes it when it settles.

import type { Instr, Machine } from './machine.js'
import { underflow } from './machine.js'
import type { OpDef, Result } from './operators/types.js'
import type { ArrowValue } from './values.js'

function push (m: Machine, r: Result): void | Promise<void> {
  if (r instanceof Promise) return r.then(v => { m.stack.push(v) })
  m.stack.push(r)
}

/**
 * The instruction for `def` written as `name` (an alias keeps its own name in messages). `argc` is the
 * number of call arguments (null for the postfix form); the arguments themselves were pushed before.
 */
export function opInstr (def: OpDef, name: string, argc: number | null): Instr {
  switch (def.inputs) {
    case 0: {
      const f = def.run
      return m => push(m, f(m))
    }
    case 1: {
      const f = def.run
      return m => {
        const st = m.stack
        if (st.length - m.floor < 1) throw underflow(name, 1, st.length - m.floor)
        const a = st.pop() as ArrowValue
        return push(m, f(a, m))
      }
    }
    case 2: {
      const f = def.run
      return m => {
        const st = m.stack
        if (st.length - m.floor < 2) throw underflow(name, 2, st.length - m.floor)
        const b = st.pop() as ArrowValue
        const a = st.pop() as ArrowValue
        return push(m, f(a, b, m))
      }
    }
    case 3: {
      const f = def.run
      return m => {
        const st = m.stack
        if (st.length - m.floor < 3) throw underflow(name, 3, st.length - m.floor)
        const c = st.pop() as ArrowValue
        const b = st.pop() as ArrowValue
        const a = st.pop() as ArrowValue
        return push(m, f(a, b, c, m))
      }
    }
    case 'custom': {
      const f = def.run
      return m => f(m, argc)
    }
  }
}
