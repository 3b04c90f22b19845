// monkd's log file on a full disk: lines are dropped (and counted), the daemon keeps running.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { openLogFile } from '../../cli/log-file.js'
import { spawnMonkd } from '../helpers/monkd.js'

const dirs: string[] = []
test.after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

test('a write that fails drops the line, warns once, and resumes when the file can be written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'monk-logfile-'))
  dirs.push(dir)
  const path = join(dir, 'monkd.log')
  symlinkSync('/dev/full', path) // every write: ENOSPC
  const warnings: string[] = []
  const log = openLogFile(path, { warn: m => { warnings.push(m) } })
  log.write('{"msg":"one"}\n')
  log.write('{"msg":"two"}\n')
  assert.is(log.dropped, 2)
  assert.is(warnings.length, 1)
  assert.match(warnings[0]!, /ENOSPC/)
  unlinkSync(path) // room again
  log.write('{"msg":"three"}\n')
  log.end()
  const lines = readFileSync(path, 'utf8').trim().split('\n').map(l => JSON.parse(l) as { msg: string })
  assert.equal(lines.map(l => l.msg), ['three', 'the log file was not writable: 2 line(s) dropped'])
})

test('monkd whose log file cannot be written starts, answers and keeps running', async () => {
  const home = mkdtempSync(join(tmpdir(), 'monk-logfull-'))
  dirs.push(home)
  mkdirSync(join(home, 'logs'), { recursive: true })
  symlinkSync('/dev/full', join(home, 'logs', 'monkd.log'))
  const d = await spawnMonkd('full', home, ['--runtime', 'process'])
  try {
    await d.client.ping()
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.is(d.child.exitCode, null, `monkd exited: ${d.output()}`)
    assert.match(d.output(), /cannot write the log file/)
  } finally {
    d.child.kill('SIGKILL')
  }
})

test.run()
