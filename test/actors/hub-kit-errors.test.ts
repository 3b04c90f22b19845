// Compiling a hub source kit by kit (no git here: a directory stands for the checkout): a kit with
// an error in any of its files keeps all its templates at the previous commit, a kit built on a
// broken kit keeps its version too, and a template whose record exceeds the mesh's entry limit
// breaks only its own kit, with a message naming it. Other kits proceed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { compileSource } from '../../actors/hub/compile.js'
import { decodeKit, encodeKit, type HubKit } from '../../actors/hub/records.js'
import { defaults } from '../../mesh/defaults.js'

const base = mkdtempSync(join(tmpdir(), 'monk-hub-kit-errors-'))
const put = (rel: string, text: string): void => { const f = join(base, rel); mkdirSync(join(f, '..'), { recursive: true }); writeFileSync(f, text) }

const one = (image: string): string => `namespace: kita
x:
  defines: runnable
  containers:
    main:
      image: ${image}
`
const two = (extra = ''): string => `namespace: kitatwo
y:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox:1
${extra}`
const extra = 'extra:\n  defines: runnable\n  containers:\n    main:\n      image: monk-test/busybox:1\n'
const three = `namespace: kitb
z:
  defines: runnable
  inherits: kita/x
`
const four = `namespace: kitc
w:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox:1
`

function apply (prev: Map<string, HubKit>, c: ReturnType<typeof compileSource>): Map<string, HubKit> {
  const next = new Map(prev)
  for (const k of c.write) next.set(k.def.path, decodeKit(JSON.parse(JSON.stringify(encodeKit(k))))!)
  for (const p of c.remove) next.delete(p)
  return next
}
const paths = (c: ReturnType<typeof compileSource>): string[] => c.write.map(k => k.def.path).sort()

const K = suite('hub: errors hold per kit')
K.after(() => { rmSync(base, { recursive: true, force: true }) })

let kits = new Map<string, HubKit>()

K('a kit with an error in one file keeps every template of the kit (and of kits built on it) at its previous commit', () => {
  put('MANIFEST', 'REPO kits\nDIRS a b c\n')
  put('a/MANIFEST', 'REPO a\nLOAD one.yaml two.yaml\n')
  put('a/one.yaml', one('monk-test/busybox:1'))
  put('a/two.yaml', two())
  put('b/MANIFEST', 'REPO b\nLOAD three.yaml\n')
  put('b/three.yaml', three)
  put('c/MANIFEST', 'REPO c\nLOAD four.yaml\n')
  put('c/four.yaml', four)
  const c1 = compileSource('kits', base, 'c1', kits, 1)
  assert.equal(c1.broken, [])
  assert.equal(paths(c1), ['kita/x', 'kitatwo/y', 'kitb/z', 'kitc/w'])
  kits = apply(kits, c1)

  // commit 2: one.yaml changes (and compiles), two.yaml of the same kit breaks, c changes
  put('a/one.yaml', one('monk-test/busybox:2'))
  put('a/two.yaml', two('  inherits: kitatwo/nowhere\n'))
  put('c/four.yaml', four.replace('busybox:1', 'busybox:2'))
  const c2 = compileSource('kits', base, 'c2', kits, 2)
  assert.equal(paths(c2), ['kitc/w'], 'only the healthy kit is rewritten')
  assert.equal(c2.remove, [])
  const broken = new Map(c2.broken.map(b => [b.kit, b.error]))
  assert.equal([...broken.keys()].sort(), ['a', 'b'])
  assert.match(broken.get('a')!, /^a\/two\.yaml:\d+:\d+: .*kitatwo\/nowhere/)
  assert.match(broken.get('b')!, /^b\/three\.yaml:\d+: kitb\/z inherits kita\/x from kit a, which has errors$/)
  assert.is(c2.kits, 1, 'only kit c is served at this commit')
  kits = apply(kits, c2)
  const img = (p: string): unknown => ((kits.get(p)!.tpl.value.containers as Record<string, Record<string, unknown>>).main!.image)
  assert.is(img('kita/x'), 'monk-test/busybox:1', 'the good file of the broken kit stays at the previous commit')
  assert.is(kits.get('kita/x')!.commit, 'c1')
  assert.is(img('kitb/z'), 'monk-test/busybox:1')
  assert.is(img('kitc/w'), 'monk-test/busybox:2')

  // a template added to the broken kit is not served while the kit is broken
  put('a/one.yaml', one('monk-test/busybox:2') + extra)
  const c3 = compileSource('kits', base, 'c3', kits, 3)
  assert.ok(!c3.write.some(k => k.kit === 'a' || k.kit === 'b'), paths(c3).join(' '))

  // fixed: the whole kit moves to the new commit at once
  put('a/two.yaml', two())
  const c4 = compileSource('kits', base, 'c4', kits, 4)
  assert.equal(c4.broken, [])
  assert.equal(paths(c4), ['kita/extra', 'kita/x', 'kitb/z'])
  assert.ok(c4.write.every(k => k.commit === 'c4'))
  kits = apply(kits, c4)
})

K('a template whose record exceeds the mesh entry limit (512 KiB) breaks its kit with a message naming it; the others proceed', () => {
  assert.is(defaults.maxEntryBytes, 512 * 1024)
  const big = 'x'.repeat(600 * 1024)
  put('c/four.yaml', four.replace('busybox:2', 'busybox:3') + `  metadata:\n    description: ${big}\n`)
  put('a/one.yaml', one('monk-test/busybox:4') + extra)
  const c = compileSource('kits', base, 'c5', kits, 5)
  assert.equal(c.broken.map(b => b.kit), ['c'])
  assert.match(c.broken[0]!.error, /^c\/four\.yaml:2:1: the compiled record of kitc\/w is \d+ KiB, more than the mesh's entry limit of 512 KiB$/, c.broken[0]!.error)
  assert.equal(paths(c), ['kita/x', 'kitb/z'], 'the other kits proceed')
  assert.equal(c.remove, [])
  // every record written fits the limit
  assert.ok(c.write.every(k => JSON.stringify(encodeKit(k)).length < defaults.maxEntryBytes))
})

K.run()
