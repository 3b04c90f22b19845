// The typed runnable spec that grammar/ hands the actors: typed fields, defaults, and problems
// named by field (never dropped silently).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { quantity, runnableSpec } from '../../../grammar/monkscript/runnable-spec.js'

const S = suite('monkscript: typed runnable spec')

S('reads containers, hooks, depends, readiness, actions, files, services, connections, secrets', () => {
  const { spec, problems } = runnableSpec('t/web', {
    containers: { main: { image: 'busybox', restart: 'no', hooks: { 'container-started': 'mark' } }, side: { image: 'x' } },
    depends: { 'wait-for': { runnables: ['/t/db', 't/cache'], timeout: 30 } },
    checks: { readiness: { code: 'true', period: 2, initialDelay: 1, attempts: 4 } },
    actions: { mark: { code: '1', description: 'd', arguments: { n: { type: 'int', default: 1 } } } },
    files: { conf: { path: '/etc/x', contents: 'hi', mode: '0644' }, other: { container: 'side', path: '/y', raw: true } },
    services: { http: { container: 'main', port: 80, 'host-port': '<- 8080' } },
    connections: { db: { runnable: '/t/db', service: 'pg' }, alt: { target: 't/x' } },
    'permitted-secrets': { token: true, no: false },
    affinity: { tag: 'edge', resident: true, 'ignore-pressure': true },
  })
  assert.equal(problems, [])
  assert.equal(spec.containers.map(c => [c.name, c.restart, c.hooks, 'hooks' in c.fields]), [['main', 'no', { 'container-started': 'mark' }, false], ['side', null, {}, false]])
  assert.equal(spec.depends, { runnables: ['t/db', 't/cache'], timeoutMs: 30_000 })
  assert.equal(spec.readiness, { code: 'true', periodMs: 2000, initialDelayMs: 1000, attempts: 4 })
  assert.equal(spec.actions.mark?.arguments, { n: { type: 'int', default: 1, description: null } })
  assert.equal(spec.files.map(f => [f.id, f.container, f.path, f.mode, f.raw]), [['conf', 'main', '/etc/x', 0o644, false], ['other', 'side', '/y', 0o600, true]])
  assert.equal(spec.services, [{ name: 'http', container: 'main', port: 80, hostPort: '<- 8080', protocol: null, publish: null }])
  assert.equal(spec.connections, { db: { name: 'db', target: 't/db', service: 'pg' }, alt: { name: 'alt', target: 't/x', service: '' } })
  assert.equal(spec.permittedSecrets, ['token'])
  assert.equal(spec.affinity, { tag: 'edge', resident: true, ignorePressure: true })
})

S('defaults: wait 120 s, readiness every 5 s for 10 attempts; readyness is accepted', () => {
  const { spec } = runnableSpec('t/a', { depends: { 'wait-for': { runnables: ['t/b'] } }, checks: { readyness: { code: 'ok' } } })
  assert.is(spec.depends.timeoutMs, 120_000)
  assert.equal(spec.readiness, { code: 'ok', periodMs: 5000, initialDelayMs: 0, attempts: 10 })
})

S('bad shapes are problems naming the field', () => {
  const { problems, spec } = runnableSpec('t/a', {
    containers: { main: { hooks: { 'container-exploded': 'x' } } },
    depends: { 'wait-for': { runnables: [], timeout: 'soon' } },
    actions: { broken: { description: 'no code' }, typed: { code: '1', arguments: { a: { type: 'date' } } } },
    files: { rel: { path: 'etc/x' }, badmode: { path: '/x', mode: 'rwx' } },
  })
  assert.equal(problems.map(p => p.field), ['containers.main.hooks.container-exploded', 'depends.wait-for.timeout', 'actions.broken.code', 'actions.typed.arguments.a.type', 'files.rel.path', 'files.badmode.mode'])
  assert.is(spec.depends.timeoutMs, 120_000)
  assert.equal(Object.keys(spec.actions), ['typed'])
})

S('volumes, liveness, resource requests and scale', () => {
  const { spec, problems } = runnableSpec('ns/db', {
    volumes: { data: { kind: 'SSD', size: '<- $size', path: '/srv/db', backup: { every: 1 } }, plain: {} },
    checks: { liveness: { code: 'true', period: 2, attempts: 4 } },
    containers: {
      a: { image: 'x', resources: { requests: { cpu: '500m', memory: '512Mi', 'nvidia.com/gpu': 1 } } },
      b: { image: 'y', resources: { requests: { cpu: 1.5, memory: '1G' } } },
    },
    scale: { value: 3, min: 1 },
  })
  assert.equal(spec.volumes, [
    { name: 'data', kind: 'SSD', size: '<- $size', path: '/srv/db', cloudName: null, backup: true },
    { name: 'plain', kind: null, size: null, path: null, cloudName: null, backup: false },
  ])
  assert.equal(spec.liveness, { code: 'true', periodMs: 2000, initialDelayMs: 0, attempts: 4 })
  assert.equal(spec.requests, { cpu: 2, memory: 512 * 1024 ** 2 + 1e9, 'nvidia.com/gpu': 1 })
  assert.is(spec.scale, 3)
  assert.equal(problems.map(p => p.field), ['scale.min'])
  const bad = runnableSpec('ns/x', { containers: { a: { resources: { requests: { cpu: 'lots' } } } }, checks: { liveness: { period: 300 } }, scale: { value: '1.0 metric("x") add' } })
  assert.equal(bad.problems.map(p => p.field), ['checks.liveness.code', 'containers.a.resources.requests.cpu', 'scale.value'])
  assert.is(bad.spec.scale, null)
  assert.equal([quantity('cpu', '250m'), quantity('memory', '2Gi'), quantity('memory', '10 MB'), quantity('memory', 'x'), quantity('cpu', -1)], [0.25, 2 * 1024 ** 3, 1e7, null, null])
})

S.run()
