// Output of process-runtime workloads: read from named pipes, stored as timestamped JSON lines
// in size-rotated files, read back with tail/since.
//
// Why named pipes: the workload writes to a FIFO it holds open read-write, so it never gets
// SIGPIPE when the daemon is gone; the pipe buffers (64 KiB) until a new daemon reads it again
// (Docker's live-restore behaves the same way). The daemon stamps and stores every line.
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { Socket } from 'node:net'
import { join } from 'node:path'
import { LOG_MAX_BYTES, LOG_MAX_FILES } from './defaults.js'
import { LineSplitter } from './lines.js'
import type { StdStream } from './lines.js'
import type { LogLine } from './runtime.js'

export const LOG_FILE = 'log.jsonl'

interface Stored { t: string, s: 'o' | 'e', l: string }

export interface RotationOptions {
  maxBytes?: number
  maxFiles?: number
}

/** Appends lines to `dir/log.jsonl`, rotating it to `.1`, `.2`, ... past `maxBytes`. Writes are synchronous so readers never see a gap. */
export class LogWriter {
  private readonly dir: string
  private readonly maxBytes: number
  private readonly maxFiles: number
  private fd: number | null = null
  private size = 0

  constructor (dir: string, opts: RotationOptions = {}) {
    this.dir = dir
    this.maxBytes = opts.maxBytes ?? LOG_MAX_BYTES
    this.maxFiles = opts.maxFiles ?? LOG_MAX_FILES
  }

  private openFile (): number {
    if (this.fd === null) {
      this.fd = openSync(join(this.dir, LOG_FILE), 'a')
      this.size = fstatSync(this.fd).size
    }
    return this.fd
  }

  write (stream: StdStream, lines: string[], time: Date = new Date()): void {
    if (lines.length === 0) return
    const t = time.toISOString()
    const s = stream === 'stderr' ? 'e' : 'o'
    let batch = ''
    let batchBytes = 0
    this.openFile()
    for (const l of lines) {
      const rec = JSON.stringify({ t, s, l } satisfies Stored) + '\n'
      const bytes = Buffer.byteLength(rec)
      if (this.size + batchBytes > 0 && this.size + batchBytes + bytes > this.maxBytes) {
        if (batch !== '') { writeSync(this.openFile(), batch); this.size += batchBytes; batch = ''; batchBytes = 0 }
        if (this.size > 0) this.rotate()
      }
      batch += rec
      batchBytes += bytes
    }
    if (batch !== '') { writeSync(this.openFile(), batch); this.size += batchBytes }
  }

  private rotate (): void {
    this.close()
    this.size = 0
    const base = join(this.dir, LOG_FILE)
    rmSync(`${base}.${this.maxFiles}`, { force: true })
    for (let i = this.maxFiles - 1; i >= 1; i--) if (existsSync(`${base}.${i}`)) renameSync(`${base}.${i}`, `${base}.${i + 1}`)
    if (this.maxFiles >= 1) renameSync(base, `${base}.1`)
    else rmSync(base, { force: true })
  }

  close (): void {
    if (this.fd !== null) { closeSync(this.fd); this.fd = null }
  }
}

/** Stored lines, oldest first, across rotated files; `since` and `tail` as Docker applies them. */
export function readLogs (dir: string, opts: { since?: Date, tail?: number, maxFiles?: number } = {}): LogLine[] {
  const base = join(dir, LOG_FILE)
  const files: string[] = []
  for (let i = opts.maxFiles ?? LOG_MAX_FILES; i >= 1; i--) if (existsSync(`${base}.${i}`)) files.push(`${base}.${i}`)
  if (existsSync(base)) files.push(base)
  const since = opts.since?.getTime()
  let out: LogLine[] = []
  for (const f of files) {
    for (const raw of readFileSync(f, 'utf8').split('\n')) {
      if (raw === '') continue
      let rec: Stored
      try { rec = JSON.parse(raw) as Stored } catch { continue }
      const time = new Date(rec.t)
      if (since !== undefined && time.getTime() < since) continue
      out.push({ time, stream: rec.s === 'e' ? 'stderr' : 'stdout', text: rec.l })
    }
  }
  if (opts.tail !== undefined) out = opts.tail <= 0 ? [] : out.slice(-opts.tail)
  return out
}

/** Reads one named pipe without blocking a thread (as a socket on the event loop) and hands out lines. */
export class PipeReader {
  /** Resolves when every writer has closed the pipe (end of output) or the reader was closed. */
  readonly drained: Promise<void>
  private readonly socket: Socket
  private finished = false
  private readonly split = new LineSplitter()
  private readonly onLines: (stream: StdStream, lines: string[]) => void
  private readonly stream: StdStream

  constructor (path: string, stream: StdStream, onLines: (stream: StdStream, lines: string[]) => void) {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
    this.socket = new Socket({ fd, readable: true, writable: false })
    this.onLines = onLines
    this.stream = stream
    this.drained = new Promise(resolve => {
      const end = (): void => {
        this.finish()
        resolve()
      }
      this.socket.on('end', end)
      this.socket.on('close', end)
      this.socket.on('error', end)
    })
    this.socket.on('data', (chunk: Buffer) => { if (!this.finished) onLines(stream, this.split.push(chunk)) })
  }

  /** Stop reading; what the workload writes from now on waits in the pipe for the next reader. */
  close (): void {
    this.finish()
    this.socket.destroy()
  }

  /** Deliver an unterminated last line (cut there rather than lost). */
  private finish (): void {
    if (this.finished) return
    this.finished = true
    this.onLines(this.stream, this.split.flush())
  }
}
