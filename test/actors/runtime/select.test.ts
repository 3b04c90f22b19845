// Runtime selection without an engine: `process`, `auto` falling back, `docker` failing clearly.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { isRuntimeMode, selectRuntime } from '../../../actors/runtime/select.js'
import { rejection } from '../../helpers/runtime-wait.js'

const select = suite('select')
const dir = mkdtempSync(join(tmpdir(), 'monk-select-'))
select.after(() => { rmSync(dir, { recursive: true, force: true }) })
const nowhere = { socketPath: join(dir, 'no-engine.sock'), pingTimeoutMs: 500 }

select('modes', () => {
  assert.ok(isRuntimeMode('auto') && isRuntimeMode('docker') && isRuntimeMode('process'))
  assert.not.ok(isRuntimeMode('podman'))
})
select('process mode opens the process runtime', async () => {
  const s = await selectRuntime({ mode: 'process', process: { stateDir: join(dir, 'p1') } })
  assert.is(s.runtime.kind, 'process')
  await s.runtime.close()
})
select('auto falls back to the process runtime when no engine answers, and says why', async () => {
  const s = await selectRuntime({ mode: 'auto', docker: nowhere, process: { stateDir: join(dir, 'p2') } })
  assert.is(s.runtime.kind, 'process')
  assert.match(s.reason, /no container engine answers on unix:\/\/.*no-engine\.sock/)
  await s.runtime.close()
})
select('docker mode without an engine fails with engine-unreachable', async () => {
  const err = await rejection(selectRuntime({ mode: 'docker', docker: nowhere }))
  assert.is(err.code, 'engine-unreachable')
  assert.match(err.message, /no-engine\.sock/)
})
select.run()
