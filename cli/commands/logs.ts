// `monk logs PATH`: container logs of an instance, from whichever peer runs it; `--follow` streams
// until Ctrl-C. JSON output is one LogItem per line (NDJSON), so it can be streamed too.
import type { Command } from 'commander'
import type { LogItem } from '../api/messages.js'
import { CliError, dim, exitCodes } from '../output.js'
import { requirePath, runnableActor, session } from './session.js'

interface Flags { follow?: boolean, last: string, all?: boolean, container?: string, prefix?: boolean, timestamps?: boolean }

/** The action of `monk logs` (its flags are in registry.ts). */
export async function logs (path: string, flags: Flags, cmd: Command): Promise<void> {
  const s = session(cmd)
  const last = Number(flags.last)
  if (!Number.isInteger(last) || last < 0) throw new CliError('bad-flag', `--last wants a whole number, got "${flags.last}"`, exitCodes.usage)
  // The client's stream ignores its signal once items flow, and a quiet follow has no next item
  // to break on: on Ctrl-C (or a closed stdout) exit at once, which closes the connection and
  // so ends the stream on monkd.
  const leave = (): void => { process.exit(exitCodes.ok) }
  const onPipe = (e: NodeJS.ErrnoException): void => { if (e.code === 'EPIPE') leave() }
  process.once('SIGINT', leave)
  process.once('SIGTERM', leave)
  process.stdout.on('error', onPipe)
  try {
    const items = s.stream(runnableActor(requirePath(path)), {
      type: 'runnable.logs',
      ...(flags.follow === true ? { follow: true } : {}),
      ...(flags.all === true ? {} : { tail: last }),
      ...(flags.container !== undefined ? { container: flags.container } : {}),
    })
    for await (const item of items) {
      if (s.json) { process.stdout.write(JSON.stringify(item) + '\n'); continue }
      const member = 'member' in item ? dim(s.g.color, `${item.member} | `) : '' // a group's logs always say whose line it is
      const pre = (flags.timestamps === true ? dim(s.g.color, item.time) + ' ' : '') + member + (flags.prefix === true ? dim(s.g.color, `${item.container} | `) : '')
      const text = item.text.endsWith('\n') ? item.text : item.text + '\n'
      ;(item.stream === 'stderr' ? process.stderr : process.stdout).write(pre + text)
    }
  } finally {
    process.off('SIGINT', leave)
    process.off('SIGTERM', leave)
    process.stdout.off('error', onPipe)
  }
}
