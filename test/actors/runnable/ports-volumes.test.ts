// Pure parts of published services and volumes: host bindings from services, Docker mappings, the
// host-port registry of a peer and the replica check; volume mounts as the process runtime links them.
import { existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ScopeVars, buildScope } from '../../../grammar/monkscript/variables.js'
import { evaluateValue } from '../../../actors/runnable/evaluate.js'
import { HostPorts, bindings, checkReplica, dockerMappings, type Binding } from '../../../actors/runnable/ports.js'
import { linkMounts, noteMounts, type VolumeRow } from '../../../actors/runnable/volumes.js'
import { RunnableError } from '../../../actors/runnable/errors.js'
import type { ServiceDecl } from '../../../grammar/monkscript/runnable-spec.js'

const svc = (o: Partial<ServiceDecl> & { name: string }): ServiceDecl => ({ container: null, port: null, hostPort: null, protocol: null, publish: null, address: null, ...o })
const vars = new ScopeVars(buildScope({ variables: { hp: { type: 'int', value: 9090 } } }, [], {}, {}))
const ev = evaluateValue as (v: unknown, vars: ScopeVars) => Promise<unknown>

const P = suite('runnable: service bindings and host ports')
P('bindings: host-port defaults to the port, Arrow is evaluated, custom binds nothing, publish is read', async () => {
  const warnings: string[] = []
  const list = await bindings([
    svc({ name: 'web', port: 80, hostPort: '<- $hp', publish: true }),
    svc({ name: 'dns', container: 'side', port: '53', protocol: 'UDP' }),
    svc({ name: 'data', protocol: 'custom', port: 1 }),
    svc({ name: 'none' }),
  ], 'main', vars, ev, 'docker', w => warnings.push(w))
  assert.equal(list, [
    { service: 'web', container: 'main', port: 80, hostPort: 9090, protocol: 'tcp', publish: true },
    { service: 'dns', container: 'side', port: 53, hostPort: 53, protocol: 'udp', publish: false },
  ])
  assert.equal(warnings, [])
  const proc = await bindings([svc({ name: 'web', port: 80, hostPort: 8080 })], 'main', vars, ev, 'process', w => warnings.push(w))
  assert.is(proc[0]?.hostPort, 80, 'a process cannot be remapped: reached on its own port')
  assert.equal(warnings, ['services.web.host-port'])
  try { await bindings([svc({ name: 'x', port: 70000 })], 'main', vars, ev, 'docker', () => {}); assert.unreachable('accepted port 70000') } catch (err) { assert.instance(err, RunnableError); assert.match((err as Error).message, /services\.x\.port must be a port number/) }
  try { await bindings([svc({ name: 'x', port: 1, protocol: 'sctp' })], 'main', vars, ev, 'docker', () => {}); assert.unreachable('accepted sctp') } catch (err) { assert.match((err as Error).message, /services\.x\.protocol must be tcp, udp or custom/) }
})
P('docker mappings: only another host port is mapped; published on every address, else loopback', () => {
  const b: Binding[] = [
    { service: 'a', container: 'main', port: 80, hostPort: 8080, protocol: 'tcp', publish: false },
    { service: 'b', container: 'main', port: 81, hostPort: 8081, protocol: 'tcp', publish: true },
    { service: 'c', container: 'main', port: 82, hostPort: 82, protocol: 'tcp', publish: false },
    { service: 'd', container: 'other', port: 83, hostPort: 8083, protocol: 'udp', publish: false },
  ]
  // unpublished: loopback only (other peers come through the overlay); published: every address
  assert.equal(dockerMappings(b, 'main'), [
    { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostIp: '0.0.0.0', hostPort: 8081, containerPort: 81, protocol: 'tcp' },
  ])
})
P('host ports: one instance per port and protocol on a peer; released ports are free again', () => {
  const hp = new HostPorts()
  const web = (port: number, protocol: 'tcp' | 'udp' = 'tcp'): Binding => ({ service: 'web', container: 'main', port, hostPort: port, protocol, publish: false })
  hp.claim('ns/a', [web(8080)])
  hp.claim('ns/a', [web(8080)]) // its own again: fine
  hp.claim('ns/b', [web(8080, 'udp')])
  try { hp.claim('ns/c', [web(8080)]); assert.unreachable('two instances on 8080/tcp') } catch (err) { assert.is((err as RunnableError).code, 'port-conflict'); assert.match((err as Error).message, /ns\/c: service web needs host port 8080\/tcp, which ns\/a \(service web\) already uses on this peer/) }
  hp.release('ns/a')
  hp.claim('ns/c', [web(8080)])
})
P('replica check: services other instances of this peer publish (not stopped ones, not other peers)', () => {
  const entries = [
    { key: 'status/ns/a/me', value: { state: 'running', services: { web: { host: '127.0.0.1', port: 8080, protocol: 'tcp' } } } },
    { key: 'status/ns/b/other', value: { state: 'running', services: { web: { host: '127.0.0.2', port: 9000 } } } },
    { key: 'status/ns/s/me', value: { state: 'stopped', services: { web: { host: '127.0.0.1', port: 9001 } } } },
  ]
  const scan = (): typeof entries => entries
  const b = (port: number): Binding[] => [{ service: 'http', container: 'main', port, hostPort: port, protocol: 'tcp', publish: false }]
  try { checkReplica('ns/c', 'me', b(8080), scan); assert.unreachable('clash with ns/a') } catch (err) { assert.match((err as Error).message, /which ns\/a \(service web\)/) }
  checkReplica('ns/a', 'me', b(8080), scan) // itself
  checkReplica('ns/c', 'me', b(9000), scan) // another peer's
  checkReplica('ns/c', 'me', b(9001), scan) // a stopped instance
})

