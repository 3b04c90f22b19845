// The process runtime: the compliance suite, plus what is specific to supervising host processes
// (process groups, log rotation, the state lock, images not used, restarts on adoption).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ProcessRuntime } from '../../../actors/runtime/process.js'
import type { ProcessRuntimeOptions } from '../../../actors/runtime/process.js'
import { containerSpec } from '../../../actors/runtime/spec.js'
import type { ContainerSpec } from '../../../actors/runtime/runtime.js'
import { collect, rejection, waitFor } from '../../helpers/runtime-wait.js'
import { runtimeCompliance } from './compliance.js'

const complianceDir = mkdtempSync(join(tmpdir(), 'monk-proc-compliance-'))
for (const s of runtimeCompliance({
  name: 'process',
  open: async () => await ProcessRuntime.open({ stateDir: complianceDir }),
  image: 'busybox:1',
  stateDir: complianceDir,
  caps: { remapsPorts: false, remapsPaths: false, usesImages: false }
})) s.run()

let seq = 0
function spec (fields: Record<string, unknown>): ContainerSpec {
  const key = `p${++seq}`
  return containerSpec({ image: 'ignored:1', ...fields }, { instance: `test/proc/${key}`, container: key, peer: 'test-peer' }).spec
}

/** Process ids whose process group is `pgid` (live ones only). */
function groupMembers (pgid: number): number[] {
  const out: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (rest[0] !== 'Z' && Number(rest[2]) === pgid) out.push(Number(d))
    } catch { /* gone */ }
  }
  return out
}

const dirs: string[] = [complianceDir]
const opened: ProcessRuntime[] = []
async function open (opts: ProcessRuntimeOptions = {}): Promise<{ rt: ProcessRuntime, dir: string }> {
  const dir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'monk-proc-'))
  dirs.push(dir)
  const rt = await ProcessRuntime.open({ ...opts, stateDir: dir })
  opened.push(rt)
  return { rt, dir }
}

const proc = suite('process runtime: supervision')
// A failed test leaves its runtime open: remove its workloads and close it here.
proc.after.each(async () => {
  for (const rt of opened.splice(0)) {
    try {
      for (const c of await rt.list({})) await rt.remove(c.id, { force: true })
    } catch { /* closed already */ }
    await rt.close()
  }
})
proc.after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

proc('a workload runs in its own process group; stop ends every process in it', async () => {
  const { rt } = await open()
  const { id } = await rt.create(spec({ bash: 'sleep 3600 & sleep 3600 & echo started; wait' }))
  await rt.start(id)
  const pid = (await rt.inspect(id)).pid ?? 0
  await waitFor('three processes in the group', () => groupMembers(pid).length === 3)
  assert.ok(!groupMembers(process.pid).includes(pid), 'not in the daemon group')
  await rt.stop(id, { timeoutMs: 2000 })
  assert.equal(groupMembers(pid), [])
  await rt.remove(id)
  await rt.close()
})

proc('an exit whose state cannot be saved (disk full) is a warning; the daemon lives and the state is right', async () => {
  const warnings: string[] = []
  const { rt, dir } = await open({ onWarning: m => { warnings.push(m) } })
  const { id } = await rt.create(spec({ bash: 'sleep 0.3; exit 3' }))
  await rt.start(id)
  // every later save of this record fails with ENOSPC, as on a full disk
  symlinkSync('/dev/full', join(dir, 'containers', id, 'state.json.tmp'))
  await waitFor('exit seen', async () => (await rt.inspect(id)).state === 'exited')
  assert.equal((await rt.inspect(id)).exitCode, 3)
  await waitFor('a warning naming the failed save', () => warnings.some(w => /cannot save the state/.test(w) && /ENOSPC/.test(w)))
  rmSync(join(dir, 'containers', id, 'state.json.tmp'))
  await rt.remove(id)
  await rt.close()
})

proc('a stop on a full disk still ends the process; the failed save is a warning', async () => {
  const warnings: string[] = []
  const { rt, dir } = await open({ onWarning: m => { warnings.push(m) } })
  const { id } = await rt.create(spec({ bash: 'sleep 3600' }))
  await rt.start(id)
  const pid = (await rt.inspect(id)).pid ?? 0
  assert.ok(pid > 0)
  symlinkSync('/dev/full', join(dir, 'containers', id, 'state.json.tmp'))
  await rt.stop(id, { timeoutMs: 2000 })
  assert.equal(groupMembers(pid), [], 'the stopped process is gone')
  assert.equal((await rt.inspect(id)).state, 'exited')
  assert.ok(warnings.some(w => /cannot save the state/.test(w) && /ENOSPC/.test(w)), warnings.join('\n'))
  rmSync(join(dir, 'containers', id, 'state.json.tmp'))
  await rt.remove(id)
  await rt.close()
})

