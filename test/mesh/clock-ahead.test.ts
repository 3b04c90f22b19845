// Integration (real libp2p): a peer whose store holds a clock years ahead (a boot with a wrong
// clock) reports it at start, does not adopt it, keeps the writes it made then (stamped again with
// the current time), syncs with the others and its new writes are accepted everywhere.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { encodeCbor } from '../../mesh/codec.js'
import type { Mesh } from '../../mesh/index.js'
import { Store } from '../../mesh/store.js'
import { allAlive, startCluster, stopPeer, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const Ahead = suite('mesh clock ahead')
let c: TestCluster
Ahead.after(async () => { await c.close() })

Ahead('a stored HLC years ahead is reported, not adopted, and the peer syncs and writes again', async () => {
  c = await startCluster(2)
  const [a, b] = c.peers as [Mesh, Mesh]
  await waitFor('2 peers alive', () => allAlive([a, b]))
  await a.put('want/old', 'before the bad boot')
  await waitFor('b has want/old', () => b.get('want/old') === 'before the bad boot')
  const home = c.homes[0]!
  await stopPeer(a)

  // what a boot with the clock five years ahead leaves behind
  const future = Date.now() + 5 * 365 * 86_400_000
  const store = await Store.open(home)
  await store.write([
    { key: 'want/written-in-the-future', hlc: { wall: future, counter: 3, peer: a.peerId }, value: 'kept' },
    { key: 'want/old', hlc: { wall: future, counter: 4, peer: a.peerId }, value: 'rewritten during the bad boot' },
    { key: 'want/from-b-in-the-future', hlc: { wall: future, counter: 0, peer: b.peerId }, value: 'dropped' },
  ], true)
  await store.close()
  const db = new ClassicLevel<string, Uint8Array>(join(home, 'data'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.put('m/hlc', encodeCbor([future, 9]))
  await db.close()

  const warnings: string[] = []
  const back = await c.add({ home, restart: true, onWarning: w => warnings.push(w) })
  assert.ok(warnings.some(w => /ahead of this machine's clock/.test(w) && /days/.test(w)), warnings.join('\n'))
  const e = back.entry('want/written-in-the-future')!
  assert.is(e.value, 'kept', 'the write made during the bad boot is kept')
  assert.ok(e.hlc.wall < Date.now() + 60_000, 'and stamped with the current time')
  assert.is(back.get('want/old'), 'rewritten during the bad boot')
  assert.is(back.entry('want/from-b-in-the-future'), undefined, 'other peers\' future entries are dropped')

  await back.whenSynced()
  assert.ok(await back.testing.syncWith(b.peerId), 'anti-entropy with b works')
  await back.put('want/after', 1)
  assert.ok(back.entry('want/after')!.hlc.wall < Date.now() + 60_000)
  await waitFor('b accepts its writes', () => b.get('want/after') === 1 && b.get('want/written-in-the-future') === 'kept' && b.get('want/old') === 'rewritten during the bad boot', 15_000)
  assert.is(b.counters().rejectedSkew, 0, 'nothing of it was refused as skewed')
  await waitFor('its record says it is synced (placement may give it work)', () => (b.get(`peer/${back.peerId}`) as { synced?: boolean }).synced === true, 10_000)

  // the bad mark is gone from the store: a second restart is quiet
  await stopPeer(back)
  const quiet: string[] = []
  const again = await c.add({ home, restart: true, onWarning: w => quiet.push(w) })
  assert.equal(quiet, [])
  assert.is(again.get('want/after'), 1)
})

Ahead.run()
