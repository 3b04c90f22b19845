// Output helpers shared by commands: the global options, JSON vs text, colours, and typed CLI errors.
import type { Command } from 'commander'

export interface GlobalOptions {
  home: string | undefined
  /** `--socket` or $MONK_SOCKET: where monkd listens (unix:///path, tcp://host:port), when not the home's socket. */
  socket: string | undefined
  /** `--token-file`: the file holding the API token of a tcp:// address. */
  tokenFile: string | undefined
  output: 'text' | 'json'
  color: boolean
  quiet: boolean
}

/** Exit codes: 0 ok, 1 the command failed, 2 bad usage. */
export const exitCodes = { ok: 0, failure: 1, usage: 2 } as const

/** A failure the CLI reports as one line (text) or `{"error": {code, message}}` (json). */
export class CliError extends Error {
  override readonly name = 'CliError'
  constructor (readonly code: string, message: string, readonly exitCode: number = exitCodes.failure, options?: { cause?: unknown }) {
    super(message, options)
  }
}

export function globals (cmd: Command): GlobalOptions {
  let root = cmd
  while (root.parent) root = root.parent
  const o = root.opts<{ home?: string, socket?: string, tokenFile?: string, output?: string, color?: boolean, quiet?: boolean }>()
  const output = o.output ?? 'text'
  if (output !== 'text' && output !== 'json') throw new CliError('bad-flag', `--output must be text or json, got "${output}"`, exitCodes.usage)
  return {
    home: o.home ?? process.env.MONK_HOME,
    socket: o.socket ?? (process.env.MONK_SOCKET !== undefined && process.env.MONK_SOCKET !== '' ? process.env.MONK_SOCKET : undefined),
    tokenFile: o.tokenFile,
    output,
    color: o.color !== false && !process.env.NO_COLOR && Boolean(process.stdout.isTTY),
    quiet: o.quiet === true,
  }
}

export function printJson (value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

const paint = (code: number) => (on: boolean, s: string) => on ? `\u001b[${code}m${s}\u001b[0m` : s
export const red = paint(31)
export const yellow = paint(33)
export const green = paint(32)
export const dim = paint(2)
export const bold = paint(1)
