// Wires the Arrow checker into the loader (grammar/monkscript takes it as an option).
import { checkScript } from '../grammar/arrow/index.js'
import type { ScriptChecker } from '../grammar/monkscript/index.js'

export function scriptChecker (): ScriptChecker {
  return checkScript
}
