// Every loader error path: its code, severity and file:line:col.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { loadFiles } from '../../helpers/monkscript.js'

const Errors = suite('loader errors')

const cases: Array<{ name: string, files: Record<string, string>, paths?: string[], code: string, at: [string, number, number], severity?: 'error' | 'warning', message?: RegExp }> = [
  { name: 'YAML syntax error', files: { '/e.yaml': 'namespace: e\nx:\n  a: [1, 2\n  b: 3\n' }, code: 'yaml-syntax', at: ['/e.yaml', 4, 3] },
  { name: 'missing namespace', files: { '/e.yaml': 'x:\n  defines: runnable\n' }, code: 'missing-namespace', at: ['/e.yaml', 1, 1] },
  { name: 'namespace not first', files: { '/e.yaml': 'x: {}\nnamespace: e\n' }, code: 'namespace-not-first', at: ['/e.yaml', 2, 1], severity: 'warning' },
  { name: 'bad namespace value', files: { '/e.yaml': 'namespace: [a]\n' }, code: 'bad-namespace', at: ['/e.yaml', 1, 1] },
  { name: 'document is not a mapping', files: { '/e.yaml': '- a\n- b\n' }, code: 'not-a-mapping', at: ['/e.yaml', 1, 1] },
  { name: 'top-level scalar', files: { '/e.yaml': 'namespace: e\nx: 3\n' }, code: 'not-a-mapping', at: ['/e.yaml', 2, 1], severity: 'warning' },
  { name: 'dangling inherits names the chain', files: { '/e.yaml': 'namespace: e\na:\n  inherits: ./b\nb:\n  inherits: e/nowhere\n' }, code: 'inherits-dangling', at: ['/e.yaml', 5, 13], message: /chain: e\/a → e\/b → e\/nowhere|chain: e\/b → e\/nowhere/ },
  { name: 'inheritance cycle names the chain', files: { '/e.yaml': 'namespace: e\na:\n  inherits: ./b\nb:\n  inherits: ./c\nc:\n  inherits: ./a\n' }, code: 'inherits-cycle', at: ['/e.yaml', 7, 13], message: /e\/a → e\/b → e\/c → e\/a/ },
  { name: 'self inheritance', files: { '/e.yaml': 'namespace: e\na:\n  inherits: ./a\n' }, code: 'inherits-cycle', at: ['/e.yaml', 3, 13] },
  { name: 'nested inherits dangling', files: { '/e.yaml': 'namespace: e\na:\n  variables:\n    inherits: ./missing\n' }, code: 'inherits-dangling', at: ['/e.yaml', 4, 15] },
  { name: 'inherits sub-path missing', files: { '/e.yaml': 'namespace: e\nb: {x: 1}\na:\n  inherits: e/b/y\n' }, code: 'inherits-dangling', at: ['/e.yaml', 4, 13] },
  { name: 'inherits list', files: { '/e.yaml': 'namespace: e\nb: {}\na:\n  inherits: [e/b]\n' }, code: 'inherits-bad-value', at: ['/e.yaml', 4, 13] },
  { name: 'unknown descriptor', files: { '/e.yaml': 'namespace: e\na:\n  defines: runable\n' }, code: 'unknown-descriptor', at: ['/e.yaml', 3, 12], severity: 'warning' },
  { name: 'defines not a string', files: { '/e.yaml': 'namespace: e\na:\n  defines: {x: 1}\n' }, code: 'unknown-descriptor', at: ['/e.yaml', 3, 12] },
  { name: 'missing member', files: { '/e.yaml': 'namespace: e\ng:\n  defines: group\n  members:\n    - nope\n' }, code: 'member-dangling', at: ['/e.yaml', 5, 7] },
  { name: 'dangling wait-for reference', files: { '/e.yaml': 'namespace: e\nr:\n  defines: runnable\n  containers: {c: {image: a}}\n  depends:\n    wait-for:\n      runnables: [e/db]\n' }, code: 'reference-dangling', at: ['/e.yaml', 7, 19], severity: 'warning' },
  { name: 'entity type not loaded', files: { '/e.yaml': 'namespace: e\ni:\n  defines: aws/thing\n' }, code: 'entity-type-missing', at: ['/e.yaml', 3, 12], severity: 'warning' },
  { name: 'runnable without containers', files: { '/e.yaml': 'namespace: e\nr:\n  defines: runnable\n' }, code: 'missing-containers', at: ['/e.yaml', 2, 1], severity: 'warning' },
  { name: 'embedded file missing', files: { '/e.yaml': 'namespace: e\nr:\n  f: <<< x.txt\n' }, code: 'embed-missing', at: ['/e.yaml', 3, 6] },
  { name: 'duplicate node across files', files: { '/a.yaml': 'namespace: e\nr: {}\n', '/b.yaml': 'namespace: e\nr: {}\n' }, code: 'duplicate-node', at: ['/a.yaml', 2, 1], severity: 'warning' },
  { name: 'path that does not exist', files: { '/a.yaml': '' }, paths: ['/nothing/here'], code: 'file-unreadable', at: ['/nothing/here', 1, 1] },
  { name: 'MANIFEST DIR that is not a directory', files: { '/k/MANIFEST': 'DIR nope\n' }, paths: ['/k'], code: 'manifest-missing-file', at: ['/k/MANIFEST', 1, 5] },
]

for (const c of cases) {
  Errors(c.name, () => {
    const r = loadFiles(c.files, c.paths)
    const d = r.diagnostics.find(x => x.code === c.code)
    assert.ok(d, `expected ${c.code}, got ${JSON.stringify(r.diagnostics)}`)
    assert.equal([d.file, d.line, d.column], c.at)
    assert.is(d.severity, c.severity ?? 'error')
    assert.ok(d.message.length > 10)
    if (c.message) assert.match(d.message, c.message)
  })
}

Errors('an inheritance error still leaves the node usable with its own content', () => {
  const r = loadFiles({ '/e.yaml': 'namespace: e\na:\n  defines: runnable\n  inherits: ./missing\n  containers: {c: {image: x}}\n' })
  assert.equal(r.resolve('e/a')?.value, { defines: 'runnable', containers: { c: { image: 'x' } } })
})

Errors('script checker diagnostics land at the YAML position plus the offset in the script', () => {
  const { loadPaths, memorySource } = mod
  const src = memorySource({ '/s.yaml': 'namespace: s\nr:\n  v: <- $a frobnicate\n  b: |\n    <- $a\n       bad-op\n  actions:\n    x:\n      code: "nope"\n' })
  const checker = (source: string) => {
    const i = source.search(/frobnicate|bad-op|nope/)
    return i < 0 ? [] : [{ code: 'unknown-operator', message: 'unknown operator', offset: i, severity: 'error' as const }]
  }
  const r = loadPaths(['/s.yaml'], { source: src, checkScript: checker })
  const at = r.diagnostics.filter(d => d.code === 'unknown-operator').map(d => [d.line, d.column])
  assert.equal(at, [[3, 12], [6, 8], [9, 14]])
})

import * as mod from '../../../grammar/monkscript/index.js'

Errors.run()
