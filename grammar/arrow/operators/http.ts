// Operators of the spec §3.4 "HTTP / RPC" table (all reach the host).

import { ArrowError } from '../errors.js'
import type { Machine } from '../machine.js'
import { type ArrowObject, type ArrowValue, isObject } from '../values.js'
import { type OpDef, callHost, name, popVariadic, str, then } from './types.js'

/** Pop an optional trailing options object: recognised by type, so call and postfix forms agree. */
function popOptions (m: Machine, op: string): ArrowObject | null {
  const st = m.stack
  if (st.length - m.floor >= 2 && isObject(st[st.length - 1] as ArrowValue)) return m.pop(op) as ArrowObject
  return null
}

export const httpOperators: OpDef[] = [
  {
    name: 'http-get', table: 'http', effect: 'http-get(url, opts?) → (body Str or nil)', inputs: 'custom', maxArgs: 2,
    run: m => {
      const opts = popOptions(m, 'http-get')
      const url = str('http-get', m.pop('http-get'), 'a URL (string)')
      return then(callHost(m, 'http-get', 'httpGet', url, opts), v => { m.stack.push(v) })
    },
  },
  {
    name: 'http-post', table: 'http', effect: '(body) http-post(url, opts?) → (body or nil)', inputs: 'custom', maxArgs: 2,
    run: m => {
      const opts = popOptions(m, 'http-post')
      const url = str('http-post', m.pop('http-post'), 'a URL (string)')
      const body = m.pop('http-post')
      return then(callHost(m, 'http-post', 'httpPost', url, body, opts), v => { m.stack.push(v) })
    },
  },
  {
    name: 'http-get-service', table: 'http', effect: 'http-get-service(runnable, service, path) → (Obj)', inputs: 3,
    run: (r, s, p, m) => callHost(m, 'http-get-service', 'httpGetService',
      name('http-get-service', r, 'a runnable path (string)'), name('http-get-service', s, 'a service name (string)'), str('http-get-service', p, 'a path (string)')),
  },
  {
    name: 'rpc-call', table: 'http', effect: '(url) rpc-call(method, args…) → (any)', inputs: 'custom',
    // Call form: the URL comes from the stack, then the method and the arguments from the call.
    run: (m, argc) => {
      const vals = popVariadic(m, 'rpc-call', argc === null || argc === 0 ? null : argc + 1)
      if (vals.length < 2) throw new ArrowError('stack-underflow', `rpc-call needs a URL and a method, got ${vals.length} value${vals.length === 1 ? '' : 's'}`, { operator: 'rpc-call' })
      const [url, method, ...args] = vals
      return then(callHost(m, 'rpc-call', 'rpcCall', str('rpc-call', url as ArrowValue, 'a URL (string)'), name('rpc-call', method as ArrowValue, 'a method name (string)'), args),
        v => { m.stack.push(v) })
    },
  },
]
