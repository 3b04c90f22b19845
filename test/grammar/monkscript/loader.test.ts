// Loader table tests: path forms, MANIFESTs, embeds, multi-document files, YAML 1.2 scalars, classes.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { loadFiles } from '../../helpers/monkscript.js'

const Paths = suite('path forms')

const lib = `namespace: lib
base:
  containers:
    c: {image: busybox}
  variables: {who: lib}
sub:
  variables:
    a: 1
`
const pathCases: Array<[string, string, string]> = [
  ['ns/name', 'lib/base', 'lib/base'],
  ['/ns/name', '/lib/base', 'lib/base'],
  ['./name in the same namespace', './base', 'lib/base'],
  ['templates/local/ns/name', 'templates/local/lib/base', 'lib/base'],
  ['repo-qualified monk/ns/name falls back to the loaded kit', 'monk/lib/base', 'lib/base'],
]
for (const [name, ref, want] of pathCases) {
  Paths(`inherits ${name}`, () => {
    const ns = ref.startsWith('./') ? 'lib' : 'app'
    const r = loadFiles({
      '/a/lib.yaml': lib,
      '/a/app.yaml': `namespace: ${ns}\nx:\n  defines: runnable\n  inherits: ${ref}\n`,
    })
    assert.equal(r.errors, [])
    const x = r.resolve(`${ns}/x`)
    assert.ok(x)
    assert.equal(x.chain, [want])
    assert.equal(x.value.containers, { c: { image: 'busybox' } })
  })
}

Paths('inherits a sub-path of another node', () => {
  const r = loadFiles({
    '/a/lib.yaml': lib,
    '/a/app.yaml': 'namespace: app\nx:\n  defines: runnable\n  containers:\n    c: {image: a}\n  variables:\n    inherits: lib/sub/variables\n    b: 2\n',
  })
  assert.equal(r.errors, [])
  assert.equal(r.resolve('app/x')?.value.variables, { a: 1, b: 2 })
})

Paths('group members: bare names are in the group namespace; groupsOf is innermost first', () => {
  const r = loadFiles({
    '/a/g.yaml': `namespace: g
db: {defines: runnable, containers: {c: {image: a}}}
web: {defines: runnable, containers: {c: {image: b}}}
inner: {defines: group, members: [db, g/web]}
outer: {defines: process-group, runnable-list: [g/inner, lib/base]}
`,
    '/a/lib.yaml': lib,
  })
  assert.equal(r.errors, [])
  assert.equal(r.membersOf('g/inner'), ['g/db', 'g/web'])
  assert.equal(r.membersOf('g/outer'), ['g/inner', 'lib/base'])
  assert.equal(r.groupsOf('g/db'), ['g/inner', 'g/outer'])
})

Paths('a local namespace shadows the same path from the hub repository', () => {
  const files = {
    '/hub/h.yaml': 'namespace: redis\nredis: {defines: runnable, containers: {c: {image: hub}}}\n',
    '/mine/m.yaml': 'namespace: redis\nredis: {defines: runnable, containers: {c: {image: mine}}}\n',
  }
  // Hub content is loaded with repo "monk"; local files with the default "local".
  const { loadPaths, memorySource } = loaderModule
  const src = memorySource(files)
  const hub = loadPaths(['/hub/h.yaml', '/mine/m.yaml'], { source: src })
  assert.equal((hub.resolve('redis/redis')?.value.containers as Record<string, unknown>), { c: { image: 'mine' } })
  const mixed = loadPaths(['/mine/m.yaml'], { source: src })
  assert.ok(mixed.resolve('redis/redis'))
})

import * as loaderModule from '../../../grammar/monkscript/index.js'

Paths('a repo-qualified path prefers that repository', () => {
  const { LoadResult } = loaderModule
  assert.ok(LoadResult)
  const src = loaderModule.memorySource({
    '/hub/h.yaml': 'namespace: kit\nx: {defines: runnable, containers: {c: {image: hub}}}\n',
    '/loc/l.yaml': 'namespace: kit\nx: {defines: runnable, containers: {c: {image: local}}}\n',
    '/loc/u.yaml': 'namespace: use\na: {defines: runnable, inherits: monk/kit/x}\nb: {defines: runnable, inherits: kit/x}\n',
  })
  // Two loads merged into one tree is the daemon's job; here one load per repo is enough to show the rule.
  const hubOnly = loaderModule.loadPaths(['/hub/h.yaml'], { source: src, repo: 'monk' })
  assert.is(hubOnly.nodes.get('kit/x')?.repo, 'monk')
  const local = loaderModule.loadPaths(['/loc/l.yaml', '/loc/u.yaml'], { source: src })
  assert.equal(local.resolve('use/b')?.value.containers, { c: { image: 'local' } })
  assert.equal(local.resolve('use/a')?.value.containers, { c: { image: 'local' } }, 'falls back when the hub is not loaded')
})

