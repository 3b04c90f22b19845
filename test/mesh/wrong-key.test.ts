// Integration: a peer with the right cluster id and bootstrap address but the wrong key never joins.
import { parseToken, encodeToken, createCluster, startMesh } from '../../mesh/index.js'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { allAlive, fastConfig, startCluster, tempHome, waitFor, type TestCluster } from '../helpers/mesh-cluster.js'

const WrongKey = suite('mesh wrong key')
let c: TestCluster

WrongKey.before(async () => {
  c = await startCluster(2)
  await waitFor('2 peers alive', () => allAlive(c.peers))
  await c.peers[0]!.put('secret/ns/x', 'not for outsiders')
})
WrongKey.after(async () => { await c.close() })

WrongKey('never connects, never appears, never receives state', async () => {
  const good = parseToken(c.peers[0]!.token())
  const forged = encodeToken({ ...good, key: createCluster().key })
  const home = tempHome('intruder')
  c.homes.push(home)
  const intruder = await startMesh({ home, listen: ['/ip4/127.0.0.1/tcp/0'], token: forged, config: fastConfig })
  c.peers.push(intruder)
  const insiders = c.peers.slice(0, 2)
  // observe for 4 s (several redial rounds): every check must hold throughout
  const end = Date.now() + 4000
  let checks = 0
  while (Date.now() < end) {
    for (const p of insiders) {
      assert.not.ok(p.connections().includes(intruder.peerId), 'an insider connected to the intruder')
      assert.not.ok(p.alive().includes(intruder.peerId))
      assert.not.ok(p.peers().some(x => x.id === intruder.peerId))
    }
    assert.equal(intruder.connections(), [])
    assert.equal(intruder.alive(), [intruder.peerId])
    assert.is(intruder.get('secret/ns/x'), undefined)
    assert.is(intruder.synced, false)
    checks++
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  assert.ok(checks > 20)
  assert.ok(allAlive(insiders), 'the insiders are unaffected')
})

WrongKey.run()
