// Polls a condition until it holds or a deadline passes (never a fixed sleep).
export async function waitFor (what: string, cond: () => boolean, deadlineMs = 5_000): Promise<void> {
  const until = Date.now() + deadlineMs
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`)
    await new Promise(resolve => setImmediate(resolve))
  }
}

/** Lets queued actor messages run (nact handles each message in its own setImmediate). */
export async function settle (rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise(resolve => setImmediate(resolve))
}