Paths.run()

const Manifests = suite('MANIFEST')

Manifests('LOAD order, repeated LOAD lines, RESOURCES for embeds, DIR recursion', () => {
  const r = loadFiles({
    '/kit/MANIFEST': 'REPO my-kit\nLOAD common.yaml\nLOAD app.yaml\nRESOURCES files/nginx.conf\nDIR variant-a variant-b\nDESCRIPTION a kit\n',
    '/kit/common.yaml': 'namespace: kit\ncommon: {containers: {c: {image: nginx}}}\n',
    '/kit/app.yaml': 'namespace: kit\napp:\n  defines: runnable\n  inherits: ./common\n  files:\n    conf: {container: c, path: /etc/nginx.conf, contents: <<< files/nginx.conf}\n',
    '/kit/files/nginx.conf': 'worker_processes 1;\n',
    '/kit/variant-a/MANIFEST': 'REPO a\nLOAD a.yaml\n',
    '/kit/variant-a/a.yaml': 'namespace: va\nx: {defines: runnable, inherits: kit/app}\n',
    '/kit/variant-b/MANIFEST': 'REPO b\nLOAD b.yaml\n',
    '/kit/variant-b/b.yaml': 'namespace: vb\ny: {defines: runnable, inherits: va/x}\n',
    '/kit/unlisted.yaml': 'namespace: nope\nz: {}\n',
  }, ['/kit'])
  assert.equal(r.errors, [])
  assert.equal(r.files, ['/kit/common.yaml', '/kit/app.yaml', '/kit/variant-a/a.yaml', '/kit/variant-b/b.yaml'])
  assert.is(r.manifests[0]?.repo, 'my-kit')
  assert.equal(r.manifests[0]?.meta.DESCRIPTION, ['a kit'])
  const y = r.resolve('vb/y')
  assert.equal(y?.chain, ['va/x', 'kit/app', 'kit/common'])
  assert.is(((y?.value.files as Record<string, Record<string, unknown>>).conf)?.contents, 'worker_processes 1;\n')
  assert.is(r.nodes.has('nope/z'), false, 'a MANIFEST decides what loads')
})

Manifests('lint mode (everything) also loads unlisted YAML with a namespace but not RESOURCES', () => {
  const r = loadFiles({
    '/kit/MANIFEST': 'LOAD a.yaml\nRESOURCES res.yaml\n',
    '/kit/a.yaml': 'namespace: k\na: {}\n',
    '/kit/res.yaml': 'namespace: not-a-template\n',
    '/kit/extra.yaml': 'namespace: k\nb: {}\n',
    '/kit/data.yaml': 'key: value\n',
  }, ['/kit'], { everything: true })
  assert.equal(r.files, ['/kit/a.yaml', '/kit/extra.yaml'])
})

Manifests('unknown keyword warns; missing LOAD file errors at its column; YAML in a MANIFEST errors', () => {
  const r = loadFiles({
    '/k/MANIFEST': 'REPO k\nFROBNICATE x\nLOAD a.yaml missing.yaml\n',
    '/k/a.yaml': 'namespace: k\na: {}\n',
    '/y/MANIFEST': 'REPO y\nnamespace: y\nthing:\n  defines: runnable\n',
  }, ['/k', '/y'])
  const unknown = r.diagnostics.find(d => d.code === 'manifest-unknown-keyword')
  assert.equal(unknown && [unknown.severity, unknown.file, unknown.line, unknown.column], ['warning', '/k/MANIFEST', 2, 1])
  const missing = r.diagnostics.find(d => d.code === 'manifest-missing-file')
  assert.equal(missing && [missing.severity, missing.line, missing.column], ['error', 3, 13])
  const yaml = r.diagnostics.find(d => d.code === 'manifest-yaml')
  assert.equal(yaml && [yaml.severity, yaml.file, yaml.line], ['error', '/y/MANIFEST', 2])
  assert.is(r.manifests.find(m => m.file === '/y/MANIFEST')?.repo, 'y', 'directives before the YAML are kept')
})

Manifests.run()

const Docs = suite('YAML documents and scalars')

Docs('multi-document: a later document without namespace reuses the previous one', () => {
  const r = loadFiles({ '/m.yaml': '---\nnamespace: one\na: {}\n---\nb: {}\n---\nnamespace: /two\nc: {}\n' })
  assert.equal(r.errors, [])
  assert.equal([...r.nodes.keys()], ['one/a', 'one/b', 'two/c'])
})

Docs('YAML 1.2 core schema: yes/no/on stay strings, numbers and booleans are typed', () => {
  const r = loadFiles({ '/s.yaml': 'namespace: s\nr:\n  restart: no\n  env: yes\n  on: on\n  t: true\n  n: 0755\n  f: 1.5\n  q: "1"\n  nil: null\n  empty:\n' })
  assert.equal(r.nodes.get('s/r')?.value, { restart: 'no', env: 'yes', on: 'on', t: true, n: 755, f: 1.5, q: '1', nil: null, empty: null })
})

