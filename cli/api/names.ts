// Actor targets that become parts of replica keys and directories (instance names such as
// `ns/app`): checked at the API with the mesh's own segment rule, so `runnable/..` is a 404 before
// any actor sees it (`..` once named $MONK_HOME itself). Body fields are checked by their message
// schemas (actors/messages/fields.ts `keyName`).
import { pathProblem } from '../../mesh/keys.js'

/** Why an actor target (an instance name such as `ns/app`) is unusable, or undefined. */
export function targetProblem (target: string): string | undefined {
  const problem = pathProblem(target)
  return problem && `the instance name ${JSON.stringify(target).slice(0, 200)} is not usable: ${problem}`
}
