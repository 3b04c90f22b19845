// Names that become parts of replica keys (template and instance paths, secret scopes and names):
// checked at the API with the mesh's own segment rule, so a bad name is a 400 naming the field
// before anything is written (DESIGN §3; `..` once named $MONK_HOME itself).
import { pathProblem } from '../../mesh/keys.js'
import { SchemaError } from './errors.js'
import type { Decoder } from './schema.js'

/** Wraps a string decoder: the decoded name (one leading `/` allowed) must be a usable key path. */
export function keyName (d: Decoder<string>, what: string): Decoder<string> {
  return {
    expected: d.expected,
    decode: (v, field) => {
      const s = d.decode(v, field)
      const problem = pathProblem(s.startsWith('/') ? s.slice(1) : s)
      if (problem !== undefined) throw new SchemaError(field, `field '${field}' must be ${what} with no empty, "." or ".." segment: ${problem}, got ${JSON.stringify(s).slice(0, 200)}`)
      return s
    },
  }
}

/** Why an actor target (an instance name such as `ns/app`) is unusable, or undefined. */
export function targetProblem (target: string): string | undefined {
  const problem = pathProblem(target)
  return problem && `the instance name ${JSON.stringify(target).slice(0, 200)} is not usable: ${problem}`
}
