// A logger that keeps entries in memory so tests can assert what was logged.
import type { Logger } from '../../actors/kit/log.js'

export interface Entry { level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> }

export function captureLogger (): Logger & { entries: Entry[] } {
  const entries: Entry[] = []
  const at = (level: Entry['level']) => (fields: Record<string, unknown>, msg: string): void => { entries.push({ level, msg, fields }) }
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}
