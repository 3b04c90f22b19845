#!/usr/bin/env node
// The `monk` CLI: parses flags, sends one message (or loads files offline), formats the answer.
import '../polyfill.js'
import { Command, CommanderError, Option } from 'commander'
import { registerDump } from './commands/dump.js'
import { registerEval } from './commands/eval.js'
import { registerLint } from './commands/lint.js'
import { registerCommands } from './commands/registry.js'
import { CliError, exitCodes } from './output.js'
import { version } from '../actors/version.js'

export { version }

export function buildProgram (): Command {
  const program = new Command('monk')
  program
    .description('monk: a masterless container orchestrator')
    .version(version, '-v, --version')
    .option('--home <dir>', 'monk home (default: $MONK_HOME, else ~/.monk)')
    .option('--socket <address>', 'the monkd to talk to: unix:///path or tcp://host:port (default: $MONK_SOCKET, else <home>/monkd.sock)')
    .option('--token-file <path>', 'file holding the API token of a tcp:// monkd (else $MONK_API_TOKEN or $MONK_API_TOKEN_FILE; never the token itself on the command line)')
    .addOption(new Option('--output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--no-color', 'no colours')
    .option('-q, --quiet', 'print only what was asked for')
    .showSuggestionAfterError(true)
    .exitOverride()
  registerLint(program)
  registerDump(program)
  registerEval(program)
  registerCommands(program)
  for (const c of program.commands) c.exitOverride()
  return program
}

export async function main (argv: string[]): Promise<number> {
  const program = buildProgram()
  const json = argv.includes('--output=json') || argv.some((a, i) => a === '--output' && argv[i + 1] === 'json')
  try {
    await program.parseAsync(argv, { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : exitCodes.ok
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return exitCodes.ok
      if (json) process.stdout.write(JSON.stringify({ error: { code: 'usage', message: err.message.replace(/^error: /, '') } }) + '\n')
      return exitCodes.usage
    }
    const e = err instanceof CliError ? err : new CliError('internal', (err as Error).message ?? String(err), exitCodes.failure, { cause: err })
    if (json) process.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message } }) + '\n')
    else process.stderr.write(`monk: ${e.message}\n`)
    return e.exitCode
  }
}

const isEntry = process.argv[1] !== undefined && /monk(\.ts|\.js)?$/.test(process.argv[1])
if (isEntry) {
  main(process.argv.slice(2)).then(code => { process.exitCode = code }, err => { process.stderr.write(`monk: ${String(err)}\n`); process.exitCode = 1 })
}
