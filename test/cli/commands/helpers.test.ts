import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { splitAction } from '../../../cli/commands/do.js'
import { normaliseExec, shellScript, splitShellOutput } from '../../../cli/commands/exec.js'
import { defaultTarget } from '../../../cli/commands/run.js'
import { instancesOf, requirePath, templatePath } from '../../../cli/commands/session.js'
import { parsePairs, readVariablesFile, runVariables } from '../../../cli/commands/vars.js'
import { withoutJoin, daemonArgs } from '../../../cli/commands/daemon.js'
import { CliError } from '../../../cli/output.js'

const dir = mkdtempSync(join(tmpdir(), 'monk-vars-'))
const file = (name: string, text: string): string => { const p = join(dir, name); writeFileSync(p, text); return p }
const code = async (f: () => unknown): Promise<[string, number] | undefined> => {
  try { await f() } catch (e) { return [(e as CliError).code, (e as CliError).exitCode] }
  return undefined
}

const Vars = suite('commands/vars')

Vars('--set pairs: value may hold "=", a pair without a name is a usage error', async () => {
  assert.equal(parsePairs(['a=1', 'b=x=y', 'c='], '--set'), { a: '1', b: 'x=y', c: '' })
  assert.equal(await code(() => parsePairs(['novalue'], '--set')), ['bad-flag', 2])
  assert.equal(await code(() => parsePairs(['=v'], '--set')), ['bad-flag', 2])
})

Vars('variables file: top-level scalars become strings; --set wins', async () => {
  const f = file('ok.yaml', 'port: 8080\ntitle: "Hi"\ndebug: true\nempty:\n')
  assert.equal(await readVariablesFile(f), { port: '8080', title: 'Hi', debug: 'true', empty: '' })
  assert.equal(await runVariables({ set: ['port=9'], variablesFile: f }), { port: '9', title: 'Hi', debug: 'true', empty: '' })
  assert.is(await runVariables({}), undefined)
  assert.equal(await readVariablesFile(file('empty.yaml', '')), {})
})

Vars('bad variables files: missing, not YAML, not a mapping, nested value → bad-variables-file, exit 1', async () => {
  for (const [name, f] of [
    ['missing', join(dir, 'nope.yaml')],
    ['not yaml', file('bad.yaml', 'a: [1, 2\nb: }')],
    ['a list', file('list.yaml', '- a\n- b\n')],
    ['nested', file('nested.yaml', 'a:\n  b: 1\n')],
  ] as const) {
    assert.equal(await code(() => readVariablesFile(f)), ['bad-variables-file', 1], name)
  }
  try { await readVariablesFile(file('nested2.yaml', 'db:\n  host: x\n')) } catch (e) {
    assert.match((e as Error).message, /nested2\.yaml: variable "db" must be a scalar/)
  }
})

Vars('variables file: nested maps address members as ns/runnable/var, at any depth of the path', async () => {
  const f = file('members.yaml', 'title: top\nshop:\n  db:\n    port: 5432\n    user: null\n  web:\n    title: shop web\nshop/cache:\n  size: 64\n')
  assert.equal(await readVariablesFile(f), { title: 'top', 'shop/db/port': '5432', 'shop/db/user': '', 'shop/web/title': 'shop web', 'shop/cache/size': '64' })
  // --set still wins over the file, member by member
  assert.equal(await runVariables({ set: ['shop/db/port=1'], variablesFile: f }), { title: 'top', 'shop/db/port': '1', 'shop/db/user': '', 'shop/web/title': 'shop web', 'shop/cache/size': '64' })
  let err: unknown
  try { await readVariablesFile(file('members-list.yaml', 'shop:\n  db:\n    ports: [1, 2]\n')) } catch (e) { err = e }
  assert.match((err as Error).message, /variable "shop\/db\/ports" must be a scalar .* not a list/)
  err = undefined
  try { await readVariablesFile(file('members-shallow.yaml', 'shop:\n  port: 1\n')) } catch (e) { err = e }
  assert.match((err as Error).message, /"shop\/port" names no member/)
})

const Paths = suite('commands/paths')

