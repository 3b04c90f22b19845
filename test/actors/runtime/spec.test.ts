// The MonkScript container → ContainerSpec builder: every §2.7.1 field a runtime can honour.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { containerName, containerSpec, imageRef, parseMount, parsePort, parseRestart } from '../../../actors/runtime/spec.js'
import { InvalidSpecError } from '../../../actors/runtime/errors.js'

const id = { instance: 'ns/app', container: 'web', peer: 'peer-1' }

function invalid (fn: () => unknown): InvalidSpecError {
  try {
    fn()
  } catch (err) {
    assert.instance(err, InvalidSpecError)
    assert.is((err as InvalidSpecError).code, 'invalid-spec')
    return err as InvalidSpecError
  }
  throw new Error('expected InvalidSpecError')
}

const ports = suite('spec: ports')
const portCases: Array<[string, string, ReturnType<typeof parsePort>]> = [
  ['same port', '8080', { hostPort: 8080, containerPort: 8080, protocol: 'tcp' }],
  ['host:container', '8080:80', { hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
  ['ip:host:container', '127.0.0.1:8080:80', { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
  ['udp', '4545:4445/udp', { hostPort: 4545, containerPort: 4445, protocol: 'udp' }],
  ['explicit tcp', '53/tcp', { hostPort: 53, containerPort: 53, protocol: 'tcp' }],
  ['ipv6', '[::1]:8080:80', { hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
  ['all addresses', '0.0.0.0:8080:80', { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]
]
for (const [name, text, want] of portCases) ports(name, () => { assert.equal(parsePort(text), want) })
for (const [name, text] of [['out of range', '70000'], ['range', '8000-8010'], ['bad protocol', '80/sctp'], ['too many parts', '1:2:3:4'], ['words', 'http']]) {
  ports(`rejects ${name ?? ''}`, () => { invalid(() => parsePort(text ?? '')) })
}
ports('a list, or one string of several; network host unless a port needs publishing', () => {
  assert.equal(containerSpec({ ports: '8080, 9090' }, id).spec.ports.map(p => p.hostPort), [8080, 9090])
  assert.is(containerSpec({ ports: [8080, '9090/udp'] }, id).spec.network, 'host')
  assert.is(containerSpec({ ports: ['8080:80'] }, id).spec.network, 'bridge')
  assert.is(containerSpec({ ports: ['127.0.0.1:80:80'] }, id).spec.network, 'bridge')
  assert.is(containerSpec({ ports: ['0.0.0.0:80:80'] }, id).spec.network, 'host')
  assert.is(containerSpec({ ports: ['8080:80'] }, id, { network: 'host' }).spec.network, 'host')
  assert.is(invalid(() => containerSpec({ ports: ['80', 'x'] }, id)).field, 'ports[1]')
})

const other = suite('spec: fields')
other('image and image-tag', () => {
  assert.is(imageRef('busybox'), 'busybox:latest')
  assert.is(imageRef('postgres:15-alpine'), 'postgres:15-alpine')
  assert.is(imageRef('postgres:15-alpine', '16'), 'postgres:16')
  assert.is(imageRef('registry:5000/team/app'), 'registry:5000/team/app:latest')
  assert.is(imageRef('registry:5000/team/app', 'v2'), 'registry:5000/team/app:v2')
  assert.is(imageRef('docker.io/bitnamilegacy/redis', '7.2'), 'docker.io/bitnamilegacy/redis:7.2')
  const pinned = containerSpec({ image: 'redis@sha256:abc', 'image-tag': '7' }, id)
  assert.is(pinned.spec.image, 'redis@sha256:abc')
  assert.equal(pinned.notes.map(n => n.field), ['image-tag'])
})
other('bash runs through sh -c, after an entrypoint when there is one; cmd is split like a shell', () => {
  const b = containerSpec({ bash: 'echo "$A"\nsleep 1' }, id).spec
  assert.equal([b.entrypoint, b.cmd], [['sh', '-c'], ['echo "$A"\nsleep 1']])
  const e = containerSpec({ entrypoint: '/init --flag', bash: 'run' }, id).spec
  assert.equal([e.entrypoint, e.cmd], [['/init', '--flag'], ['sh', '-c', 'run']])
  const c = containerSpec({ cmd: `server --name 'my app' "x y"` }, id).spec
  assert.equal(c.cmd, ['server', '--name', 'my app', 'x y'])
  assert.is(c.entrypoint, undefined)
  assert.equal(containerSpec({ command: ['a', 'b'] }, id).spec.cmd, ['a', 'b'])
  const both = containerSpec({ bash: 'x', cmd: 'y' }, id)
  assert.equal(both.notes.map(n => n.field), ['cmd'])
  assert.is(invalid(() => containerSpec({ entrypoint: 'a "b' }, id)).field, 'entrypoint')
})
other('environment, labels and the monk labels', () => {
  const s = containerSpec({ environment: ['A=1', 'B=x=y', 'C='], labels: ['team=core', 'monk.peer=evil'] }, id)
  assert.equal(s.spec.env, { A: '1', B: 'x=y', C: '' })
  assert.equal(s.spec.labels, { team: 'core', 'monk.instance': 'ns/app', 'monk.container': 'web', 'monk.peer': 'peer-1' })
  assert.equal(s.notes.map(n => n.field), ['labels'])
  assert.equal(containerSpec({ environment: { K: 5 } }, id).spec.env, { K: '5' })
  assert.is(invalid(() => containerSpec({ environment: ['A=1', 'NOEQUALS'] }, id)).field, 'environment[1]')
})
other('paths, restart, cap-add, ulimits, user, workdir', () => {
  assert.equal(parseMount('/data:/var/lib/db'), { hostPath: '/data', containerPath: '/var/lib/db', readOnly: false })
  assert.equal(parseMount('/etc/x:/x:ro'), { hostPath: '/etc/x', containerPath: '/x', readOnly: true })
  invalid(() => parseMount('data:/x'))
  invalid(() => parseMount('/a:/b:rx'))
  const blobs = containerSpec({ paths: ['blobs://x:/y', '/a:/b'] }, id)
  assert.is(blobs.spec.mounts.length, 1)
  assert.equal(blobs.notes.map(n => n.field), ['paths[0]'])
  assert.equal(parseRestart('no'), { name: 'no' })
  assert.equal(parseRestart('unless-stopped'), { name: 'unless-stopped' })
  assert.equal(parseRestart('on-failure'), { name: 'on-failure' })
  assert.equal(parseRestart('on-failure:5'), { name: 'on-failure', maxRetries: 5 })
  invalid(() => parseRestart('sometimes'))
  assert.equal(containerSpec({ 'cap-add': ['CAP_NET_BIND_SERVICE', 'sys_admin'] }, id).spec.capAdd, ['NET_BIND_SERVICE', 'SYS_ADMIN'])
  assert.equal(containerSpec({ ulimits: { nofile: { soft: 1024, hard: 4096 }, nproc: 100, core: { hard: -1 } } }, id).spec.ulimits, [
    { name: 'nofile', soft: 1024, hard: 4096 }, { name: 'nproc', soft: 100, hard: 100 }, { name: 'core', soft: -1, hard: -1 }
  ])
  assert.is(invalid(() => containerSpec({ ulimits: { files: 1 } }, id)).field, 'ulimits.files')
  assert.is(invalid(() => containerSpec({ ulimits: { nofile: { soft: 10, hard: 5 } } }, id)).field, 'ulimits.nofile')
  assert.is(containerSpec({ user: '1000:1000', workdir: '/srv' }, id).spec.user, '1000:1000')
  assert.is(invalid(() => containerSpec({ workdir: 'srv' }, id)).field, 'workdir')
})
other('fields not carried are reported; hooks and files are left to the actor', () => {
  const s = containerSpec({ image: 'x', hooks: { 'container-started': 'a' }, files: [], resources: { requests: { 'nvidia.com/gpu': 1 } }, colour: 'blue' }, id)
  assert.equal(s.notes.map(n => n.field).sort(), ['colour', 'resources'])
})
other('mounted-volumes bind the declared volume (or its subdir) at path; an undeclared volume is an error', () => {
  const volumes = { data: '/peer/volumes/ns%2Fapp/data', logs: '/srv/logs' }
  const s = containerSpec({ 'mounted-volumes': { data: { path: '/var/lib/db' }, logs: { path: '/logs', subdir: 'web/' } } }, id, { volumes })
  assert.equal(s.spec.mounts, [
    { hostPath: '/peer/volumes/ns%2Fapp/data', containerPath: '/var/lib/db', readOnly: false },
    { hostPath: '/srv/logs/web', containerPath: '/logs', readOnly: false }
  ])
  assert.equal(s.notes, [])
  assert.equal(containerSpec({ 'mounted-volumes': { data: '/d' } }, id, { volumes }).spec.mounts.map(m => m.containerPath), ['/d'])
  const undeclared = invalid(() => containerSpec({ 'mounted-volumes': { cache: { path: '/c' } } }, id, { volumes }))
  assert.is(undeclared.field, 'mounted-volumes.cache')
  assert.match(undeclared.message, /not declared.*data, logs/)
  assert.is(invalid(() => containerSpec({ 'mounted-volumes': { data: { path: 'rel' } } }, id, { volumes })).field, 'mounted-volumes.data.path')
  assert.is(invalid(() => containerSpec({ 'mounted-volumes': { data: { path: '/d', subdir: '../x' } } }, id, { volumes })).field, 'mounted-volumes.data.subdir')
  assert.is(invalid(() => containerSpec({ 'mounted-volumes': ['data'] }, id, { volumes })).field, 'mounted-volumes')
})
other('names: readable, unique per instance and container, valid', () => {
  const a = containerName('ns/app', 'web')
  assert.match(a, /^monk-ns-app-web-[0-9a-f]{8}$/)
  assert.is.not(containerName('a/b-c', 'd'), containerName('a-b/c', 'd'))
  assert.ok(containerName('x'.repeat(200), 'y').length <= 63)
  assert.is(containerSpec({}, { ...id, name: 'given' }).spec.name, 'given')
  invalid(() => containerSpec({}, { ...id, name: '-bad name' }))
})

ports.run()
other.run()