proc('a start whose record cannot be saved fails with the cause and leaves no process running', async () => {
  const { rt, dir } = await open()
  const marker = `monk-untracked-${process.pid}-${Date.now()}`
  const { id } = await rt.create(spec({ bash: `exec -a ${marker} sleep 3600` }))
  symlinkSync('/dev/full', join(dir, 'containers', id, 'state.json.tmp'))
  const err = await rejection(rt.start(id))
  assert.match(err.message, /cannot record its start/)
  assert.match(err.message, /ENOSPC/)
  const running = readdirSync('/proc').filter(d => /^\d+$/.test(d)).filter(d => {
    try { return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker) } catch { return false }
  })
  assert.equal(running, [], 'no untracked process')
  rmSync(join(dir, 'containers', id, 'state.json.tmp'))
  await rt.remove(id, { force: true })
  await rt.close()
})

proc('when the main process exits, the rest of its group is killed too', async () => {
  const { rt } = await open()
  const { id } = await rt.create(spec({ bash: 'sleep 3600 & echo $! > /dev/null; sleep 0.3; exit 0' }))
  await rt.start(id)
  const pid = (await rt.inspect(id)).pid ?? 0
  await waitFor('exit', async () => (await rt.inspect(id)).state === 'exited')
  assert.equal(groupMembers(pid), [])
  await rt.remove(id)
  await rt.close()
})

proc('logs rotate past maxBytes, keeping maxFiles old files, and read back in order', async () => {
  const { rt, dir } = await open({ logRotation: { maxBytes: 4000, maxFiles: 2 } })
  const { id } = await rt.create(spec({ bash: 'i=0; while [ $i -lt 400 ]; do echo "line $i"; i=$((i+1)); done; sleep 3600' }))
  await rt.start(id)
  await waitFor('the last line', async () => (await collect(await rt.logs(id, { tail: 1 })))[0]?.text === 'line 399')
  const cdir = join(dir, 'containers', id)
  const files = readdirSync(cdir).filter(f => f.startsWith('log.jsonl')).sort()
  assert.equal(files, ['log.jsonl', 'log.jsonl.1', 'log.jsonl.2'])
  for (const f of files) assert.ok(statSync(join(cdir, f)).size <= 4000, `${f} is ${statSync(join(cdir, f)).size} bytes`)
  const lines = (await collect(await rt.logs(id))).map(l => Number(l.text.slice(5)))
  assert.ok(lines.length > 50 && lines.length < 400, `${lines.length} lines kept`)
  assert.equal(lines, lines.map((_, i) => 400 - lines.length + i), 'a contiguous suffix, oldest first')
  await rt.remove(id, { force: true })
  assert.not.ok(existsSync(cdir), 'remove deletes its directory')
  await rt.close()
})

proc('one live runtime object per state directory', async () => {
  const { rt, dir } = await open()
  assert.is((await rejection(ProcessRuntime.open({ stateDir: dir }))).code, 'state-locked')
  await rt.close()
  const again = await ProcessRuntime.open({ stateDir: dir })
  await again.close()
})

proc('images are not used, and it says so once', async () => {
  const warnings: string[] = []
  const { rt } = await open({ onWarning: m => warnings.push(m) })
  assert.equal(await rt.ensureImage('busybox:1'), { image: 'busybox:1', status: 'not-used' })
  const a = await rt.create(spec({ bash: 'true' }))
  const b = await rt.create(spec({ bash: 'true' }))
  assert.equal([a.unsupported, b.unsupported], [[], []])
  assert.is(warnings.filter(w => /images are not used/.test(w)).length, 1)
  await rt.close()
})

proc('a spec without a command is rejected; so is an unknown user', async () => {
  const { rt } = await open()
  assert.is((await rejection(rt.create(spec({})))).code, 'invalid-spec')
  assert.is((await rejection(rt.create(spec({ bash: 'true', user: 'no-such-user-monk' })))).code, 'invalid-spec')
  await rt.close()
})

proc('cap-add and a read-only mount are reported as not honoured', async () => {
  const { rt } = await open()
  const { unsupported } = await rt.create(spec({ bash: 'true', 'cap-add': ['NET_ADMIN'], paths: ['/tmp:/tmp:ro'] }))
  assert.equal(unsupported.map(n => n.field).sort(), ['cap-add', 'paths[0]'])
  await rt.close()
})

proc('adoption restarts per policy what died while no daemon watched', async () => {
  const { rt, dir } = await open()
  const always = await rt.create(spec({ bash: 'sleep 3600', restart: 'always' }))
  const no = await rt.create(spec({ bash: 'sleep 3600', restart: 'no' }))
  await rt.start(always.id)
  await rt.start(no.id)
  const pids = [(await rt.inspect(always.id)).pid ?? 0, (await rt.inspect(no.id)).pid ?? 0]
  await rt.close()
  for (const p of pids) process.kill(-p, 'SIGKILL')
  await waitFor('both gone', () => pids.every(p => groupMembers(p).length === 0))

  const next = await ProcessRuntime.open({ stateDir: dir })
  opened.push(next)
  const a = await waitFor('always restarted', async () => { const i = await next.inspect(always.id); return i.running ? i : undefined })
  assert.is(a.restartCount, 1)
  assert.ok(a.pid !== pids[0])
  const n = await next.inspect(no.id)
  assert.is(n.state, 'exited')
  assert.is(n.exitCode, null, 'exit code unknown: it died unwatched')
  for (const id of [always.id, no.id]) await next.remove(id, { force: true })
  await next.close()
})

proc.run()