Docs('duplicate keys warn and the later value wins (nested and top level)', () => {
  const r = loadFiles({ '/d.yaml': 'namespace: d\nx:\n  a: 1\n  a: 2\nx:\n  b: 3\n' })
  assert.equal(r.nodes.get('d/x')?.value, { b: 3 })
  const dups = r.diagnostics.filter(d => d.code === 'duplicate-key')
  assert.equal(dups.map(d => [d.severity, d.line, d.column]), [['warning', 4, 3], ['warning', 5, 1]])
})

Docs('embeds: relative to the YAML file, absolute allowed; missing file is an error at the value', () => {
  const r = loadFiles({
    '/k/sub/a.yaml': 'namespace: e\nx:\n  f1: <<< ../files/one.txt\n  f2: "<<< /abs/two.txt"\n  f3: <<< nope.txt\n',
    '/k/files/one.txt': 'ONE',
    '/abs/two.txt': 'TWO',
  }, ['/k/sub/a.yaml'])
  const v = r.nodes.get('e/x')?.value
  assert.is(v?.f1, 'ONE')
  assert.is(v?.f2, 'TWO')
  const d = r.diagnostics.find(x => x.code === 'embed-missing')
  assert.equal(d && [d.severity, d.file, d.line, d.column], ['error', '/k/sub/a.yaml', 5, 7])
})

Docs('arrow values and code fields are kept as source with positions', () => {
  const r = loadFiles({ '/a.yaml': 'namespace: a\nx:\n  defines: runnable\n  variables:\n    v: <- $a default("x")\n    q: \'<- `${b}`\'\n  actions:\n    go:\n      code: exec("c", "ls")\n  checks:\n    readyness:\n      code: |\n        "x" "y" concat\n' })
  assert.equal(r.nodes.get('a/x')?.value.variables, { v: '<- $a default("x")', q: '<- `${b}`' })
  const scripts = r.scripts.map(s => [s.kind, s.field, s.pos.line, s.pos.column])
  assert.equal(scripts, [['value', 'variables/v', 5, 8], ['value', 'variables/q', 6, 8], ['code', 'actions/go/code', 9, 13], ['code', 'checks/readiness/code', 12, 13]].map(x => x) as unknown as typeof scripts, 'readyness is recognised as readiness')
})

Docs.run()

const Classes = suite('classes (defines)')

Classes('every class, entity instances by path, legacy section descriptors', () => {
  const r = loadFiles({ '/c.yaml': `namespace: c
r: {defines: runnable, containers: {x: {image: a}}}
pg: {defines: process-group, runnable-list: [c/r]}
g: {defines: group, members: [r]}
s: {defines: service, variables: {url: x}}
e: {defines: entity, schema: {name: {type: string}}, checks: {readiness: {code: "function main() {}"}}}
i: {defines: c/e, name: hello}
i2: {defines: templates/local/c/e}
i3: {defines: entity-instance, entity: c/e}
m: {defines: module, source: "module.exports = {}"}
abs: {containers: {x: {image: a}}}
legacy:
  defines: runnable
  fun-boxes:
    defines: containers
    x: {image: b}
  variables:
    defines: variables
    v: 1
` })
  assert.equal(r.errors, [])
  const kinds = Object.fromEntries([...r.nodes.values()].map(n => [n.name, n.kind]))
  assert.equal(kinds, { r: 'runnable', pg: 'process-group', g: 'group', s: 'service', e: 'entity', i: 'entity-instance', i2: 'entity-instance', i3: 'entity-instance', m: 'module', abs: 'abstract', legacy: 'runnable' })
  assert.is(r.nodes.get('c/i')?.entityType, 'c/e')
  assert.is(r.nodes.get('c/i2')?.entityType, 'c/e')
  assert.equal(r.nodes.get('c/legacy')?.value, { defines: 'runnable', containers: { x: { image: 'b' } }, variables: { v: 1 } })
  assert.equal(r.counts(), { runnable: 2, 'process-group': 1, group: 1, service: 1, entity: 1, 'entity-instance': 3, module: 1, abstract: 1 })
  assert.is(r.scripts.some(s => s.node === 'c/e'), false, 'entity checks are JavaScript, not Arrow')
})

Classes('a node that inherits a runnable without restating defines is a runnable', () => {
  const r = loadFiles({ '/c.yaml': 'namespace: c\na: {defines: runnable, containers: {x: {image: a}}}\nb: {inherits: ./a}\nbase: {containers: {x: {image: a}}}\nc: {inherits: ./base}\n' })
  assert.is(r.nodes.get('c/b')?.kind, 'runnable')
  assert.is(r.nodes.get('c/c')?.kind, 'abstract')
})

Classes.run()
