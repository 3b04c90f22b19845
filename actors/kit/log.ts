// The logger the control plane writes to: the structured subset of pino's API, so a pino logger
// (or a child of one) can be passed as is and tests can capture entries as plain objects.

export interface LogFn {
  /** `fields` are merged into the entry (pino puts an Error under `err` with its stack). */
  (fields: Record<string, unknown>, message: string): void
}

export interface Logger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
}

const nothing: LogFn = () => {}

/** Discards everything (the default when no logger is given). */
export const silentLogger: Logger = { debug: nothing, info: nothing, warn: nothing, error: nothing }
