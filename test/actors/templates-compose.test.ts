// Composed loads (actors/templates.ts): a load compiled on top of the definitions earlier loads kept,
// as the templates handler does it with the `def/` and `tpl/` records of the replica.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { TplRecord } from '../../actors/state.js'
import { composeTemplates, decodeDef, encodeDef, type TplDef } from '../../actors/templates.js'
import { decodeCbor, encodeCbor } from '../../mesh/codec.js'

/** The replica's side of a sequence of loads: kept definitions and current records. */
class Tree {
  defs = new Map<string, TplDef>()
  tpls = new Map<string, TplRecord>()
  now = 1000
  load (files: Record<string, string>, paths = Object.keys(files)) {
    // definitions go through the replica's encoding, as the handler stores them
    const prior = [...this.defs.values()].map(d => decodeDef(JSON.parse(JSON.stringify(encodeDef(d))))!)
    const c = composeTemplates(prior, this.tpls, files, paths, ++this.now)
    if (c.errors.length === 0) {
      for (const d of c.dropped) this.defs.delete(`${d.repo}/${d.path}`)
      for (const d of c.defs) this.defs.set(`${d.repo}/${d.path}`, d)
      for (const r of c.records) this.tpls.set(r.path, r)
      const defined = new Set([...this.defs.values()].map(d => d.path))
      for (const d of c.dropped) if (!defined.has(d.path)) this.tpls.delete(d.path)
    }
    return c
  }

  tpl (path: string): TplRecord {
    const t = this.tpls.get(path)
    assert.ok(t, `${path} has a record`)
    return t
  }
}

const base = `namespace: k
base:
  variables:
    port: {type: int, value: 80}
  containers:
    main:
      image: busybox:1
      bash: exec sleep 100
db:
  defines: runnable
  inherits: ./base
  variables:
    port: 5432
`

const app = `namespace: k
app:
  defines: runnable
  inherits: k/base
  containers:
    main:
      bash: echo app
`

const S = suite('composed loads')

S('a second load inherits from a node of the first', () => {
  const t = new Tree()
  const first = t.load({ '/kit/base.yaml': base })
  assert.equal(first.errors, [])
  const second = t.load({ '/kit/app.yaml': app })
  assert.equal(second.errors, [], JSON.stringify(second.errors))
  assert.equal(second.defs.map(d => d.path), ['k/app'])
  assert.equal(second.counts, { runnable: 1 })
  const a = t.tpl('k/app')
  assert.is(a.kind, 'runnable')
  assert.equal(a.chain, ['k/base'])
  assert.equal(a.value.containers, { main: { image: 'busybox:1', bash: 'echo app' } })
  assert.equal(second.changed, ['k/app'], 'the earlier templates are unchanged, so not rewritten')
})

S('the same app alone fails as before: its parent is not loaded', () => {
  const c = new Tree().load({ '/kit/app.yaml': app })
  assert.equal(c.errors.map(e => e.code), ['inherits-dangling'])
})

S('overriding an installed node: the later definition wins, and what builds on it follows', () => {
  const t = new Tree()
  t.load({ '/kit/base.yaml': base })
  t.load({ '/kit/app.yaml': app })
  const before = t.tpl('k/app').loadedAt
  const c = t.load({ '/mine/base.yaml': 'namespace: k\nbase:\n  containers:\n    main:\n      image: alpine:3\n' })
  assert.equal(c.errors, [])
  assert.equal(c.warnings.filter(w => w.code === 'duplicate-node'), [], 'a later load replacing a node is not a duplicate')
  assert.equal(t.tpl('k/app').value.containers, { main: { image: 'alpine:3', bash: 'echo app' } })
  assert.ok(t.tpl('k/app').loadedAt > before)
  assert.equal(t.tpl('k/db').value.variables, { port: 5432 }, 'k/db loses the variables of the old base')
  assert.equal(c.changed.sort(), ['k/app', 'k/base', 'k/db'])
  assert.equal([...t.defs.values()].filter(d => d.path === 'k/base').map(d => d.pos.file), ['/mine/base.yaml'])
})

