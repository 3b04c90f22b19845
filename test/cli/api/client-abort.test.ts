// A stream keeps honouring its abort signal after it started: aborting ends it quietly and closes
// the connection (the daemon's stream sees its signal abort).
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createClient } from '../../../cli/api/client.js'
import { message } from '../../../actors/messages/fields.js'
import { startApiServer } from '../../../cli/api/server.js'
import { tempDir } from '../../helpers/tmp.js'

const Abort = suite('client stream abort')

Abort('aborting after the first items ends the loop and the server-side stream', async () => {
  const dir = tempDir('monk-abort')
  let serverAborted = false
  const server = await startApiServer({
    socketPath: join(dir, 's.sock'),
    routes: [{ kind: 'peer', target: 'none', messages: { 'x.tick': message('x.tick', {}) } }],
    dispatch: (_p, _m, ctx) => (async function * () {
      ctx.signal.addEventListener('abort', () => { serverAborted = true })
      for (let i = 0; !ctx.signal.aborted; i++) { yield i; await new Promise(resolve => setTimeout(resolve, 20)) }
    })(),
  })
  try {
    const client = createClient({ socketPath: join(dir, 's.sock') })
    const ac = new AbortController()
    const got: number[] = []
    for await (const n of client.stream<number>('peer', { type: 'x.tick' }, { signal: ac.signal })) {
      got.push(n)
      if (got.length === 3) ac.abort()
      if (got.length > 50) break
    }
    assert.equal(got.slice(0, 3), [0, 1, 2])
    assert.ok(got.length < 10, `the loop ended soon after the abort (${got.length} items)`)
    const deadline = Date.now() + 3000
    while (!serverAborted && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
    assert.ok(serverAborted, 'the daemon side saw the client go away')
  } finally {
    await server.close()
  }
})

Abort.run()
