// A damaged or unusable store stops the peer with the real cause and a way out (mesh/store.ts):
// corruption (garbage CURRENT, undecodable entries) names --repair, a lock held by another process
// says so, a read-only home says so; `repair` drops what cannot be read and anti-entropy brings it
// back from peers.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { StoreError } from '../../mesh/errors.js'
import type { Mesh } from '../../mesh/index.js'
import { startMesh } from '../../mesh/mesh.js'
import { allAlive, startCluster, stopPeer, tempHome, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const Damage = suite('mesh store damage')
let c: TestCluster | undefined
Damage.after.each(async () => { await c?.close(); c = undefined })

async function startError (home: string, more: { repair?: boolean } = {}): Promise<StoreError> {
  try {
    const m = await startMesh({ home, listen: ['/ip4/127.0.0.1/tcp/0'], ...more })
    await m.stop()
  } catch (err) {
    assert.instance(err, StoreError)
    return err as StoreError
  }
  throw new Error('the peer started')
}

Damage('a garbage CURRENT file is reported as corruption with the way out, not as a lock', async () => {
  c = await startCluster(1)
  const home = c.homes[0]!
  await c.peers[0]!.put('want/x', 1)
  await stopPeer(c.peers[0]!)
  writeFileSync(join(home, 'data', 'CURRENT'), 'garbage')
  const err = await startError(home)
  assert.match(err.message, /corrupt/)
  assert.match(err.message, /--repair/)
  assert.not.match(err.message, /another monkd/)

  // repair: LevelDB's repair rebuilds CURRENT; the data and the identity are kept
  const warnings: string[] = []
  const m = await startMesh({ home, listen: ['/ip4/127.0.0.1/tcp/0'], repair: true, onWarning: w => warnings.push(w) })
  c.peers.push(m)
  assert.is(m.get('want/x'), 1)
  assert.is(m.peerId, c.peers[0]!.peerId)
  assert.ok(warnings.some(w => /corrupt/.test(w)) && warnings.some(w => /repaired/.test(w)), warnings.join('\n'))
})

Damage('a store that cannot be repaired is moved aside; the peer starts empty and needs a join token', async () => {
  c = await startCluster(1)
  const home = c.homes[0]!
  await stopPeer(c.peers[0]!)
  // the database's files gone, CURRENT a directory: LevelDB can neither open nor repair it
  for (const f of readdirSync(join(home, 'data'))) if (f !== 'LOCK') rmSync(join(home, 'data', f), { recursive: true })
  mkdirSync(join(home, 'data', 'CURRENT'))
  mkdirSync(join(home, 'data', '000005.log'))
  assert.match((await startError(home)).message, /CURRENT: Is a directory.*--repair/)
  const warnings: string[] = []
  let err: unknown
  try {
    const m = await startMesh({ home, listen: ['/ip4/127.0.0.1/tcp/0'], repair: true, onWarning: w => warnings.push(w) })
    c.peers.push(m)
  } catch (e) { err = e }
  const aside = readdirSync(home).filter(f => f.startsWith('data.unreadable-'))
  assert.is(aside.length, 1, 'moved aside, not deleted')
  assert.ok(existsSync(join(home, aside[0]!, 'CURRENT')))
  assert.ok(warnings.some(w => /moved it to .*starting empty/.test(w)), warnings.join('\n'))
  assert.match(String((err as Error | undefined)?.message), /has no cluster: pass a join token/)
})

Damage('undecodable entries: refused with their key, then dropped by repair and resynced from a peer', async () => {
  c = await startCluster(2)
  const [a, b] = c.peers as [Mesh, Mesh]
  await waitFor('2 peers alive', () => allAlive([a, b]))
  for (let i = 0; i < 5; i++) await b.put(`want/r/${i}`, i)
  await waitFor('a has them', () => a.get('want/r/4') === 4)
  const home = c.homes[0]!
  await stopPeer(a)
  const db = new ClassicLevel<string, Uint8Array>(join(home, 'data'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  await db.put('e/want/r/2', Uint8Array.from([0xff, 0x00, 0x13]))
  await db.put('e/want/r/3', Uint8Array.from([0x81]))
  await db.close()

  const err = await startError(home)
  assert.match(err.message, /stored entry want\/r\/[23] .*corrupt.*--repair/)

  const warnings: string[] = []
  const back = await c.add({ home, restart: true, repair: true, onWarning: w => warnings.push(w) })
  assert.ok(warnings.some(w => w.includes('"want/r/2"')) && warnings.some(w => w.includes('"want/r/3"')), warnings.join('\n'))
  assert.is(back.get('want/r/2'), undefined, 'dropped at start')
  assert.is(back.get('want/r/1'), 1, 'the readable entries stay')
  await back.whenSynced()
  await waitFor('resynced from b', () => back.get('want/r/2') === 2 && back.get('want/r/3') === 3, 15_000)
  await stopPeer(back)
  const clean = await c.add({ home, restart: true })
  assert.is(clean.get('want/r/2'), 2, 'the repaired store opens without --repair')
})

Damage('a lock held by another process is reported as such', async () => {
  const home = tempHome('locked')
  mkdirSync(join(home, 'data'), { recursive: true })
  const holder = spawn(process.execPath, ['-e', `const { ClassicLevel } = require('classic-level'); new ClassicLevel(${JSON.stringify(join(home, 'data'))}).open().then(() => { console.log('open'); setInterval(() => {}, 1000) })`], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    await new Promise<void>((resolve, reject) => { holder.stdout.once('data', () => resolve()); holder.once('exit', code => reject(new Error(`holder exited ${code}`))) })
    const err = await startError(home)
    assert.match(err.message, /another process holds its lock: is another monkd using this home\?/)
  } finally {
    holder.kill('SIGKILL')
    rmSync(home, { recursive: true, force: true })
  }
})

Damage('a read-only home is reported with the real cause', async () => {
  const mnt = tempHome('ro')
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', mnt])
  try {
    const err = await startError(mnt)
    assert.match(err.message, /cannot create the mesh store directory .*read-only file system/)
    assert.not.ok(existsSync(join(mnt, 'data')))
  } finally {
    execFileSync('umount', ['-l', mnt])
    rmSync(mnt, { recursive: true, force: true })
  }
})

Damage.run()