S('a group loaded after its members', () => {
  const t = new Tree()
  t.load({ '/kit/base.yaml': base, '/kit/app.yaml': app })
  const c = t.load({ '/kit/stack.yaml': 'namespace: k\nstack:\n  defines: group\n  members: [db, app]\n' })
  assert.equal(c.errors, [])
  assert.equal(t.tpl('k/stack').members, ['k/db', 'k/app'])
  assert.equal(t.tpl('k/db').groups, ['k/stack'])
  assert.equal(c.changed.sort(), ['k/app', 'k/db', 'k/stack'])
})

S('loading the same files again changes nothing', () => {
  const t = new Tree()
  t.load({ '/kit/base.yaml': base })
  t.load({ '/kit/app.yaml': app })
  const c = t.load({ '/kit/app.yaml': app })
  assert.equal(c.errors, [])
  assert.equal(c.changed, [])
  assert.is(t.tpl('k/app').loadedAt, 1002)
})

S('a parent removed: the child keeps its last record, marked, until loaded again', () => {
  const t = new Tree()
  t.load({ '/kit/base.yaml': base })
  t.load({ '/kit/app.yaml': app })
  const good = t.tpl('k/app')
  // base.yaml loaded again without `base`: k/db and k/app lose their parent
  const c = t.load({ '/kit/base.yaml': 'namespace: k\ndb:\n  defines: runnable\n  containers:\n    main:\n      image: busybox:1\n' })
  assert.equal(c.errors, [], 'the load itself is fine')
  const w = c.warnings.find(x => x.code === 'template-broken' && x.node === 'k/app')
  assert.ok(w, JSON.stringify(c.warnings))
  assert.is(w.file, '/kit/app.yaml')
  assert.is(w.line, 2)
  assert.match(w.message, /k\/base/)
  const kept = t.tpl('k/app')
  assert.equal(kept.value, good.value, 'the last good definition stays')
  assert.match(kept.problem ?? '', /k\/base/)
  assert.is(t.tpls.has('k/base'), false, 'a node no file defines any more is gone')
  // loading the parent again heals the child
  const healed = t.load({ '/kit/more.yaml': base.replace(/db:[\s\S]*/, '') })
  assert.equal(healed.errors, [])
  assert.is(t.tpl('k/app').problem, undefined)
  assert.ok(healed.changed.includes('k/app'))
})

S('a record that came over the mesh (map keys in canonical CBOR order) is not "changed" against the same definition in source order (chaos seed 31, round 508)', () => {
  // Records and definitions written by another peer arrive decoded from canonical CBOR, whose maps
  // are ordered shortest key first; the loader's values keep the YAML's order. Compared as JSON text,
  // the same template looked changed: an excise (or a reload through another peer) rewrote every
  // template of the kit with a new loadedAt, a write nobody asked for that can overwrite a newer
  // load made elsewhere in the meantime.
  const kit = { '/kit/kit.yaml': 'namespace: k\nw0:\n  defines: runnable\n  containers:\n    main:\n      image: busybox:1\n      bash: exec sleep 3600\n' }
  const viaMesh = <T>(v: T): T => decodeCbor(encodeCbor(v), 'test') as T
  // an excise on the peer that loaded the kit, after another peer loaded it again: its own record
  // in source order, the definitions (written by the other peer) in canonical order
  const a = new Tree()
  a.load(kit)
  const own = a.tpl('k/w0')
  for (const [k, d] of a.defs) a.defs.set(k, viaMesh(d))
  assert.not.equal(JSON.stringify(viaMesh(own.value)), JSON.stringify(own.value), 'the test holds the two orders')
  const recomposed = composeTemplates([...a.defs.values()], a.tpls, {}, [], 5000)
  assert.equal(recomposed.changed, [], 'nothing changed: nothing to write')
  assert.equal(recomposed.records, [])
  // a reload of the same kit through a peer that received the record over the mesh
  const b = new Tree()
  b.load(kit)
  const first = b.tpl('k/w0')
  b.tpls.set('k/w0', viaMesh(first))
  const reloaded = b.load(kit)
  assert.equal(reloaded.changed, [], 'an identical reload writes nothing')
  assert.is(b.tpl('k/w0').loadedAt, first.loadedAt)
})
S.run()
