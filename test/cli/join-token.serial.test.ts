// monkd takes its join token from a 0600 file (--join-file) or MONK_JOIN_TOKEN, never needing it in
// argv; `--join TOKEN` still works with a warning. Real monkd processes on 127.0.0.1: the process
// list (/proc/<pid>/cmdline of every process), the logs and the daemons' output are grepped for
// the token. The home, made beforehand with loose modes, ends up 0700 with monkd's files 0600.
// test-deadline-s: 240
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { root, tsNode } from '../helpers/cli.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'

const Join = suite('monkd join token sources and home modes')
const base = mkdtempSync(join(tmpdir(), 'monk-jointok-'))
const started: MonkdProcess[] = []
Join.after(() => {
  for (const p of started) p.child.kill('SIGKILL')
  rmSync(base, { recursive: true, force: true })
})

const alive = async (p: MonkdProcess): Promise<number> => (await p.client.request<Array<{ alive: boolean }>>('peer', { type: 'cluster.peers' })).filter(r => r.alive).length

/** Every file under `dir` (not following links), with its mode. */
function walk (dir: string): Array<{ path: string, mode: number, dir: boolean }> {
  const out: Array<{ path: string, mode: number, dir: boolean }> = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) { out.push({ path: p, mode: statSync(p).mode & 0o777, dir: true }); out.push(...walk(p)) } else if (e.isFile()) out.push({ path: p, mode: statSync(p).mode & 0o777, dir: false })
  }
  return out
}

/** Command lines of every process on this machine that mention `needle`. */
function cmdlinesWith (needle: string): string[] {
  const hits: string[] = []
  for (const pid of readdirSync('/proc').filter(d => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (cmd.includes(needle)) hits.push(`${pid}: ${cmd.slice(0, 200)}`)
    } catch { /* gone */ }
  }
  return hits
}

Join('join by file and by variable: the token is in no command line, log or output; --join warns; loose homes are tightened', async () => {
  // a home that existed before, world-readable, with a stray world-readable file
  const homeA = join(base, 'a')
  mkdirSync(join(homeA, 'logs'), { recursive: true })
  chmodSync(homeA, 0o755)
  chmodSync(join(homeA, 'logs'), 0o755)
  writeFileSync(join(homeA, 'notes.txt'), 'x', { mode: 0o644 })
  chmodSync(join(homeA, 'notes.txt'), 0o644)
  const a = await spawnMonkd('a', homeA, ['--runtime', 'process'])
  started.push(a)
  const token = (await a.client.request<{ token: string }>('peer', { type: 'cluster.token' })).token
  assert.ok(token.length > 40)

  const file = join(base, 'join-token')
  writeFileSync(file, token + '\n', { mode: 0o600 })
  const [b, c] = await Promise.all([
    spawnMonkd('b', join(base, 'b'), ['--runtime', 'process', '--join-file', file]),
    spawnMonkd('c', join(base, 'c'), ['--runtime', 'process'], { MONK_JOIN_TOKEN: token }),
  ])
  started.push(b, c)
  await until('a sees 3 peers alive', async () => await alive(a) === 3, 60_000)
  assert.equal(cmdlinesWith(token), [], 'no process shows the token in its command line')

  // the deprecated flag still joins, and says why it should not be used
  const d = await spawnMonkd('d', join(base, 'd'), ['--runtime', 'process', '--join', token])
  started.push(d)
  await until('a sees 4 peers alive', async () => await alive(a) === 4, 60_000)
  await until('d warned about --join', () => readFileSync(join(base, 'd', 'logs', 'monkd.log'), 'utf8').includes('--join TOKEN puts the cluster key in the process list'))
  d.child.kill('SIGKILL')
  await until('d is gone', () => d.child.exitCode !== null || d.child.signalCode !== null)

  for (const p of [a, b, c, d]) {
    assert.not.ok(p.output().includes(token), `${p.name}'s output holds no token`)
    for (const f of walk(join(p.home, 'logs')).filter(f => !f.dir)) assert.not.ok(readFileSync(f.path, 'utf8').includes(token), `${f.path} holds no token`)
  }
  // modes: the home and every directory 0700, every file monkd keeps 0600, also in the home made with 0755/0644
  for (const p of [a, b, c]) {
    assert.is(statSync(p.home).mode & 0o777, 0o700, `${p.home} is 0700`)
    const loose = walk(p.home).filter(f => f.mode !== (f.dir ? 0o700 : 0o600)).map(f => `${relative(p.home, f.path)} ${f.mode.toString(8)}`)
    assert.equal(loose, [], `${p.name}: every directory 0700 and file 0600`)
  }
  assert.match(readFileSync(join(homeA, 'logs', 'monkd.log'), 'utf8'), /tightened \d+ path\(s\)/)
})

