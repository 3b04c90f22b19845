// monkd and SIGHUP, with a real monkd process: a hangup does not stop the daemon (a chaos run saw a
// monkd killed by the kernel's SIGHUP to a stopped process whose group lost its parent); it is
// noted in the log, the control API keeps answering, and SIGTERM still stops it cleanly.
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnMonkd, until } from '../helpers/monkd.js'

const S = suite('monkd: SIGHUP')
const base = mkdtempSync(join(tmpdir(), 'monk-hangup-'))
S.after(() => { rmSync(base, { recursive: true, force: true }) })

S('a SIGHUP is logged and ignored; SIGTERM still stops monkd', async () => {
  const d = await spawnMonkd('h', join(base, 'h'), ['--runtime', 'process'])
  try {
    const log = join(d.home, 'logs', 'monkd.log')
    const noted = (): number => (readFileSync(log, 'utf8').match(/SIGHUP ignored/g) ?? []).length
    // one at a time: two signals sent at once may arrive as one
    for (const n of [1, 2]) {
      d.child.kill('SIGHUP')
      await until(`hangup ${n} is in the log`, () => noted() === n, 10_000)
    }
    assert.is(d.child.exitCode, null, 'still running')
    await d.client.ping()
    const st = await d.client.request<{ name: string }>('peer', { type: 'peer.status' })
    assert.is(st.name, 'h')
    const exited = once(d.child, 'exit')
    d.child.kill('SIGTERM')
    const [code] = await exited as [number | null]
    assert.is(code, 0)
  } finally {
    d.child.kill('SIGKILL')
  }
})

S.run()
