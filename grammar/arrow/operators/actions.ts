// Operators of the spec §3.4 "Actions" table (reach the host).

import { MIN_WAIT_FOR_ATTEMPTS } from '../defaults.js'
import { ArrowError } from '../errors.js'
import type { Machine } from '../machine.js'
import { type ArrowObject, type ArrowValue, newObject, setMember } from '../values.js'
import { type OpDef, callHost, capability, hostError, name, num, popVariadic, str, then } from './types.js'

/** `k1, v1, k2, v2…` → an object of named arguments. */
function namedArgs (op: string, rest: ArrowValue[]): ArrowObject {
  if (rest.length % 2 !== 0) throw new ArrowError('bad-argument', `${op}: action arguments come in name, value pairs; got ${rest.length} values`, { operator: op })
  const args = newObject()
  for (let i = 0; i < rest.length; i += 2) setMember(args, name(op, rest[i] as ArrowValue, 'an argument name (string)'), rest[i + 1] as ArrowValue)
  return args
}

function actionPath (op: string, v: ArrowValue | undefined): string {
  if (v === undefined) throw new ArrowError('stack-underflow', `${op} needs an action path`, { operator: op })
  const p = str(op, v, 'an action path (string)')
  if (p === '') throw new ArrowError('bad-argument', `${op}: the action path is empty`, { operator: op })
  return p
}

async function retry (m: Machine, delay: number, attempts: number, path: string, args: ArrowObject): Promise<ArrowValue> {
  const act = capability(m, 'wait-for', 'act')
  let last: unknown
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await capability(m, 'wait-for', 'sleep')(delay)
    try {
      const v = await act(path, args)
      return v === undefined ? null : v
    } catch (e) { last = e }
  }
  throw new ArrowError('wait-for-timeout', `wait-for: action ${path} did not succeed in ${attempts} attempt${attempts === 1 ? '' : 's'}`,
    { operator: 'wait-for', cause: hostError('wait-for', last) })
}

export const actionOperators: OpDef[] = [
  {
    name: 'act', table: 'actions', effect: 'act(action-path, k1, v1, …) → (result)', inputs: 'custom',
    run: (m, argc) => {
      const [path, ...rest] = popVariadic(m, 'act', argc)
      const p = actionPath('act', path)
      const args = namedArgs('act', rest)
      return then(callHost(m, 'act', 'act', p, args), v => { m.stack.push(v) })
    },
  },
  {
    name: 'wait-for', table: 'actions', effect: 'wait-for(delay-ms, max-attempts, action-path, k, v, …) → (result)', inputs: 'custom',
    // Retries the action (through the host's `act`, waiting with its `sleep`) until one attempt does not fail.
    run: (m, argc) => {
      const vals = popVariadic(m, 'wait-for', argc)
      if (vals.length < 3) throw new ArrowError('stack-underflow', `wait-for needs a delay, an attempt count and an action path, got ${vals.length} value${vals.length === 1 ? '' : 's'}`, { operator: 'wait-for' })
      const [d, n, path, ...rest] = vals
      const delay = Math.max(0, Number(num('wait-for', d as ArrowValue)))
      const attempts = Math.max(MIN_WAIT_FOR_ATTEMPTS, Math.floor(Number(num('wait-for', n as ArrowValue))))
      const p = actionPath('wait-for', path)
      const args = namedArgs('wait-for', rest)
      capability(m, 'wait-for', 'act')
      return retry(m, delay, attempts, p, args).then(v => { m.stack.push(v) })
    },
  },
]
