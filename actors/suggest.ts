// "Did you mean": the known name closest to a mistyped one, by edit distance, for not-found errors.

/** Edits (insert, delete, replace, swap of neighbours) that turn `a` into `b`. */
export function editDistance (a: string, b: string): number {
  const rows: number[][] = []
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i]
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) { row.push(j); continue }
      const prev = rows[i - 1]!
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1)
      row.push(d)
    }
    rows.push(row)
  }
  return rows[a.length]![b.length]!
}

/** The candidate nearest `name` when it is near enough to be a typo (a third of its length), else undefined. */
export function closest (name: string, candidates: Iterable<string>): string | undefined {
  let best: { c: string, d: number } | undefined
  for (const c of candidates) {
    if (c === name) continue
    const d = editDistance(name.toLowerCase(), c.toLowerCase())
    if (best === undefined || d < best.d || (d === best.d && c < best.c)) best = { c, d }
  }
  return best !== undefined && best.d <= Math.max(1, Math.floor(name.length / 3)) ? best.c : undefined
}

/** ` (did you mean ns/app?)`, or '' when nothing is close. */
export function didYouMean (name: string, candidates: Iterable<string>): string {
  const c = closest(name, candidates)
  return c !== undefined ? ` (did you mean ${c}?)` : ''
}
