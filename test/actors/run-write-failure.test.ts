// Integration (a real mesh peer; store failures injected at the mesh's put): a `workload.run` that
// answers an error starts nothing. The chaos harness found the opposite (seed 4, round 8): on a full
// disk the want/ record was written, the applied/ record after it failed, the API answered 422, and the
// want spread, so an instance the client saw refused ran (and ran twice after a later run).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Membership } from '../../actors/cluster/membership.js'
import { InstanceViews } from '../../actors/cluster/views.js'
import { workloadHandlers } from '../../actors/handlers/workloads.js'
import { systemScheduler } from '../../actors/kit/clock.js'
import { encodeTpl, keys, type TplRecord } from '../../actors/state.js'
import { StoreError } from '../../mesh/errors.js'
import type { Mesh } from '../../mesh/index.js'
import { startCluster, type TestCluster } from '../helpers/mesh-cluster.js'

const R = suite('a run whose writes fail')
let c: TestCluster | undefined
R.after(async () => { await c?.close() })

const tpl = (path: string, extra: Partial<TplRecord> = {}): TplRecord => ({ path, kind: 'runnable', value: { defines: 'runnable', containers: { main: { image: 'busybox' } } } as never, members: [], groups: [], chain: [], file: 'k.yaml', loadedAt: 1, ...extra })

type Failing = (key: string, op: 'put' | 'delete') => boolean

/** The mesh, with every put or delete that `failing` matches refused as a full disk refuses it. */
function withFailingWrites (mesh: Mesh, failing: Failing): Mesh {
  return new Proxy(mesh, {
    get (target, prop, receiver) {
      if (prop === 'put') {
        return async (key: string, value: unknown) => {
          if (failing(key, 'put')) throw new StoreError(`cannot write ${key}: the disk is full (ENOSPC)`)
          return await target.put(key, value as never)
        }
      }
      if (prop === 'delete') {
        return async (key: string) => {
          if (failing(key, 'delete')) throw new StoreError(`cannot delete ${key}: the disk is full (ENOSPC)`)
          return await target.delete(key)
        }
      }
      const v = Reflect.get(target, prop, receiver) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  })
}

async function setup (): Promise<Mesh> {
  c ??= await startCluster(1)
  const mesh = c.peers[0]!
  return mesh
}

function handlersOn (mesh: Mesh, failing: Failing): ReturnType<typeof workloadHandlers> {
  const views = new InstanceViews(mesh, new Membership(mesh, systemScheduler))
  return workloadHandlers(withFailingWrites(mesh, failing), views, systemScheduler)
}

const ctx = { signal: new AbortController().signal } as never

R('the applied/ write fails: no want/ is written, the error reaches the caller', async () => {
  const mesh = await setup()
  await mesh.put(keys.tpl('ns/a'), encodeTpl(tpl('ns/a')))
  const h = handlersOn(mesh, k => k.startsWith('applied/'))
  const err = await Promise.resolve(h['workload.run']({ type: 'workload.run', path: 'ns/a' } as never, ctx)).then(() => undefined, (e: unknown) => e)
  assert.instance(err, StoreError)
  assert.is(mesh.get(keys.want('ns/a')), undefined, 'the refused run left no want to spread')
})

R('the want/ write fails after applied/ was written: applied/ is put back', async () => {
  const mesh = await setup()
  await mesh.put(keys.tpl('ns/b'), encodeTpl(tpl('ns/b')))
  const h = handlersOn(mesh, k => k.startsWith('want/'))
  const err = await Promise.resolve(h['workload.run']({ type: 'workload.run', path: 'ns/b' } as never, ctx)).then(() => undefined, (e: unknown) => e)
  assert.instance(err, StoreError)
  assert.is(mesh.get(keys.want('ns/b')), undefined)
  assert.equal(mesh.scan('applied/ns/b').length, 0, 'the applied record written before the failure is gone again')
})

R('a group whose second member cannot be written: the first member\'s want is put back to what it was', async () => {
  const mesh = await setup()
  await mesh.put(keys.tpl('g/one'), encodeTpl(tpl('g/one')))
  await mesh.put(keys.tpl('g/two'), encodeTpl(tpl('g/two')))
  await mesh.put(keys.tpl('g/stack'), encodeTpl(tpl('g/stack', { kind: 'group', value: { defines: 'process-group', 'runnable-list': ['g/one', 'g/two'] } as never, members: ['g/one', 'g/two'] })))
  // g/one was stopped before: a failed run must leave it stopped, not running
  const ok = handlersOn(mesh, () => false)
  await ok['workload.run']({ type: 'workload.run', path: 'g/one' } as never, ctx)
  await ok['workload.stop']({ type: 'workload.stop', path: 'g/one' } as never, ctx)
  const stopped = mesh.get(keys.want('g/one'))
  assert.is((stopped as { state?: string }).state, 'stop')

  const h = handlersOn(mesh, k => k === keys.want('g/two'))
  const err = await Promise.resolve(h['workload.run']({ type: 'workload.run', path: 'g/stack' } as never, ctx)).then(() => undefined, (e: unknown) => e)
  assert.instance(err, StoreError)
  assert.equal(mesh.get(keys.want('g/one')), stopped, 'g/one is stopped again, as before the refused run')
  assert.is(mesh.get(keys.want('g/two')), undefined)
})

R('what cannot be put back is named, with status 500 (the caller cannot know the outcome)', async () => {
  const mesh = await setup()
  await mesh.put(keys.tpl('ns/c'), encodeTpl(tpl('ns/c')))
  // the applied write succeeds; then the disk is full: the want write and the undo both fail
  let full = false
  const h = handlersOn(mesh, (k, op) => {
    if (k.startsWith('want/')) full = true
    return full || op === 'delete'
  })
  const err = await Promise.resolve(h['workload.run']({ type: 'workload.run', path: 'ns/c' } as never, ctx)).then(() => undefined, (e: unknown) => e) as { code?: string, status?: number, message?: string }
  assert.is(err?.code, 'partly-applied')
  assert.is(err?.status, 500)
  assert.match(err?.message ?? '', /applied\/ns\/c/)
  assert.is(mesh.get(keys.want('ns/c')), undefined, 'no want was written')
})

R.run()
