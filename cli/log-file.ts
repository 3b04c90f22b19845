// monkd's log file as a pino destination that never takes the daemon down: a write that fails
// (ENOSPC on a full disk, EIO, the file removed with its directory) drops that line, says so once
// on stderr, and the next line tries again (reopening the file), so logging resumes by itself
// once the disk has room.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

export interface LogFile {
  write: (line: string) => boolean
  /** Lines dropped because the file could not be written. */
  readonly dropped: number
  end: () => void
}

export function openLogFile (path: string, opts: { warn?: (message: string) => void } = {}): LogFile {
  const warn = opts.warn ?? ((m: string) => { process.stderr.write(`monkd: ${m}\n`) })
  let fd: number | undefined
  let dropped = 0
  let failing = false
  const open = (): number => {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    return openSync(path, 'a', 0o600)
  }
  try { fd = open() } catch (err) { failing = true; warn(`cannot open the log file ${path}: ${(err as Error).message}; log lines are dropped until it can be written`) }
  return {
    get dropped () { return dropped },
    write (line: string): boolean {
      try {
        fd ??= open()
        writeSync(fd, line)
        if (failing) {
          failing = false
          writeSync(fd, JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, msg: `the log file was not writable: ${dropped} line(s) dropped` }) + '\n')
        }
      } catch (err) {
        dropped++
        if (!failing) warn(`cannot write the log file ${path}: ${(err as Error).message}; log lines are dropped until it can be written`)
        failing = true
        if (fd !== undefined) { try { closeSync(fd) } catch { /* already unusable */ } }
        fd = undefined
      }
      return true
    },
    end (): void {
      if (fd !== undefined) { try { closeSync(fd) } catch { /* nothing to flush: writes are synchronous */ } }
      fd = undefined
    },
  }
}
