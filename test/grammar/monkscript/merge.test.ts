// Inheritance merge rules: spec appendix B.1 and our own table.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { merge, mergeNode, type Value } from '../../../grammar/monkscript/index.js'
import { loadFiles } from '../../helpers/monkscript.js'

const Merge = suite('merge rules')

const cases: Array<{ name: string, parent: Value, child: Value, want: Value }> = [
  { name: 'maps deep-merge, child keys win', parent: { a: 1, b: { c: 2, d: 3 } }, child: { b: { c: 9 } }, want: { a: 1, b: { c: 9, d: 3 } } },
  { name: 'scalar replaces scalar', parent: { a: 'x' }, child: { a: 'y' }, want: { a: 'y' } },
  { name: 'scalar replaces a map', parent: { a: { b: 1 } }, child: { a: 'flat' }, want: { a: 'flat' } },
  { name: 'map replaces a scalar', parent: { a: 'flat' }, child: { a: { b: 1 } }, want: { a: { b: 1 } } },
  { name: 'list merges by index: shorter child keeps the tail', parent: { l: [1, 2, 3] }, child: { l: [9] }, want: { l: [9, 2, 3] } },
  { name: 'list merges by index: longer child appends', parent: { l: [1] }, child: { l: [7, 8, 9] }, want: { l: [7, 8, 9] } },
  { name: 'empty child list clears', parent: { l: [1, 2] }, child: { l: [] }, want: { l: [] } },
  { name: 'maps at one list index deep-merge', parent: { l: [{ a: 1, b: 2 }] }, child: { l: [{ b: 3 }] }, want: { l: [{ a: 1, b: 3 }] } },
  { name: 'list replaces a scalar', parent: { l: 'x' }, child: { l: ['y'] }, want: { l: ['y'] } },
  { name: 'scalar replaces a list', parent: { l: ['x'] }, child: { l: 'y' }, want: { l: 'y' } },
  { name: 'null child replaces', parent: { a: { b: 1 } }, child: { a: null }, want: { a: null } },
  { name: 'keys only in the parent survive', parent: { a: 1, b: 2 }, child: { c: 3 }, want: { a: 1, b: 2, c: 3 } },
  { name: 'booleans replace', parent: { private: true }, child: { private: false }, want: { private: false } },
  { name: 'variable: scalar over a full spec sets only value', parent: { variables: { port: { type: 'int', value: 8080, env: 'PORT' } } }, child: { variables: { port: 9090 } }, want: { variables: { port: { type: 'int', value: 9090, env: 'PORT' } } } },
  { name: 'variable: partial spec merges', parent: { variables: { port: { type: 'int', value: 80 } } }, child: { variables: { port: { value: 8080 } } }, want: { variables: { port: { type: 'int', value: 8080 } } } },
  { name: 'variable: shorthand over shorthand replaces', parent: { variables: { mode: 'dev' } }, child: { variables: { mode: 'prod' } }, want: { variables: { mode: 'prod' } } },
  { name: 'nested variables maps get the variable rule too', parent: { g: { variables: { v: { value: 1, env: 'V' } } } }, child: { g: { variables: { v: 2 } } }, want: { g: { variables: { v: { value: 2, env: 'V' } } } } },
  { name: 'arrow strings replace like scalars', parent: { a: '<- $x' }, child: { a: '<- $y default(1)' }, want: { a: '<- $y default(1)' } },
  { name: '__proto__ stays a plain key', parent: { a: 1 }, child: JSON.parse('{"__proto__": {"polluted": 1}}') as Value, want: JSON.parse('{"a": 1, "__proto__": {"polluted": 1}}') as Value },
]

for (const c of cases) {
  Merge(c.name, () => {
    const before = JSON.stringify(c.parent)
    const got = mergeNode(c.parent, c.child)
    assert.equal(JSON.parse(JSON.stringify(got)), JSON.parse(JSON.stringify(c.want)))
    assert.is(JSON.stringify(c.parent), before, 'parent must not be modified')
    assert.is(({} as Record<string, unknown>).polluted, undefined)
  })
}

Merge('merge() without the variable rule replaces a spec by a scalar', () => {
  assert.equal(merge({ v: { value: 1 } }, { v: 2 }), { v: 2 })
})

Merge('spec appendix B.1', () => {
  const r = loadFiles({
    '/k/t.yaml': `namespace: t
base:
  containers:
    app:
      image: example/app
      image-tag: "1"
      paths: ["/h/a:/a", "/h/b:/b"]
  variables:
    port: {type: int, value: 80, env: PORT}
    mode: dev
svc:
  defines: runnable
  inherits: ./base
  containers:
    app:
      image-tag: "2"
      paths: ["/h/x:/a"]
  variables:
    port: {value: 8080}
`,
  })
  assert.equal(r.errors, [])
  const svc = r.resolve('t/svc')
  assert.ok(svc)
  assert.equal(svc.value, {
    containers: { app: { image: 'example/app', 'image-tag': '2', paths: ['/h/x:/a', '/h/b:/b'] } },
    variables: { port: { type: 'int', value: 8080, env: 'PORT' }, mode: 'dev' },
    defines: 'runnable',
  })
  assert.is(svc.kind, 'runnable')
  assert.is(r.nodes.get('t/base')?.kind, 'abstract')
  assert.equal(svc.chain, ['t/base'])
  // Positions: the child's own value is located in the child, the inherited one in the parent.
  assert.equal(svc.locOf('containers/app/image-tag'), { file: '/k/t.yaml', line: 16, column: 18 })
  assert.equal(svc.locOf('containers/app/image'), { file: '/k/t.yaml', line: 5, column: 14 })
})

Merge.run()
