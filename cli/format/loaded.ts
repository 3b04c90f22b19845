// The summary line of `monk lint` and `monk load`: `Loaded 2 runnables and 1 group in 1 file with
// 0 errors and 1 warning` (kinds with 0 left out, singular and plural words right).

const kindNames: Array<[string, string, string]> = [
  ['runnable', 'runnable', 'runnables'], ['process-group', 'process group', 'process groups'], ['group', 'group', 'groups'],
  ['service', 'service', 'services'], ['entity', 'entity', 'entities'], ['entity-instance', 'entity instance', 'entity instances'],
  ['module', 'module', 'modules'], ['abstract', 'abstract node', 'abstract nodes'],
]

/** `N word` or `N words`. */
export function count (x: number, word: string): string {
  return `${x} ${word}${x === 1 ? '' : 's'}`
}

export function loadedLine (nodes: Readonly<Record<string, number>>, files: number, errors: number, warnings: number): string {
  const parts = kindNames.filter(([k]) => (nodes[k] ?? 0) > 0).map(([k, one, many]) => `${nodes[k]} ${nodes[k] === 1 ? one : many}`)
  const what = parts.length === 0 ? 'nothing' : parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]!}`
  return `Loaded ${what} in ${count(files, 'file')} with ${count(errors, 'error')} and ${count(warnings, 'warning')}`
}
