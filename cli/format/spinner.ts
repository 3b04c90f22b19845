// Progress for work that may take more than a second (image pulls, depends, readiness): a spinner
// naming what it waits for on a terminal; on a pipe, one line per change once a second has passed.
import { SPINNER_DELAY_MS, SPINNER_FRAME_MS, PROGRESS_LINE_DELAY_MS } from './defaults.js'

export interface Progress {
  /** Says what we wait for now (`ns/web: waiting for readiness`). */
  update: (text: string) => void
  /** Clears the spinner; prints `final` (if given) as a line of its own. */
  done: (final?: string) => void
}

export interface ProgressOptions {
  /** Where progress goes (stderr: stdout is for data). */
  readonly stream?: NodeJS.WriteStream
  /** False with `-q` or `--output json`: nothing is printed at all. */
  readonly enabled: boolean
  /** Animate (a terminal) or print lines (a pipe); default: whether the stream is a TTY. */
  readonly tty?: boolean
  /** Injected for tests. */
  readonly now?: () => number
  /** Runs `fn` once after `ms` (injected for tests); returns a cancel. */
  readonly after?: (fn: () => void, ms: number) => () => void
}

const realAfter = (fn: () => void, ms: number): () => void => {
  const t = setTimeout(fn, ms)
  t.unref()
  return () => clearTimeout(t)
}

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

export function progress (opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr
  if (!opts.enabled) return { update: () => {}, done: () => {} }
  const tty = opts.tty ?? Boolean(stream.isTTY)
  const now = opts.now ?? Date.now
  const started = now()
  let text = ''
  let printed = ''
  let frame = 0
  let shown = false
  let timer: NodeJS.Timeout | undefined

  const draw = (): void => {
    if (now() - started < SPINNER_DELAY_MS) return
    shown = true
    const width = Math.max(20, (stream.columns || 80) - 3)
    const line = text.length > width ? text.slice(0, Math.max(0, width - 1)) + '…' : text
    stream.write(`\r\u001b[2K${frames[frame++ % frames.length]} ${line}`)
  }
  const clear = (): void => { if (shown) stream.write('\r\u001b[2K'); shown = false }

  if (tty) {
    timer = setInterval(draw, SPINNER_FRAME_MS)
    timer.unref()
  }
  // on a pipe, work that outlasts the delay shows where it is then, even if nothing changed since
  const cancelFlush = tty ? () => {} : (opts.after ?? realAfter)(() => { if (text !== '' && text !== printed) { stream.write(`… ${text}\n`); printed = text } }, PROGRESS_LINE_DELAY_MS)
  return {
    update (t) {
      text = t
      if (tty) return
      if (t !== printed && now() - started >= PROGRESS_LINE_DELAY_MS) { stream.write(`… ${t}\n`); printed = t }
    },
    done (final) {
      if (timer) clearInterval(timer)
      cancelFlush()
      timer = undefined
      clear()
      if (final !== undefined) stream.write(final + '\n')
    },
  }
}
