// Local machines end to end: `monk cluster grow -p local` starts monkd processes on this host (each
// in its own home, detached like a VM), they join with their tags, `shrink` stops them.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { joinedWithTags, killLocalMachines, monk, nodes, ok, operator, peers } from '../helpers/cloud-scenario.js'
import { until } from '../helpers/monkd.js'

const test = suite('cloud e2e: local machines')
test('grow 2 local machines, both join with their tags; shrink stops both', async () => {
  const base = mkdtempSync(join(tmpdir(), 'monk-cloud-local-'))
  const dir = join(base, 'machines')
  const op = await operator('op', base)
  try {
    ok(await monk(op, ['cluster', 'provider', 'add', 'local', '--runtime', 'process', '--dir', dir]), 'provider add local')
    const bad = await monk(op, ['cluster', 'grow', '-p', 'local', '-n', 'web', '-z', 'somewhere'])
    assert.is(bad.code, 1)
    assert.match(bad.err, /local has no zones/)
    const t0 = Date.now()
    ok(await monk(op, ['cluster', 'grow', '-p', 'local', '-n', 'web', '-m', '2', '-t', 'frontend']), 'grow')
    console.log(`  local: grow 2 → joined (CLI): ${Date.now() - t0} ms`)
    await joinedWithTags(op, ['web-1', 'web-2'], ['frontend', 'local'])
    const pids = readdirSync(join(dir, readdirSync(dir)[0]!)).map(m => (JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]!, m, 'machine.json'), 'utf8')) as { pid: number }).pid)
    assert.is(pids.length, 2)
    for (const pid of pids) assert.ok(isAlive(pid), 'each machine is a process')
    ok(await monk(op, ['cluster', 'shrink', '-p', 'local']), 'shrink')
    assert.equal((await nodes(op)).filter(r => r.name.startsWith('web-')).map(r => r.state), ['gone', 'gone'])
    for (const pid of pids) assert.not.ok(isAlive(pid), 'the process is gone')
    assert.equal(readdirSync(join(dir, readdirSync(dir)[0]!)), [], 'and its home')
    await until('both peers left', async () => (await peers(op)).filter(p => p.name.startsWith('web-') && p.alive).length === 0, 15_000)
  } finally {
    op.p.child.kill('SIGKILL')
    if (existsSync(dir)) killLocalMachines(dir)
    rmSync(base, { recursive: true, force: true })
  }
})

function isAlive (pid: number): boolean {
  try { process.kill(pid, 0) } catch { return false }
  try { return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')) } catch { return false }
}

test.run()
