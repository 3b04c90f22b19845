// The overlay's decisions on a real mesh peer, from replica records: who may open a tunnel to a
// service here (authorize), and where a consumer's endpoint sends a socket (route).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import pino from 'pino'
import { Overlay } from '../../actors/cluster/overlay.js'
import { systemScheduler } from '../../actors/kit/index.js'
import { encodeClaim, encodeStatus, encodeTpl, encodeWant, keys, type StatusRecord } from '../../actors/state.js'
import type { Mesh } from '../../mesh/index.js'
import { startCluster, type TestCluster } from '../helpers/mesh-cluster.js'

const O = suite('overlay: authorise and route from the replica')
let c: TestCluster
let m: Mesh
let overlay: Overlay
const OTHER = '12D3KooWQbcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH'

const status = (services: StatusRecord['services'], state: StatusRecord['state'] = 'running'): StatusRecord => ({ state, containers: [], services, ready: true, error: null, generation: 1, updatedAt: Date.now() })
const tpl = (path: string, connections: Record<string, unknown>) => encodeTpl({ path, kind: 'runnable', value: { defines: 'runnable', connections } as never, members: [], groups: [], chain: [], file: 'k.yaml', loadedAt: Date.now() })
const want = (template: string) => encodeWant({ template, state: 'run', root: template, set: {}, tags: [], peer: null, forceMove: 0, generation: 1, updatedAt: Date.now() })

O.before(async () => {
  c = await startCluster(1)
  m = c.peers[0]!
  overlay = new Overlay(m, pino({ level: 'silent' }), systemScheduler)
  const me = m.peerId
  await m.put(keys.status('ns/web', me), encodeStatus(status({ http: { host: '127.0.0.1', port: 8080, protocol: 'tcp' }, admin: { host: '10.0.0.1', port: 9000, protocol: 'tcp', published: true } })))
  await m.put(keys.status('ns/db#1', me), encodeStatus(status({ pg: { host: '127.0.0.1', port: 5432, protocol: 'tcp' } })))
  await m.put(keys.status('ns/stopped', me), encodeStatus(status({ http: { host: '127.0.0.1', port: 8081, protocol: 'tcp' } }, 'stopped')))
  for (const [path, conns] of [['ns/client', { web: { runnable: 'ns/web', service: 'http' }, db: { target: 'ns/db' } }], ['ns/nosy', { other: { target: 'ns/other', service: 'http' } }]] as const) {
    await m.put(keys.tpl(path), tpl(path, conns))
    await m.put(keys.want(path), want(path))
    await m.put(keys.claim(path, me), encodeClaim({ epoch: 1, startedAt: Date.now() }))
  }
})
O.after(async () => { await overlay.stop(); await c.close() })

O('a consumer whose template names the target and service may open it; the decision says where to connect', () => {
  assert.equal(overlay.authorize(m.peerId, { consumer: 'ns/client', target: 'ns/web', service: 'http' }), { host: '127.0.0.1', port: 8080 })
  // a connection without a service name reaches any service of the target; a replica of a scaled target counts
  assert.equal(overlay.authorize(m.peerId, { consumer: 'ns/client', target: 'ns/db#1', service: 'pg' }), { host: '127.0.0.1', port: 5432 })
})

O('refused: a target instance that is not here, a consumer naming no connection to it, a peer that does not run the consumer, a target not running here', () => {
  const refuse = (r: ReturnType<Overlay['authorize']>): string => 'refuse' in r ? r.refuse : `allowed ${JSON.stringify(r)}`
  assert.match(refuse(overlay.authorize(m.peerId, { consumer: 'ns/client', target: 'ns/db', service: 'pg' })), /does not run service "pg"/)
  assert.match(refuse(overlay.authorize(m.peerId, { consumer: 'ns/nosy', target: 'ns/web', service: 'http' })), /ns\/nosy has no connection to ns\/web service "http"/)
  assert.match(refuse(overlay.authorize(OTHER, { consumer: 'ns/client', target: 'ns/web', service: 'http' })), new RegExp(`peer ${OTHER} does not run ns/client`))
  assert.match(refuse(overlay.authorize(m.peerId, { consumer: 'ns/client', target: 'ns/stopped', service: 'http' })), /does not run service "http"/)
  assert.match(refuse(overlay.authorize(m.peerId, { consumer: 'ns/ghost', target: 'ns/web', service: 'http' })), /does not run ns\/ghost/)
})

O('a published service is open to any peer of the cluster', () => {
  assert.equal(overlay.authorize(OTHER, { consumer: 'anything', target: 'ns/web', service: 'admin' }), { host: '127.0.0.1', port: 9000 })
})

O('route: a target on this peer is reached on loopback directly; a target running nowhere is an error naming it', () => {
  assert.equal(overlay.route('ns/client', { name: 'web', target: 'ns/web', service: 'http' }), { local: { host: '127.0.0.1', port: 8080 }, request: { consumer: 'ns/client', target: 'ns/web', service: 'http' } })
  assert.equal(overlay.route('ns/client', { name: 'db', target: 'ns/db', service: '' }), { local: { host: '127.0.0.1', port: 5432 }, request: { consumer: 'ns/client', target: 'ns/db#1', service: 'pg' } })
  assert.throws(() => overlay.route('ns/client', { name: 'x', target: 'ns/stopped', service: 'http' }), /connection x of ns\/client: ns\/stopped is not running with service "http" on any live peer/)
})

O('an endpoint keeps its address for the instance and connection; describe rows show it', async () => {
  const e1 = await overlay.endpoint('ns/client', { name: 'web', target: 'ns/web', service: 'http' })
  const e2 = await overlay.endpoint('ns/client', { name: 'web', target: 'ns/web', service: 'http' })
  assert.equal(e1, e2)
  assert.is(e1.host, '127.0.0.1')
  const rows = overlay.rows('ns/client')
  assert.equal(rows.map(r => [r.name, r.endpoint, r.target, r.state]), [['web', `127.0.0.1:${e1.port}`, 'ns/web', 'idle']])
})

O.run()
