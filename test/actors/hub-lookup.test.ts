// Lookup across repositories (actors/hub/lookup.ts, spec §2.3) over a replica held in a Map: local
// first, a local namespace shadows the hub's, `repo/ns/name` pins a source, sources by name order,
// and the hub definitions a load builds on (closure over the namespaces named).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { findHubKit, hubDefsFor, resolveTemplate } from '../../actors/hub/lookup.js'
import { encodeKit, encodeSource, hubKeys, type HubKit } from '../../actors/hub/records.js'
import { encodeTpl, type TplRecord } from '../../actors/state.js'

const tpl = (path: string, value: Record<string, unknown>, extra: Partial<TplRecord> = {}): TplRecord => ({ path, kind: 'runnable', value: value as TplRecord['value'], members: [], groups: [], chain: [], file: 'f', loadedAt: 1, ...extra })
const kit = (source: string, path: string, value: Record<string, unknown>): HubKit => {
  const [ns = '', name = ''] = path.split('/')
  return { source, kit: ns, commit: `c-${source}`, hash: 'h', file: `${ns}.yaml`, line: 1, def: { path, namespace: ns, name, repo: source, pos: { file: `${source}:${ns}.yaml`, line: 1, column: 1 }, value: value as TplRecord['value'], locs: {} }, tpl: tpl(path, value), meta: { version: null, tags: [], description: null } }
}

function replica (): { get: (k: string) => unknown, scan: (p: string) => Array<{ key: string, value: unknown }>, map: Map<string, unknown> } {
  const map = new Map<string, unknown>()
  for (const s of ['alpha', 'beta']) map.set(hubKeys.source(s), encodeSource({ name: s, url: `/repos/${s}`, ref: null, addedAt: 1 }))
  const put = (k: HubKit): void => { map.set(hubKeys.kit(k.source, k.def.path), encodeKit(k)) }
  put(kit('alpha', 'db/db', { inherits: 'base/base', from: 'alpha' }))
  put(kit('alpha', 'base/base', { from: 'alpha-base' }))
  put(kit('beta', 'db/db', { from: 'beta' }))
  put(kit('beta', 'web/web', { from: 'beta-web' }))
  put(kit('beta', 'other/x', { from: 'unrelated' }))
  return {
    map,
    get: k => map.get(k),
    scan: p => [...map.entries()].filter(([k]) => k.startsWith(p)).sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => ({ key, value })),
  }
}

const L = suite('hub lookup')

L('hub only: sources in name order; repo/ns/name and templates/repo/ns/name pin one', () => {
  const r = replica()
  assert.is(findHubKit(r, 'db/db')?.source, 'alpha')
  assert.is(findHubKit(r, 'beta/db/db')?.source, 'beta')
  assert.is(findHubKit(r, 'templates/beta/db/db')?.source, 'beta')
  assert.is(findHubKit(r, '/web/web')?.source, 'beta')
  assert.is(findHubKit(r, 'alpha/web/web'), undefined)
  assert.is(resolveTemplate(r, 'db/db')?.hub?.source, 'alpha')
})

L('a namespace loaded locally shadows the hub one; a running hub copy does not', () => {
  const r = replica()
  r.map.set('tpl/web/local', encodeTpl(tpl('web/local', { from: 'local' })))
  assert.is(resolveTemplate(r, 'web/web'), undefined, 'web is local now: the hub web/web is shadowed')
  assert.is(resolveTemplate(r, 'web/local')?.hub, undefined)
  assert.is(resolveTemplate(r, 'beta/web/web')?.hub?.source, 'beta', 'a pinned path still reaches it')
  r.map.set('tpl/db/db', encodeTpl(tpl('db/db', { from: 'ran' }, { repo: 'alpha', commit: 'old' })))
  assert.is(resolveTemplate(r, 'db/db')?.hub?.source, 'alpha', 'a copy a workload runs is not a local load')
  r.map.set('tpl/db/db', encodeTpl(tpl('db/db', { from: 'loaded' })))
  assert.equal(resolveTemplate(r, 'db/db')?.tpl.value, { from: 'loaded' })
})

L('hub definitions a load builds on: the namespaces it names, and theirs in turn', () => {
  const r = replica()
  const defs = hubDefsFor(r, ['namespace: mine\napp:\n  inherits: db/db\n'], new Set())
  assert.equal(defs.map(d => `${d.repo}:${d.path}`).sort(), ['alpha:base/base', 'alpha:db/db'], 'one definition per path: the source lookup takes')
  assert.equal(hubDefsFor(r, ['namespace: db\nx: {inherits: db/y}\n'], new Set(['db'])), [])
})

L.run()
