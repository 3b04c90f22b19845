// The one renderer of daemon progress: the daemon streams events for long work (a waited run,
// stop or purge, a followed grow) and decides when it is done; the CLI shows each event on a
// spinner (terminal) or as a line (pipe) and returns what the last event carries.
import { progress } from './spinner.js'

/** What one event means for the screen: a progress text, a line to keep, or the end. */
export interface Step<R> {
  readonly progress?: string
  readonly line?: string
  /** The work is over: render nothing more and return this. */
  readonly done?: { readonly value: R }
}

export interface RenderOptions {
  /** False with `-q` or `--output json`. */
  readonly enabled: boolean
  /** Where kept lines go (stderr notes). */
  readonly note: (text: string) => void
  /** Says what was asked, for the error when the stream ends without its last event. */
  readonly what: string
  /**
   * Ctrl-C while following: the line that says what goes on without us and how to cancel it. Set,
   * the spinner is cleared, the line printed and the CLI exits 130; unset, Ctrl-C kills as usual.
   */
  readonly interrupted?: () => string
}

export class StreamEndedError extends Error {
  override readonly name = 'StreamEndedError'
  readonly code = 'stream-ended'
}

/** Renders `events` until a step says done (or throws); a stream that ends first is an error. */
export async function renderEvents<E, R> (events: AsyncIterable<E>, step: (e: E) => Step<R>, o: RenderOptions): Promise<R> {
  const p = progress({ enabled: o.enabled })
  const onInt = (): void => {
    p.done()
    if (o.interrupted) process.stderr.write(o.interrupted() + '\n')
    process.exit(130)
  }
  if (o.interrupted) process.once('SIGINT', onInt)
  try {
    for await (const e of events) {
      const s = step(e)
      if (s.line !== undefined && o.enabled) o.note(s.line)
      if (s.progress !== undefined) p.update(s.progress)
      if (s.done) return s.done.value
    }
  } finally {
    process.off('SIGINT', onInt)
    p.done()
  }
  throw new StreamEndedError(`${o.what}: monkd ended the progress stream without saying whether the work is done`)
}
