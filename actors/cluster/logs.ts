// Logs of an instance. On the owner they stream straight from the runtime, one stream per
// container merged in arrival order; elsewhere they come from the owner over `/monk/actor/1` as
// pages (`runnable.logs-page`), and a follow polls for the lines written since the last page,
// re-finding the owner each time (it may move).
import type { Scheduler } from '../kit/clock.js'
import type { LogItem } from '../messages/runnable.js'
import type { LogStreams } from './runnables.js'

/** How often a follow of another peer's logs asks for new lines. */
export const LOG_POLL_MS = 500

/** Merges the containers' streams into one, until all end or `signal` aborts. */
export async function * mergeLogs (streams: LogStreams, signal: AbortSignal): AsyncGenerator<LogItem> {
  const queue: LogItem[] = []
  const bell: { wake: (() => void) | null } = { wake: null }
  const ring = (): void => { bell.wake?.() }
  let open = streams.length
  const onAbort = (): void => { for (const s of streams) s.stream.close(); ring() }
  signal.addEventListener('abort', onAbort, { once: true })
  for (const s of streams) {
    void (async () => {
      try { for await (const l of s.stream) { queue.push({ time: l.time.toISOString(), stream: l.stream, container: s.container, text: l.text }); ring() } } finally { open--; ring() }
    })()
  }
  try {
    while (!signal.aborted) {
      const next = queue.shift()
      if (next !== undefined) { yield next; continue }
      if (open === 0) break
      await new Promise<void>(resolve => { bell.wake = resolve })
      bell.wake = null
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    for (const s of streams) s.stream.close()
  }
}

/** Pages of a remote owner's logs as one stream; with `follow`, polls until `signal` aborts or `stopped()`. */
export async function * pagedLogs (
  page: (o: { tail?: number, since?: string }) => Promise<LogItem[]>,
  opts: { follow?: boolean | undefined, tail?: number | undefined },
  signal: AbortSignal,
  clock: Scheduler,
  stopped: () => boolean,
): AsyncGenerator<LogItem> {
  const first = await page(opts.tail !== undefined ? { tail: opts.tail } : {})
  let last = first.at(-1)?.time
  yield * first
  while (opts.follow === true && !signal.aborted && !stopped()) {
    await new Promise<void>(resolve => { clock.setTimeout(resolve, LOG_POLL_MS) })
    const next = await page(last !== undefined ? { since: last } : {}).catch(() => [])
    for (const item of next) if (last === undefined || item.time > last) { yield item; last = item.time }
  }
}
