// Aligned text tables for list commands (ps, list, peers, secrets): a header row and padded columns.

const ansi = /\u001b\[[0-9;]*m/g

/** Width of a cell as shown: ANSI colour codes take no room. */
export function visibleWidth (s: string): number {
  return [...s.replace(ansi, '')].length
}

/**
 * Renders `rows` under `headers`, columns separated by `gap` spaces, the last column unpadded.
 * Cells that are missing render empty. Returns the text with a trailing newline (or '' for no headers).
 */
export function table (headers: readonly string[], rows: ReadonlyArray<readonly string[]>, opts: { gap?: number } = {}): string {
  if (headers.length === 0) return ''
  const gap = ' '.repeat(opts.gap ?? 2)
  const widths = headers.map((h, i) => Math.max(visibleWidth(h), ...rows.map(r => visibleWidth(r[i] ?? ''))))
  const line = (cells: readonly string[]): string =>
    headers.map((_, i) => {
      const cell = cells[i] ?? ''
      return i === headers.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleWidth(cell))
    }).join(gap).trimEnd()
  return [line(headers), ...rows.map(line)].join('\n') + '\n'
}
