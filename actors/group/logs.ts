// The logs of a whole group: every member's stream merged in arrival order, each line tagged with
// the member it came from, until every member's stream ended or the asker went away.
import type { GroupLogItem } from '../messages/group.js'
import type { LogItem } from '../messages/runnable.js'

export async function * mergeMembers (sources: ReadonlyArray<{ member: string, lines: AsyncIterable<LogItem> }>, signal: AbortSignal): AsyncGenerator<GroupLogItem> {
  const queue: GroupLogItem[] = []
  let wake: (() => void) | null = null
  const ring = (): void => { const w = wake; wake = null; w?.() }
  let open = sources.length
  const onAbort = (): void => ring()
  signal.addEventListener('abort', onAbort, { once: true })
  const iterators = sources.map(s => ({ member: s.member, it: s.lines[Symbol.asyncIterator]() }))
  for (const s of iterators) {
    void (async () => {
      try {
        for (;;) {
          const r = await s.it.next()
          if (r.done === true || signal.aborted) break
          queue.push({ ...r.value, member: s.member })
          ring()
        }
      } catch { /* a member's stream broke: the others go on */ } finally { open--; ring() }
    })()
  }
  try {
    while (!signal.aborted) {
      const next = queue.shift()
      if (next !== undefined) { yield next; continue }
      if (open === 0) break
      await new Promise<void>(resolve => { wake = resolve })
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    for (const s of iterators) void s.it.return?.()
  }
}
