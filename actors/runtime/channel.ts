// A closeable async queue: the producer side pushes and ends, the consumer iterates with
// `for await` and may close early. Backs every Stream the runtimes return (logs, events).
import type { Stream } from './runtime.js'

export class Channel<T> implements Stream<T> {
  private readonly buffer: T[] = []
  private readonly waiting: Array<{ resolve: (r: IteratorResult<T>) => void, reject: (e: unknown) => void }> = []
  private ended = false
  private failure: { error: unknown } | undefined
  private closed = false
  private readonly onClose: (() => void) | undefined

  /** `onClose` runs once, when the consumer closes (or breaks out of its loop) or the producer ends. */
  constructor (onClose?: () => void) {
    this.onClose = onClose
  }

  get isEnded (): boolean { return this.ended }

  push (value: T): void {
    if (this.ended) return
    const w = this.waiting.shift()
    if (w) w.resolve({ value, done: false })
    else this.buffer.push(value)
  }

  /** No more values; with `error`, the consumer's loop throws it after the buffered values. */
  end (error?: unknown): void {
    if (this.ended) return
    this.ended = true
    if (error !== undefined) this.failure = { error }
    for (const w of this.waiting.splice(0)) {
      if (this.failure) w.reject(this.failure.error)
      else w.resolve({ value: undefined, done: true })
    }
    this.release()
  }

  close (): void {
    this.buffer.length = 0
    this.end()
  }

  private release (): void {
    if (this.closed) return
    this.closed = true
    this.onClose?.()
  }

  [Symbol.asyncIterator] (): AsyncIterator<T> {
    return {
      next: async () => {
        if (this.buffer.length > 0) return { value: this.buffer.shift() as T, done: false }
        if (this.ended) {
          if (this.failure) { const e = this.failure.error; this.failure = undefined; throw e }
          return { value: undefined, done: true }
        }
        return await new Promise<IteratorResult<T>>((resolve, reject) => { this.waiting.push({ resolve, reject }) })
      },
      return: async () => {
        this.close()
        return { value: undefined, done: true }
      }
    }
  }
}
