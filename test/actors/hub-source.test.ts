// One hub source, fetched with the real git CLI from repositories made here (local paths and
// file URLs), compiled with the loader: content hashes leave unchanged templates alone, a file that
// stops compiling keeps its templates' previous version, and bad input gets a clear error.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { compileSource, NoKitsError } from '../../actors/hub/compile.js'
import { fetchSource, FetchError } from '../../actors/hub/git.js'
import { decodeKit, encodeKit, type HubKit } from '../../actors/hub/records.js'
import { commitAll, git } from '../helpers/hub-git.js'

const base = mkdtempSync(join(tmpdir(), 'monk-hub-source-'))
const repo = join(base, 'kits')
const put = (rel: string, text: string): void => { const f = join(repo, rel); mkdirSync(join(f, '..'), { recursive: true }); writeFileSync(f, text) }

const dbYaml = (image: string, extra = ''): string => `namespace: hubdb
base:
  metadata:
    description: a small database for tests
    tags: database, sql
    version: 1.2.0
  containers:
    db:
      image: ${image}
db:
  defines: runnable
  inherits: hubdb/base
${extra}`
const webYaml = `namespace: hubweb
web:
  defines: runnable
  containers:
    web:
      image: monk-test/busybox:1
stack:
  defines: process-group
  members: [hubweb/web, hubdb/db]
`

function setup (): string {
  mkdirSync(repo, { recursive: true })
  put('MANIFEST', 'REPO kits\nDIRS db web\n')
  put('db/MANIFEST', 'REPO db\nLOAD db.yaml\nTAGS storage\n')
  put('db/db.yaml', dbYaml('monk-test/busybox:1'))
  put('web/MANIFEST', 'REPO web\nLOAD web.yaml\n')
  put('web/web.yaml', webYaml)
  git(repo, 'init', '-q', '-b', 'main')
  return commitAll(repo, 'kits')
}

/** The records a sync leaves, as the replica holds them (through the encoding). */
function apply (prev: Map<string, HubKit>, c: ReturnType<typeof compileSource>): Map<string, HubKit> {
  const next = new Map(prev)
  for (const k of c.write) next.set(k.def.path, decodeKit(JSON.parse(JSON.stringify(encodeKit(k))))!)
  for (const p of c.remove) next.delete(p)
  return next
}

const S = suite('hub source: fetch and compile')
let first = ''
const work = join(base, 'work')
let kits = new Map<string, HubKit>()
S.before(() => { first = setup() })
S.after(() => { rmSync(base, { recursive: true, force: true }) })

S('first sync: every template with its kit, metadata, file:line and commit', async () => {
  const commit = await fetchSource(repo, null, work)
  assert.is(commit, first)
  const c = compileSource('kits', work, commit, kits, 1)
  assert.equal(c.broken, [])
  assert.equal(c.write.map(k => k.def.path).sort(), ['hubdb/base', 'hubdb/db', 'hubweb/stack', 'hubweb/web'])
  assert.is(c.kits, 2)
  kits = apply(kits, c)
  const db = kits.get('hubdb/db')!
  assert.is(db.kit, 'db')
  assert.is(db.file, 'db/db.yaml')
  assert.is(db.line, 10)
  assert.is(db.commit, first)
  assert.equal(db.tpl.chain, ['hubdb/base'])
  assert.equal(db.meta, { version: '1.2.0', tags: ['storage', 'database', 'sql'], description: 'a small database for tests' })
  assert.equal(kits.get('hubweb/stack')!.tpl.members, ['hubweb/web', 'hubdb/db'])
})

S('same commit again: nothing is rewritten', async () => {
  const commit = await fetchSource(repo, null, work)
  const c = compileSource('kits', work, commit, kits, 2)
  assert.is(c.write.length, 0)
  assert.is(c.remove.length, 0)
})

S('a commit that changes one kit rewrites only its templates (and what inherits them)', async () => {
  put('db/db.yaml', dbYaml('monk-test/busybox:2'))
  const second = commitAll(repo, 'db image 2')
  const commit = await fetchSource(repo, null, work)
  assert.is(commit, second)
  const c = compileSource('kits', work, commit, kits, 3)
  assert.equal(c.write.map(k => k.def.path).sort(), ['hubdb/base', 'hubdb/db'])
  kits = apply(kits, c)
  assert.is(kits.get('hubweb/web')!.commit, first, 'the untouched kit keeps the commit it last changed at')
  assert.is(kits.get('hubdb/db')!.commit, second)
  assert.is(((kits.get('hubdb/db')!.tpl.value.containers as Record<string, Record<string, unknown>>).db!.image), 'monk-test/busybox:2')
})

