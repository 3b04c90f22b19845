// `exec` with input (what `monk exec -i` sends): the command reads it, then end of file, on both
// runtimes; a command that does not read its input still exits normally; without input the
// command's stdin is empty.
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { DockerRuntime } from '../../../actors/runtime/docker.js'
import { ProcessRuntime } from '../../../actors/runtime/process.js'
import type { Runtime } from '../../../actors/runtime/runtime.js'
import { containerSpec } from '../../../actors/runtime/spec.js'
import { TEST_IMAGE, whenDocker } from '../../helpers/runtime-docker.js'
import { tempDir } from '../../helpers/tmp.js'

const E = suite('runtime exec with stdin')
const run = `stdin${process.pid}`

async function check (rt: Runtime): Promise<void> {
  const built = containerSpec({ image: TEST_IMAGE, bash: 'exec sleep 3600' }, { instance: `test/${run}/${rt.kind}`, container: 'main', peer: 'test-peer', name: `monk-t-${run}-${rt.kind}` }, { network: 'host' })
  const { id } = await rt.create(built.spec)
  try {
    await rt.start(id)
    const cat = await rt.exec(id, ['cat'], { stdin: 'x\nsecond line\n' })
    assert.equal([cat.exitCode, cat.stdout], [0, 'x\nsecond line\n'])
    const wc = await rt.exec(id, ['sh', '-c', 'wc -c; exit 4'], { stdin: Buffer.alloc(100_000, 97) })
    assert.equal([wc.exitCode, wc.stdout.trim()], [4, '100000'])
    const ignores = await rt.exec(id, ['true'], { stdin: 'not read\n'.repeat(20_000) })
    assert.is(ignores.exitCode, 0)
    const none = await rt.exec(id, ['cat'])
    assert.equal([none.exitCode, none.stdout], [0, ''])
  } finally {
    await rt.remove(id, { force: true })
  }
}

E('process runtime: the command reads the input, then end of file', async () => {
  const rt = await ProcessRuntime.open({ stateDir: join(tempDir('monk-exec-stdin'), 'runtime') })
  try { await check(rt) } finally { await rt.close() }
})

await whenDocker(E, 'docker runtime: the command reads the input, then end of file', async () => {
  const rt = await DockerRuntime.open({ pingTimeoutMs: 3000 })
  try { await check(rt) } finally { await rt.close() }
}, 'exec stdin case')

E.run()
