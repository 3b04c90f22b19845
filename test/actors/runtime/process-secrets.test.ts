// No plaintext at rest in the process runtime (issue 13): a container's environment (resolved
// secrets) is never written under the state directory; a new daemon adopting the live process gets
// the values back from the process itself, and one that finds the process dead does not restart it
// with a lost environment (its runnable creates it again).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ProcessRuntime } from '../../../actors/runtime/process.js'
import { containerSpec } from '../../../actors/runtime/spec.js'
import { waitFor } from '../../helpers/runtime-wait.js'

const SECRET = 'pl41n-s3cret-' + String(process.pid) + '-value'
const dirs: string[] = []
const opened: ProcessRuntime[] = []

/** Every regular file under `dir`, recursively (pipes and sockets skipped). */
function files (dir: string): string[] {
  const out: string[] = []
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name)
    if (d.isDirectory()) out.push(...files(p))
    else if (d.isFile()) out.push(p)
  }
  return out
}

const test = suite('process runtime: no secret at rest')
test.after(async () => {
  for (const rt of opened) await rt.close().catch(() => {})
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

test('the environment stays off disk; adoption recovers it from the live process; a dead one is not restarted blind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'monk-proc-secret-'))
  dirs.push(dir)
  const rt = await ProcessRuntime.open({ stateDir: dir })
  opened.push(rt)
  const { spec } = containerSpec({ image: 'ignored:1', bash: 'sleep 3600', restart: 'always', environment: { DB_PASSWORD: SECRET, PLAIN: 'x' } }, { instance: 'test/sec/a', container: 'a', peer: 'p' })
  const c = await rt.create(spec)
  await rt.start(c.id)
  const pid = (await rt.inspect(c.id)).pid!
  // the process has it
  assert.ok(readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`DB_PASSWORD=${SECRET}`))
  const all = files(dir)
  assert.ok(all.some(f => f.endsWith('state.json')), 'the record is there')
  for (const f of all) assert.not.ok(readFileSync(f, 'utf8').includes(SECRET), `${f} holds the secret`)
  for (const f of all.filter(f => f.endsWith('state.json'))) assert.is(statSync(f).mode & 0o077, 0, `${f} is readable by others`)
  const rec = JSON.parse(readFileSync(all.find(f => f.endsWith('state.json'))!, 'utf8')) as { envNames: string[], spec: { env: Record<string, string> } }
  assert.equal(rec.envNames.sort(), ['DB_PASSWORD', 'PLAIN'])
  assert.equal(rec.spec.env, {})
  await rt.close()

  // a new daemon adopts the live process: exec sees the environment again
  const next = await ProcessRuntime.open({ stateDir: dir })
  opened.push(next)
  const r = await next.exec(c.id, ['sh', '-c', 'printf %s "$DB_PASSWORD"'])
  assert.is(r.exitCode, 0)
  assert.is(r.stdout, SECRET)
  for (const f of files(dir)) assert.not.ok(readFileSync(f, 'utf8').includes(SECRET), `${f} holds the secret after adoption`)
  await next.close()

  // it dies while no daemon watches: the next one leaves it exited (the runnable re-creates it)
  process.kill(-pid, 'SIGKILL')
  await waitFor('gone', () => { try { return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true } catch { return true } })
  const warnings: string[] = []
  const third = await ProcessRuntime.open({ stateDir: dir, onWarning: m => warnings.push(m) })
  opened.push(third)
  const i = await third.inspect(c.id)
  assert.is(i.state, 'exited')
  assert.is(i.running, false)
  assert.ok(warnings.some(w => w.includes('environment is not kept on disk')), warnings.join('\n'))
  await third.remove(c.id, { force: true })
  await third.close()
})

test.run()
