// Drives a program in a real terminal: a detached tmux session of its own (its own socket, so
// nothing touches the user's tmux), keys sent with send-keys, the screen read with capture-pane.
import { execFileSync } from 'node:child_process'
import { until } from './cli-e2e.js'

export interface Tty {
  keys: (...keys: string[]) => void
  /** The visible screen (and history) now. */
  screen: () => string
  /** Waits until the screen matches `re`; returns the screen. */
  waitFor: (re: RegExp, what: string, timeoutMs?: number) => Promise<string>
  resize: (cols: number, rows: number) => void
  kill: () => void
}

export function hasTmux (): boolean {
  try { execFileSync('tmux', ['-V'], { stdio: 'ignore' }); return true } catch { return false }
}

/** Runs `command` (a shell command line) in a new tmux session `name` of `cols`x`rows`. */
export function tmux (name: string, command: string, cols = 120, rows = 30): Tty {
  const sock = `monk-test-${name}`
  const t = (...args: string[]): string => execFileSync('tmux', ['-L', sock, ...args], { encoding: 'utf8' })
  t('new-session', '-d', '-s', name, '-x', String(cols), '-y', String(rows), command)
  t('set-option', '-t', name, 'remain-on-exit', 'on')
  const screen = (): string => t('capture-pane', '-p', '-S', '-200', '-t', name)
  return {
    keys: (...keys) => { t('send-keys', '-t', name, ...keys) },
    screen,
    waitFor: async (re, what, timeoutMs = 20_000) => {
      try {
        return await until(what, () => re.test(screen()) ? screen() : undefined, timeoutMs, 100)
      } catch (e) {
        throw new Error(`${(e as Error).message}\n--- screen ---\n${screen()}`)
      }
    },
    resize: (cols, r) => { t('resize-window', '-t', name, '-x', String(cols), '-y', String(r)) },
    kill: () => { try { t('kill-server') } catch { /* gone */ } },
  }
}