S('a kit that stops compiling keeps its previous version; the error names file:line:col', async () => {
  put('db/db.yaml', dbYaml('monk-test/busybox:3', '  inherits: hubdb/nowhere\n').replace('  inherits: hubdb/base\n', ''))
  commitAll(repo, 'broken db')
  const commit = await fetchSource(repo, null, work)
  const c = compileSource('kits', work, commit, kits, 4)
  assert.ok(!c.write.some(k => k.def.path === 'hubdb/db'), 'the broken template is not rewritten')
  assert.ok(!c.remove.includes('hubdb/db'), 'nor removed')
  assert.is(c.broken.length, 1)
  assert.is(c.broken[0]!.kit, 'db')
  assert.match(c.broken[0]!.error, /^db\/db\.yaml:\d+:\d+: .*hubdb\/nowhere/)
  // a YAML error in the file: its templates stay too
  put('db/db.yaml', 'namespace: hubdb\nbase: [unclosed\n')
  commitAll(repo, 'yaml error')
  const c2 = compileSource('kits', work, await fetchSource(repo, null, work), kits, 5)
  assert.equal(c2.remove, [])
  assert.match(c2.broken[0]?.error ?? '', /^db\/db\.yaml:\d+:\d+: /, JSON.stringify(c2.broken))
})

S('a kit removed from the repository is removed', async () => {
  rmSync(join(repo, 'db'), { recursive: true })
  put('MANIFEST', 'REPO kits\nDIRS web\n')
  commitAll(repo, 'no db')
  const c = compileSource('kits', work, await fetchSource(repo, null, work), kits, 6)
  assert.equal(c.remove.sort(), ['hubdb/base', 'hubdb/db'])
})

S('a ref: a branch is fetched; a ref that does not exist is a clear error', async () => {
  git(repo, 'checkout', '-q', '-b', 'v1', first)
  const at = await fetchSource(repo, 'v1', join(base, 'w-ref'))
  assert.is(at, first)
  git(repo, 'checkout', '-q', 'main')
  const err = await fetchSource(repo, 'no-such-branch', join(base, 'w-ref')).catch((e: unknown) => e)
  assert.instance(err, FetchError)
  assert.match((err as Error).message, /ref "no-such-branch" does not exist in /)
})

S('an unreachable URL is a clear error (loopback port with no server)', async () => {
  const err = await fetchSource('git://127.0.0.1:9/nothing', null, join(base, 'w-unreach'), { maxBytes: 1 << 20, timeoutMs: 20_000 }).catch((e: unknown) => e)
  assert.instance(err, FetchError)
  assert.match((err as Error).message, /^cannot fetch git:\/\/127\.0\.0\.1:9\/nothing: .+/)
})

S('a repository without kits is a clear error', async () => {
  const empty = join(base, 'empty')
  mkdirSync(empty)
  writeFileSync(join(empty, 'README.md'), 'no kits here\n')
  git(empty, 'init', '-q', '-b', 'main')
  commitAll(empty, 'readme')
  const dir = join(base, 'w-empty')
  const commit = await fetchSource(empty, null, dir)
  assert.throws(() => compileSource('empty', dir, commit, new Map(), 1), (e: unknown) => e instanceof NoKitsError && /holds no kit/.test((e as Error).message))
})

S('a repository over the size limit is stopped with a message', async () => {
  const big = join(base, 'big')
  mkdirSync(big)
  // incompressible bytes, so the fetched pack is as large as the file
  const bytes = Buffer.alloc(3 << 20)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24 ^ (i & 0xff)
  writeFileSync(join(big, 'blob.bin'), bytes)
  writeFileSync(join(big, 'k.yaml'), 'namespace: big\nx:\n  defines: runnable\n  containers: {c: {image: a}}\n')
  git(big, 'init', '-q', '-b', 'main')
  commitAll(big, 'big')
  const err = await fetchSource(big, null, join(base, 'w-big'), { maxBytes: 1 << 20, timeoutMs: 60_000 }).catch((e: unknown) => e)
  assert.instance(err, FetchError)
  assert.match((err as Error).message, /larger than the hub's limit of 1 MiB/)
})

S.run()
