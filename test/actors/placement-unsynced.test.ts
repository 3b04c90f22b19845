// A peer whose replica is not synced yet (its `peer/` record says `synced: false`, e.g. a restart
// that cannot reach anyone, or a clock far ahead) gets no new work, and keeps the work it claims.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { place, type DesiredInstance, type PeerView } from '../../actors/placement.js'

const Unsynced = suite('placement: unsynced peers')
const peers = (unsynced: string): PeerView[] => ['p1', 'p2', 'p3'].map(id => ({ id, name: id, tags: [], alive: true, ...(id === unsynced ? { unsynced: true } : {}) }))
const instances: DesiredInstance[] = Array.from({ length: 30 }, (_, i) => ({ key: `ns/app#${i}` }))

Unsynced('no new instance goes to an unsynced peer', () => {
  const r = place({ instances, peers: peers('p2'), claims: new Map() })
  for (const inst of instances) {
    const p = r.byInstance.get(inst.key)!
    assert.ok(p.owner !== null && p.owner !== 'p2', `${inst.key} went to ${p.owner}`)
  }
  const all = place({ instances, peers: peers('none'), claims: new Map() })
  assert.ok(instances.some(i => all.byInstance.get(i.key)!.owner === 'p2'), 'p2 gets work once synced')
})

Unsynced('an unsynced peer keeps what it claims (a restart does not move its work)', () => {
  const r = place({ instances, peers: peers('p2'), claims: new Map([['ns/app#0', [{ peerId: 'p2', epoch: 1, startedAt: 0 }]]]) })
  assert.is(r.byInstance.get('ns/app#0')!.owner, 'p2')
})

Unsynced('with only unsynced peers the refusal says why', () => {
  const r = place({ instances: [{ key: 'ns/one' }], peers: [{ id: 'p1', name: 'p1', tags: [], alive: true, unsynced: true }], claims: new Map() })
  const p = r.byInstance.get('ns/one')!
  assert.is(p.owner, null)
  assert.match((p as { message: string }).message, /not synced yet/)
})

Unsynced.run()