const V = suite('runnable: volume mounts')
V('process runtime: a remapped mount becomes a symlink under the rootfs; same-path mounts stay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'monk-links-'))
  try {
    const rootfs = join(dir, 'rootfs')
    const left = linkMounts(rootfs, [
      { hostPath: join(dir, 'vol', 'data'), containerPath: '/var/lib/db', readOnly: false },
      { hostPath: join(dir, 'same'), containerPath: join(dir, 'same'), readOnly: false },
    ])
    assert.equal(left.map(m => m.containerPath), [join(dir, 'same')])
    const link = join(rootfs, 'var/lib/db')
    assert.ok(lstatSync(link).isSymbolicLink())
    assert.is(readlinkSync(link), join(dir, 'vol', 'data'))
    assert.ok(existsSync(join(dir, 'vol', 'data')), 'the volume directory is created')
    linkMounts(rootfs, [{ hostPath: join(dir, 'vol', 'other'), containerPath: '/var/lib/db', readOnly: false }])
    assert.is(readlinkSync(link), join(dir, 'vol', 'other'), 'a changed mount relinks')
    try { linkMounts(rootfs, [{ hostPath: join(dir, 'x'), containerPath: '/../../escape', readOnly: false }]); assert.unreachable('left the rootfs') } catch (err) { assert.instance(err, RunnableError) }
    const warned: string[] = []
    linkMounts(rootfs, [{ hostPath: join(dir, 'ro'), containerPath: '/etc/ro', readOnly: true }], (f, m) => warned.push(`${f}: ${m}`))
    assert.equal(warned, [`mount /etc/ro: ${join(dir, 'ro')} is linked read-write: the process runtime cannot make it read-only`], 'read-only is not dropped silently')
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
V('mounts are noted against declared volumes; other binds are rows of their own', () => {
  const rows = new Map<string, VolumeRow>([['data', { name: 'data', host: '/v/i/data', mounts: [], size: 2, kind: 'local' }]])
  noteMounts(rows, 'main', [
    { hostPath: '/v/i/data', containerPath: '/d', readOnly: false },
    { hostPath: '/v/i/data/sub', containerPath: '/s', readOnly: false },
    { hostPath: '/v/i/cache', containerPath: '/c', readOnly: false },
  ], new Set())
  noteMounts(rows, 'side', [{ hostPath: '/v/i/cache', containerPath: '/c2', readOnly: false }], new Set())
  assert.equal([...rows.values()], [
    { name: 'data', host: '/v/i/data', mounts: ['main:/d', 'main:/s'], size: 2, kind: 'local' },
    { name: 'paths', host: '/v/i/cache', mounts: ['main:/c', 'side:/c2'], size: null, kind: 'bind' },
  ])
})

P.run()
V.run()
