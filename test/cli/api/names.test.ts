// The control API refuses workload, instance, template and secret names that would make unusable
// keys (`..` once named $MONK_HOME): a 400 naming the field, before the dispatcher sees anything.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient, type ApiClient } from '../../../cli/api/client.js'
import { ApiRequestError } from '../../../cli/api/errors.js'
import { monkdRoutes } from '../../../cli/api/messages.js'
import { socketPathIn, type ApiMessage } from '../../../cli/api/protocol.js'
import { startApiServer, type ApiServer } from '../../../cli/api/server.js'

const Names = suite('api names')
let dir: string
let server: ApiServer
let client: ApiClient
const seen: Array<{ path: string, msg: ApiMessage }> = []

Names.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'monk-names-'))
  server = await startApiServer({
    socketPath: socketPathIn(dir),
    routes: monkdRoutes(),
    dispatch: (path, msg) => { seen.push({ path, msg }); return Promise.resolve({ ok: true }) },
    info: { peer: 'p1' },
  })
  client = createClient({ socketPath: socketPathIn(dir), timeoutMs: 10_000 })
})
Names.after(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

async function refused (path: string, body: Record<string, unknown> & { type: string }): Promise<ApiRequestError> {
  const before = seen.length
  try {
    await client.request(path, body as ApiMessage)
  } catch (err) {
    assert.instance(err, ApiRequestError)
    assert.is(seen.length, before, 'the dispatcher never saw the message')
    return err as ApiRequestError
  }
  throw new Error(`${path} ${JSON.stringify(body)} was accepted`)
}

Names('workload paths with "..", "." or empty segments are a 400 naming the field', async () => {
  for (const type of ['workload.run', 'workload.stop', 'workload.purge', 'workload.update', 'workload.restart', 'templates.info']) {
    for (const path of ['..', 'ns/..', './x', 'ns//app', 'ns/app/']) {
      const e = await refused('peer', { type, path })
      assert.is(e.status, 400)
      assert.is(e.field, 'path')
      assert.match(e.message, /path segment/)
    }
  }
})

Names('secret scopes and names are checked the same way', async () => {
  let e = await refused('peer', { type: 'secrets.add', scope: 'ns/..', name: 'k', value: 'v' })
  assert.is(e.field, 'scope')
  e = await refused('peer', { type: 'secrets.add', scope: 'ns', name: '..', value: 'v' })
  assert.is(e.field, 'name')
  e = await refused('peer', { type: 'secrets.rm', scope: 'ns', name: 'a//b' })
  assert.is(e.field, 'name')
})

Names('an instance named ".." is refused as an actor target', async () => {
  for (const target of ['..', 'ns/..', '.', 'ns/./app']) {
    const e = await refused(`runnable/${target}`, { type: 'runnable.describe' })
    assert.is(e.status, 404)
    assert.match(e.message, /not usable/)
  }
})

Names('a/b_c and a_b/c are distinct, accepted names', async () => {
  await client.request('peer', { type: 'workload.run', path: 'a/b_c' } as ApiMessage)
  await client.request('peer', { type: 'workload.run', path: 'a_b/c' } as ApiMessage)
  await client.request('runnable/a/b_c', { type: 'runnable.describe' })
  const paths = seen.slice(-3).map(s => s.msg.type === 'workload.run' ? (s.msg as unknown as { path: string }).path : s.path)
  assert.equal(paths, ['a/b_c', 'a_b/c', 'runnable/a/b_c'])
})

Names.run()