Paths('template paths: prefixes dropped, bad paths are usage errors', async () => {
  assert.is(templatePath('/ns/app/'), 'ns/app')
  assert.is(templatePath('local/ns/app'), 'ns/app')
  assert.is(templatePath('templates/local/ns/app'), 'ns/app')
  assert.is(requirePath('ns/app'), 'ns/app')
  assert.equal(await code(() => requirePath('app')), ['bad-path', 2])
  assert.equal(await code(() => requirePath('ns/a b')), ['bad-path', 2])
})

Paths('action paths split at the last slash', async () => {
  assert.equal(splitAction('guestbook/store/put'), { path: 'guestbook/store', action: 'put' })
  assert.equal(await code(() => splitAction('store/put')), ['bad-path', 2])
  assert.equal(await code(() => splitAction('a/b/')), ['bad-path', 2])
})

Paths('instances of a reply: strings or {instance} objects', () => {
  assert.equal(instancesOf({ instances: ['a/b', { instance: 'a/c' }, 3] }), ['a/b', 'a/c'])
  assert.equal(instancesOf(null), [])
})

Paths('up picks the MANIFEST ENTRY, else the only group, else the only runnable', async () => {
  const nodes = [{ path: 'g/a', kind: 'runnable' }, { path: 'g/b', kind: 'runnable' }, { path: 'g/all', kind: 'group' }, { path: 'g/base', kind: 'abstract' }]
  assert.is(defaultTarget(['prod:g/a'], nodes, 'x'), 'g/a')
  assert.is(defaultTarget([], nodes, 'x'), 'g/all')
  assert.is(defaultTarget([], [{ path: 'g/a', kind: 'runnable' }], 'x'), 'g/a')
  assert.equal(await code(() => defaultTarget([], nodes.slice(0, 2), 'x')), ['ambiguous-target', 2])
  assert.equal(await code(() => defaultTarget([], [], 'x')), ['ambiguous-target', 2])
})

const Shell = suite('commands/exec (shell line wrapping)')

Shell('a wrapped line reports its output, exit code and final directory', () => {
  const run = (line: string, cwd?: string) => {
    const r = spawnSync('/bin/sh', ['-c', shellScript(line, cwd)], { cwd: tmpdir(), encoding: 'utf8' })
    return { ...splitShellOutput(r.stdout), code: r.status }
  }
  const a = run('cd / && echo hi')
  assert.equal(a, { text: 'hi\n', cwd: '/', code: 0 })
  const b = run('pwd; printf no-newline; exit 3', '/usr')
  assert.equal(b, { text: '/usr\nno-newline', cwd: undefined, code: 3 })
  const c = run('false', "/tmp/it's")
  assert.is(c.code, 1)
  assert.equal(splitShellOutput('plain'), { text: 'plain', cwd: undefined })
})

Shell('exec replies: exitCode or code, stdout or output', () => {
  assert.equal(normaliseExec({ exitCode: 2, stdout: 'a', stderr: 'b' }), { exitCode: 2, stdout: 'a', stderr: 'b' })
  assert.equal(normaliseExec({ code: 0, output: 'x' }), { exitCode: 0, stdout: 'x', stderr: '' })
  assert.equal(normaliseExec(null), { exitCode: 0, stdout: '', stderr: '' })
})

const Daemon = suite('commands/daemon (arguments)')

Daemon('daemon flags to monkd arguments: never the join token (startDaemon passes it in MONK_JOIN_TOKEN); an old recorded --join is dropped', () => {
  const args = daemonArgs({ name: 'a', tag: ['x', 'y'], p2pPort: '4001', join: 'TOK', runtime: 'process' })
  assert.equal(args, ['--name', 'a', '--tag', 'x', '--tag', 'y', '--p2p-port', '4001', '--runtime', 'process'])
  assert.equal(withoutJoin(['--name', 'a', '--join', 'TOK', '--runtime', 'process']), ['--name', 'a', '--runtime', 'process'])
  assert.equal(withoutJoin(['--join=T', '--name', 'b']), ['--name', 'b'])
  assert.equal(daemonArgs({ cpu: '2', memory: '4Gi' }), ['--cpu', '2', '--memory', '4Gi'])
  assert.equal(daemonArgs({ runtime: 'docker', networkName: 'monk0' }), ['--runtime', 'docker', '--network-name', 'monk0'])
})

Vars.run()
Paths.run()
Shell.run()
Daemon.after(() => { rmSync(dir, { recursive: true, force: true }) })

Daemon.run()
