// Wires the Arrow checker into the loader (grammar/monkscript takes it as an option).
import type { ScriptChecker } from '../grammar/monkscript/index.js'

// TEMPORARY until grammar/arrow lands in this tree: loaded by name so the CLI builds without it.
export async function scriptChecker (): Promise<ScriptChecker | undefined> {
  const name = '../grammar/arrow/index.js'
  try {
    const mod = await import(name) as { checkScript?: ScriptChecker }
    return mod.checkScript
  } catch {
    return undefined
  }
}
