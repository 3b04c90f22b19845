// Operators of the spec §3.4 "Containers" table (reach the host).

import { ArrowError } from '../errors.js'
import { toS } from '../values.js'
import { type OpDef, callHost, hostOp1, hostOp2, popVariadic, then } from './types.js'

export const containerOperators: OpDef[] = [
  {
    name: 'exec', table: 'containers', effect: 'exec(container, cmd, args…) → (stdout Str)', inputs: 'custom',
    // Arguments go to the host as text, in both documented orders (container-first inside a runnable,
    // runnable-path-first in the docs); the host tells them apart (spec §8.11).
    run: (m, argc) => {
      const vals = popVariadic(m, 'exec', argc)
      if (vals.length < 2) throw new ArrowError('stack-underflow', `exec needs a container and a command, got ${vals.length} value${vals.length === 1 ? '' : 's'}`, { operator: 'exec' })
      return then(callHost(m, 'exec', 'exec', vals.map(toS)), v => { m.stack.push(v) })
    },
  },
  hostOp1('container-name', 'containers', 'container-name(c) → (Str)', 'containerName', 'a container name (string)'),
  hostOp2('container-domain-name', 'containers', 'container-domain-name(runnable, c) → (Str)', 'containerDomainName',
    ['a runnable path (string)', 'a container name (string)']),
]
