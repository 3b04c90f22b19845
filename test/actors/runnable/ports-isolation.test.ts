// Isolation of instances on one peer (process runtime, Docker on the host network): an unpublished
// TCP service without a host-port is reached only through connections, so it gets its instance's
// own loopback address; two instances of one kit then hold the same port without a conflict, and
// anything bound on the peer's addresses (a host-port, a published service) still clashes as before.
// A server on 0.0.0.0 holding the port makes the next start fail with port-taken (probePorts).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ScopeVars, buildScope } from '../../../grammar/monkscript/variables.js'
import { evaluateValue } from '../../../actors/runnable/evaluate.js'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { HostPorts, bindings, checkReplica, instanceAddress, isInstanceAddress, probePorts, type Binding } from '../../../actors/runnable/ports.js'
import { RunnableError } from '../../../actors/runnable/errors.js'
import type { ServiceDecl } from '../../../grammar/monkscript/runnable-spec.js'

const svc = (o: Partial<ServiceDecl> & { name: string }): ServiceDecl => ({ container: null, port: null, hostPort: null, protocol: null, publish: null, address: null, ...o })
const vars = new ScopeVars(buildScope({ variables: {} }, [], {}, {}))
const ev = evaluateValue as (v: unknown, vars: ScopeVars) => Promise<unknown>
const I = suite('runnable: isolation of instances on loopback')

I('instance addresses: 127.x.y.z outside 127.0/16, stable per name, distinct for two names', () => {
  const a = instanceAddress('ns/web-a')
  const b = instanceAddress('ns/web-b')
  assert.match(a, /^127\.(\d+)\.(\d+)\.(\d+)$/)
  assert.is(instanceAddress('ns/web-a'), a, 'the same instance gets the same address after a restart')
  assert.is.not(a, b)
  for (const name of ['x', 'ns/a#0', 'ns/a#1', 'long/namespace/and/name']) {
    const [, second, , last] = instanceAddress(name).split('.').map(Number)
    assert.ok(second! >= 1 && second! <= 254 && last! >= 1 && last! <= 254, instanceAddress(name))
    assert.ok(isInstanceAddress(instanceAddress(name)))
  }
  assert.not.ok(isInstanceAddress('127.0.0.1'))
  assert.not.ok(isInstanceAddress('10.0.0.5'))
  assert.not.ok(isInstanceAddress(undefined))
})

I('bindings: only unpublished TCP services without host-port get the address (process runtime)', async () => {
  const list = await bindings([
    svc({ name: 'http', port: 8080 }),
    svc({ name: 'fixed', port: 9000, hostPort: 9000 }),
    svc({ name: 'public', port: 9100, publish: true }),
    svc({ name: 'dns', port: 53, protocol: 'udp' }),
  ], 'main', vars, ev, 'process', () => {}, 'ns/web-a')
  assert.equal(list.map(b => [b.service, b.host]), [['http', instanceAddress('ns/web-a')], ['fixed', undefined], ['public', undefined], ['dns', undefined]])
})

I('bindings under Docker: a host-network container\'s services get the address; a container with a mapped port (bridge) does not', async () => {
  const list = await bindings([
    svc({ name: 'http', port: 8080 }),
    svc({ name: 'admin', port: 9000, container: 'side' }),
    svc({ name: 'mapped', port: 80, hostPort: 8081, container: 'side' }),
  ], 'main', vars, ev, 'docker', () => {}, 'ns/web-a')
  assert.equal(list.map(b => [b.service, b.host]), [['http', instanceAddress('ns/web-a')], ['admin', undefined], ['mapped', undefined]])
})

I('probePorts: a server on every address holding the port is port-taken; a free port, or one let go in time, passes', async () => {
  const holder = createServer()
  holder.listen({ host: '0.0.0.0', port: 0 })
  await once(holder, 'listening')
  const port = (holder.address() as { port: number }).port
  const own = await bindings([svc({ name: 'http', port })], 'main', vars, ev, 'process', () => {}, 'ns/web-b')
  try {
    await probePorts('ns/web-b', 'main', own, 200)
    assert.unreachable('0.0.0.0 holds the port')
  } catch (err) {
    assert.is((err as RunnableError).code, 'port-taken')
    assert.match((err as Error).message, new RegExp(`service http needs port ${port}/tcp on its own address ${instanceAddress('ns/web-b').replaceAll('.', '\\.')}`))
  }
  await probePorts('ns/web-b', 'other-container', own, 200) // not this container's binding
  setTimeout(() => { holder.close() }, 150)
  await probePorts('ns/web-b', 'main', own, 3000) // the old holder lets go within the wait
  await probePorts('ns/web-b', 'main', own, 0)
})

I('host ports: two instances on one port each on its own address; the peer\'s addresses still clash', async () => {
  const of = async (instance: string, s: ServiceDecl): Promise<Binding[]> => await bindings([s], 'main', vars, ev, 'process', () => {}, instance)
  const hp = new HostPorts()
  hp.claim('ns/web-a', await of('ns/web-a', svc({ name: 'http', port: 8080 })))
  hp.claim('ns/web-b', await of('ns/web-b', svc({ name: 'http', port: 8080 })))
  try {
    hp.claim('ns/fixed', await of('ns/fixed', svc({ name: 'http', port: 8080, hostPort: 8080 })))
    assert.unreachable('a host-port on the peer\'s loopback beside instances on 8080')
  } catch (err) { assert.is((err as RunnableError).code, 'port-conflict') }
  hp.release('ns/web-a')
  hp.release('ns/web-b')
  hp.claim('ns/fixed', await of('ns/fixed', svc({ name: 'http', port: 8080, hostPort: 8080 })))
  try {
    hp.claim('ns/web-a', await of('ns/web-a', svc({ name: 'http', port: 8080 })))
    assert.unreachable('an instance address beside a host-port on 8080')
  } catch (err) { assert.match((err as Error).message, /already uses on this peer/) }
})

I('replica check: other instances on their own addresses do not clash; one on the peer\'s loopback does', async () => {
  const entries = [{ key: 'status/ns/web-a/me', value: { state: 'running', services: { http: { host: instanceAddress('ns/web-a'), port: 8080, protocol: 'tcp' } } } }]
  const scan = (): typeof entries => entries
  checkReplica('ns/web-b', 'me', await bindings([svc({ name: 'http', port: 8080 })], 'main', vars, ev, 'process', () => {}, 'ns/web-b'), scan)
  try {
    checkReplica('ns/fixed', 'me', await bindings([svc({ name: 'http', port: 8080, hostPort: 8080 })], 'main', vars, ev, 'process', () => {}, 'ns/fixed'), scan)
    assert.unreachable('host-port 8080 beside ns/web-a on 8080')
  } catch (err) { assert.match((err as Error).message, /which ns\/web-a \(service http\)/) }
})

I.run()
