// Text trees (the run summary of spec §4.1): each node a label, children drawn with box lines.

export interface TreeNode {
  readonly label: string
  readonly children?: readonly TreeNode[]
}

/** Renders top-level nodes flush left and their descendants under `├─`/`└─` branches. */
export function renderTree (roots: readonly TreeNode[]): string {
  const out: string[] = []
  const walk = (node: TreeNode, prefix: string, last: boolean, top: boolean): void => {
    out.push(top ? node.label : `${prefix}${last ? '└─ ' : '├─ '}${node.label}`)
    const kids = node.children ?? []
    const next = top ? '' : prefix + (last ? '   ' : '│  ')
    kids.forEach((k, i) => walk(k, next, i === kids.length - 1, false))
  }
  for (const r of roots) walk(r, '', true, true)
  return out.length ? out.join('\n') + '\n' : ''
}
