import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { catalogue, type CatalogueMessage } from '../../../cli/api/catalogue.js'
import { SchemaError } from '../../../cli/api/errors.js'
import { RouteTable } from '../../../cli/api/routes.js'

const C = suite('api v1 catalogue')
const table = new RouteTable(catalogue)

function decode (path: string, body: Record<string, unknown>): unknown {
  const r = table.resolve(path)
  if (!r.ok) throw new Error(r.message)
  return RouteTable.decode(r.resolved.route, body)
}

const valid: Array<[string, CatalogueMessage]> = [
  ['peer', { type: 'peer.ping' }],
  ['templates', { type: 'templates.load', files: [{ path: 'kit/app.yaml', text: 'namespace: ns\n' }], strict: true }],
  ['templates', { type: 'templates.dump', paths: ['ns/app', 'local/ns/group/member'] }],
  ['workloads', { type: 'workloads.run', paths: ['ns/app'], tags: ['db'], peer: 'p1', forceMove: true, set: { 'mysql-port': '3306' } }],
  ['workloads', { type: 'workloads.stop', all: true }],
  ['workload/ns/app#1', { type: 'workload.do', action: 'backup', args: { dest: '/tmp', keep: 3 } }],
  ['workload/ns/app', { type: 'workload.logs', follow: true, last: 10, container: 'web' }],
  ['workload/ns/app', { type: 'workload.exec', command: ['sh', '-c', 'echo hi'] }],
  ['secrets', { type: 'secrets.add', scope: 'global', name: 'db-password', value: 's3cret' }],
  ['secrets', { type: 'secrets.add', scope: 'ns/app', name: 'token', value: 'x' }],
  ['cluster', { type: 'cluster.grow', provider: 'local', name: 'worker', count: 3, tags: ['w'] }],
  ['cluster', { type: 'cluster.peer-tags', peer: 'p2', tags: ['db', 'eu'] }],
]
for (const [path, body] of valid) {
  C(`accepts ${body.type} at ${path}`, () => {
    assert.equal(JSON.parse(JSON.stringify(decode(path, body as unknown as Record<string, unknown>))), body)
  })
}

const invalid: Array<[string, Record<string, unknown>, string]> = [
  ['workloads', { type: 'workloads.run', paths: ['app'] }, 'paths[0]'],
  ['workloads', { type: 'workloads.run', paths: [] }, 'paths'],
  ['workloads', { type: 'workloads.run', paths: ['ns/a'], tags: ['two words'] }, 'tags[0]'],
  ['workloads', { type: 'workloads.run', paths: ['ns/a'], set: { 'bad key!': 'x' } }, 'set.bad key!'],
  ['templates', { type: 'templates.load', files: [{ path: 'a.yaml' }] }, 'files[0].text'],
  ['secrets', { type: 'secrets.add', scope: 'everyone', name: 'x', value: 'y' }, 'scope'],
  ['cluster', { type: 'cluster.grow', provider: 'azure', name: 'w', count: 1 }, 'provider'],
  ['workload/ns/app', { type: 'workload.exec', command: [] }, 'command'],
]
for (const [path, body, field] of invalid) {
  C(`rejects ${body['type'] as string} naming ${field}`, () => {
    try {
      decode(path, body)
    } catch (e) {
      assert.instance(e, SchemaError)
      assert.is((e as SchemaError).field, field)
      return
    }
    assert.unreachable('accepted an invalid body')
  })
}

C('every message decoder accepts exactly its own type', () => {
  for (const route of catalogue) {
    for (const [type, d] of Object.entries(route.messages)) {
      assert.ok(type.startsWith(`${route.kind}.`), `${type} belongs to ${route.kind}`)
      assert.throws(() => d.decode({ type: `${type}x` }, ''), (e: unknown) => e instanceof SchemaError && e.field === 'type')
    }
  }
})

C.run()
