// Placement with capacity: requests are reserved against what peers publish, never overcommitted,
// and an instance that fits nowhere says which peer was passed over for what, the same on every peer.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { place, type DesiredInstance, type PeerView } from '../../actors/placement.js'

const GiB = 1024 ** 3
const peer = (id: string, cpu: number, memory: number): PeerView => ({ id, name: `n-${id}`, tags: [], alive: true, capacity: { cpu, memory } })
const inst = (key: string, cpu: number, memory = 0): DesiredInstance => ({ key, requests: { cpu, memory } })

const C = suite('placement: capacity')
C('requests are reserved: the second of two that each fit alone waits; it names the peer and the shortfall', () => {
  const r = place({ instances: [inst('ns/a', 0.6, GiB / 4), inst('ns/b', 0.6, GiB / 4)], peers: [peer('p1', 1, GiB)], claims: new Map() })
  const a = r.byInstance.get('ns/a')!
  const b = r.byInstance.get('ns/b')!
  assert.is(a.owner, 'p1')
  assert.is(b.owner, null)
  if (b.owner !== null) return
  assert.equal(b.passedOver, [{ peer: 'n-p1', why: 'resources', detail: 'cpu 0.6 requested, 0.4 free of 1' }])
  assert.is(b.message, 'no eligible peer for ns/b: 1 without room for the requests (n-p1: cpu 0.6 requested, 0.4 free of 1)')
})
C('a request larger than every peer waits; a bigger peer takes it; the answer does not depend on input order', () => {
  const big = inst('ns/big', 2, 2 * GiB)
  const small = [peer('p1', 1, GiB), peer('p2', 1.5, 4 * GiB)]
  const none = place({ instances: [big], peers: small, claims: new Map() }).byInstance.get('ns/big')!
  assert.is(none.owner, null)
  if (none.owner === null) assert.equal(none.passedOver.map(p => `${p.peer}: ${p.detail}`), ['n-p1: cpu 2 requested, 1 free of 1, memory 2Gi requested, 1Gi free of 1Gi', 'n-p2: cpu 2 requested, 1.5 free of 1.5'])
  const withBig = [...small, peer('p3', 4, 8 * GiB)]
  assert.is(place({ instances: [big], peers: withBig, claims: new Map() }).byInstance.get('ns/big')!.owner, 'p3')
  assert.is(place({ instances: [big], peers: [...withBig].reverse(), claims: new Map() }).byInstance.get('ns/big')!.owner, 'p3')
})
C('replicas of a scaled runnable spread one per peer while peers last', () => {
  const peers = [peer('p1', 4, 8 * GiB), peer('p2', 4, 8 * GiB), peer('p3', 4, 8 * GiB)]
  const r = place({ instances: ['ns/w#0', 'ns/w#1', 'ns/w#2', 'ns/w#3'].map(key => ({ key })), peers, claims: new Map() })
  const owners = r.placements.map(p => p.owner)
  assert.equal(new Set(owners.slice(0, 3)).size, 3, owners.join(','))
  assert.ok(owners[3] !== null)
})
C.run()
