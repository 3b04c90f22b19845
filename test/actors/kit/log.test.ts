import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { spawnActor, startSystem, tell, type Logger } from '../../../actors/kit/index.js'
import { waitFor } from '../../helpers/actors-wait.js'

const Log = suite('actor kit: logging')

Log('a pino logger is a kit Logger; a crash is one JSON line with the actor, the message type and the error stack', async () => {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString())); done() } })
  const logger: Logger = pino({ level: 'info' }, sink)
  const system = startSystem('pino', { logger })
  try {
    const a = spawnActor<null, { type: 'job.run' }>(system, 'runnable:ns/app', {
      initialState: null,
      handle: () => { throw new Error('exit code 3') },
      restart: { initialDelayMs: 1, jitter: 0 },
    })
    tell(a, { type: 'job.run' })
    await waitFor('crash line', () => lines.some(l => l['level'] === 40))
    const line = lines.find(l => l['level'] === 40)!
    assert.is(line['actor'], 'runnable:ns/app')
    assert.is(line['message'], 'job.run')
    assert.is((line['err'] as { message: string }).message, 'exit code 3')
    assert.match((line['err'] as { stack: string }).stack, /exit code 3\n\s+at /)
    assert.match(line['msg'] as string, /runnable:ns\/app crashed handling job\.run: exit code 3; restarting in 1 ms/)
  } finally {
    system.stop()
  }
})

Log.run()
