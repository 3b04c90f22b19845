// Polling with a deadline for runtime tests: nothing sleeps a fixed time to wait for a condition.

/** Calls `probe` every `intervalMs` until it returns a value other than undefined/false; throws naming `what` at the deadline. */
export async function waitFor<T> (what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, opts: { timeoutMs?: number, intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000)
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined && v !== false) return v
      last = v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs ?? 15_000} ms waiting for ${what} (last: ${last instanceof Error ? last.message : String(last)})`)
    await new Promise(resolve => setTimeout(resolve, opts.intervalMs ?? 25))
  }
}

/** Everything a finite stream yields. */
export async function collect<T> (it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

/** The rejection of `p` (fails if it resolves), to assert error codes. */
export async function rejection (p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p
  } catch (err) {
    return err as Error & { code?: string }
  }
  throw new Error('expected a rejection, but the promise resolved')
}
