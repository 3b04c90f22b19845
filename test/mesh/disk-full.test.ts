// Integration (real libp2p, a real full disk): a local write whose store write fails takes no
// effect: the caller gets StoreError, the value is not applied and never reaches other peers; once
// space is back the same running peer writes again (LevelDB reopened), and a restart shows exactly
// the acknowledged writes. The home lives on a 2 MiB tmpfs (needs root to mount; the test fails
// rather than pretends when it cannot).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { mkdirSync, openSync, rmSync, unlinkSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { StoreError } from '../../mesh/errors.js'
import type { Mesh } from '../../mesh/index.js'
import { allAlive, startCluster, stopPeer, tempHome, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const Disk = suite('mesh disk full')
let c: TestCluster | undefined
const mnt = tempHome('tmpfs')
let mounted = false

Disk.before(() => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mnt])
  mounted = true
})
Disk.after(async () => {
  await c?.close()
  if (mounted) execFileSync('umount', ['-l', mnt])
  rmSync(mnt, { recursive: true, force: true })
})

/** Fills the file system of `dir` with one file; returns its path. */
function fill (dir: string): string {
  const path = join(dir, 'filler')
  const fd = openSync(path, 'w')
  const chunk = Buffer.alloc(64 * 1024, 1)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  }
  // and the last few bytes
  try { for (;;) writeSync(fd, Buffer.alloc(512, 1)) } catch {}
  closeSync(fd)
  return path
}

Disk('a write that cannot reach the disk is refused, applied nowhere, and the store recovers without a restart', async () => {
  c = await startCluster(1)
  const home = join(mnt, 'home')
  mkdirSync(home)
  const a = await c.add({ home })
  const [b] = c.peers as [Mesh]
  await waitFor('2 peers alive', () => allAlive([a, b]))
  await a.put('want/before', 1)
  await waitFor('b has want/before', () => b.get('want/before') === 1)

  const filler = fill(mnt)
  let failed: unknown
  // LevelDB buffers some bytes: a few writes may still fit; the first refused one is what counts
  for (let i = 0; i < 200 && failed === undefined; i++) {
    try { await a.put(`want/full/${i}`, 'x'.repeat(4096)) } catch (err) { failed = err; assert.is(a.get(`want/full/${i}`), undefined, 'a refused write is not applied') }
  }
  assert.instance(failed, StoreError)
  assert.match((failed as Error).message, /disk is full|No space left/i)
  const lastOk = [...Array(200).keys()].filter(i => a.get(`want/full/${i}`) !== undefined)
  assert.ok(await a.testing.syncWith(b.peerId), 'anti-entropy still runs')
  assert.ok(await b.testing.syncWith(a.peerId))
  for (let i = 0; i < 200; i++) {
    if (a.get(`want/full/${i}`) === undefined) assert.is(b.get(`want/full/${i}`), undefined, `refused want/full/${i} did not spread`)
  }

  unlinkSync(filler)
  await a.put('want/after', 2)
  assert.is(a.get('want/after'), 2, 'the same running peer writes again once space is back')
  await waitFor('b has want/after', () => b.get('want/after') === 2)

  await stopPeer(a)
  const again = await c.add({ home, restart: true })
  assert.is(again.get('want/after'), 2)
  assert.is(again.get('want/before'), 1)
  for (const i of lastOk) assert.is(again.get(`want/full/${i}`), 'x'.repeat(4096), `acknowledged want/full/${i} survived`)
  for (let i = 0; i < 200; i++) if (!lastOk.includes(i)) assert.is(again.get(`want/full/${i}`), undefined)
})

Disk.run()
