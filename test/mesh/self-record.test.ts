// Integration (real libp2p): this peer's own `peer/<id>` record keeps every field written by
// overlapping writers: the mesh's `synced: true` (written when the first exchange completes, or at
// once for a founder) and the daemon's announce() right after start. A write is applied only once
// it is on disk, so each writer must start from the record last written, not the replica's older one
// (a lost `synced: true` left a peer "not synced" for good: placement gave it no new work).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Mesh } from '../../mesh/index.js'
import { startCluster, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

let c: TestCluster | undefined
test.after(async () => { await c?.close() })

test('announce() right after start does not undo synced: true, and both fields stay', async () => {
  c = await startCluster(1)
  const [a] = c.peers as [Mesh]
  await a.announce({ runtime: 'process' })
  const rec = (): Record<string, unknown> => a.get(`peer/${a.peerId}`) as Record<string, unknown>
  await waitFor('the founder is synced', () => a.synced)
  await new Promise(resolve => setTimeout(resolve, 300)) // every write in flight has landed
  assert.is(rec().runtime, 'process')
  assert.is(rec().synced, true)
})

test.run()