// The process runtime passes workloads an allow-list of monkd's variables (process-host.ts
// workloadEnv), so this holds by that list; monkd also deletes the variable once read, for the
// other processes it starts (local machines run monkd with --join-file, which refuses a second source).
Join('a workload of a monkd started with MONK_JOIN_TOKEN sees no token in its environment', async () => {
  const [a, b, c] = started as [MonkdProcess, MonkdProcess, MonkdProcess]
  const token = (await c.client.request<{ token: string }>('peer', { type: 'cluster.token' })).token
  // c alone: the workload is placed on it
  a.child.kill('SIGKILL')
  b.child.kill('SIGKILL')
  await until('c sees itself alone', async () => await alive(c) === 1, 60_000)
  const ns = `jt-${process.pid}`
  const load = await c.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files: { '/k/k.yaml': `namespace: ${ns}\nw:\n  defines: runnable\n  containers:\n    main:\n      bash: exec sleep 3600\n` }, paths: ['/k/k.yaml'] })
  assert.equal(load.errors, [])
  await c.client.request('peer', { type: 'workload.run', path: `${ns}/w` })
  const dir = join(c.home, 'runtime', 'process', 'containers')
  const pid = await until('the workload runs on c', () => {
    for (const n of readdirSync(dir)) {
      const rec = JSON.parse(readFileSync(join(dir, n, 'state.json'), 'utf8')) as { pid?: number | null, state?: string }
      if (rec.state === 'running' && typeof rec.pid === 'number') return rec.pid
    }
    return undefined
  }, 60_000)
  const environ = readFileSync(`/proc/${pid}/environ`, 'utf8')
  assert.ok(environ.includes('PATH='), 'the workload environment was read')
  assert.not.ok(environ.includes('MONK_JOIN_TOKEN'), 'no MONK_JOIN_TOKEN variable')
  assert.not.ok(environ.includes(token), 'no token')
  try { process.kill(-pid, 'SIGKILL') } catch { /* gone */ }
})

Join('bad token sources are refused with the source named and the token never echoed', () => {
  const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [...tsNode, join(root, 'cli/monkd.ts'), '--home', join(base, 'bad'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } })
  const missing = run(['--join-file', join(base, 'nope')])
  assert.is(missing.status, 2)
  assert.match(missing.stderr, /cannot read the join file .*nope: ENOENT/)
  const both = run(['--join', 'abc'], { MONK_JOIN_TOKEN: 'abc' })
  assert.is(both.status, 2)
  assert.match(both.stderr, /give the join token one way, not --join and MONK_JOIN_TOKEN/)
  const empty = join(base, 'empty')
  writeFileSync(empty, '\n', { mode: 0o600 })
  assert.match(run(['--join-file', empty]).stderr, /the join file .*empty is empty/)
  const junk = join(base, 'junk')
  writeFileSync(junk, 'my password is hunter2', { mode: 0o600 })
  const j = run(['--join-file', junk])
  assert.is(j.status, 2)
  assert.match(j.stderr, /does not hold a join token/)
  assert.not.match(j.stderr, /hunter2/)
})

Join.run()
