// `monk stop`, `monk restart`, `monk purge`: one message each, then wait until it took effect.
import { Option, type Command } from 'commander'
import { CliError, exitCodes, printJson } from '../output.js'
import { STOP_TIMEOUT_S, WAIT_TIMEOUT_S } from './defaults.js'
import { instancesOf, requirePath, session, type PeerMessage, type Session } from './session.js'
import { generationsBefore, waitForInstances, type Goal } from './wait.js'

interface Flags { wait: boolean, timeout: string, excise?: boolean }

function seconds (v: string): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new CliError('bad-flag', `--timeout wants a number of seconds, got "${v}"`, exitCodes.usage)
  return n
}

async function apply (s: Session, paths: readonly string[], message: (path: string) => PeerMessage, goal: Goal, flags: Flags, done: string): Promise<void> {
  const timeoutS = seconds(flags.timeout)
  const instances: string[] = []
  const before = new Map<string, number>()
  for (const p of paths) {
    const path = requirePath(p)
    const msg = message(path)
    if (msg.type === 'workload.restart' && flags.wait) for (const [i, g] of await generationsBefore(s, path)) before.set(i, g)
    const got = instancesOf(await s.request<unknown>('peer', msg))
    instances.push(...(got.length ? got : [path]))
  }
  if (flags.wait && instances.length) await waitForInstances(s, instances, { goal, timeoutS, newerThan: before })
  if (s.json) { printJson({ instances }); return }
  s.print(instances.join('\n'))
  s.note(`${done} ${instances.length} instance${instances.length === 1 ? '' : 's'}`)
}

function waitOptions (cmd: Command, defaultS: number): Command {
  return cmd.option('--no-wait', 'return once monkd accepted the request')
    .addOption(new Option('--timeout <seconds>', 'how long to wait').default(String(defaultS)))
}

export function registerWorkload (program: Command): void {
  waitOptions(program.command('stop'), STOP_TIMEOUT_S)
    .description('stop a workload; its data stays')
    .argument('<paths...>', 'template paths')
    .action(async (paths: string[], flags: Flags, cmd: Command) => {
      await apply(session(cmd), paths, path => ({ type: 'workload.stop', path }), 'stopped', flags, 'Stopped')
    })

  waitOptions(program.command('restart'), WAIT_TIMEOUT_S)
    .description('restart a workload in place')
    .argument('<paths...>', 'template paths')
    .action(async (paths: string[], flags: Flags, cmd: Command) => {
      await apply(session(cmd), paths, path => ({ type: 'workload.restart', path }), 'running', flags, 'Restarted')
    })

  waitOptions(program.command('purge'), STOP_TIMEOUT_S)
    .description('stop a workload and remove its containers and data')
    .argument('<paths...>', 'template paths')
    .option('-x, --excise', 'also remove the template definitions')
    .action(async (paths: string[], flags: Flags, cmd: Command) => {
      await apply(session(cmd), paths, path => ({ type: 'workload.purge', path, ...(flags.excise === true ? { excise: true } : {}) }), 'gone', flags, 'Purged')
    })
}
