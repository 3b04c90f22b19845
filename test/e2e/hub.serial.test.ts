// Monk Hub end to end: three real monkd peers (process runtime, the built `monk`), one hub source
// holding the public corpus (a git repository built here from ../shared/corpus, served by
// `git daemon` on 127.0.0.1). Every peer dumps, describes and searches hub kits with nothing
// loaded; a local kit inherits a hub kit. The issue names mongodb/mongodb and postgresql/db, which
// the public corpus does not hold: memcached/memcached and redis/redis stand in for them; a commit and `hub sync` reach every peer and rewrite only
// that kit's records; after the fetching peer is SIGKILLed the others keep answering and another
// peer takes the next sync.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { cleanup, e2eBase, ensureBuilt, peerIn, startPeer, until, type E2ePeer } from '../helpers/cli-e2e.js'
import { commitAll, corpusRepo, haveCorpus, serveGit, type GitServer } from '../helpers/hub-git.js'

interface HubRow { name: string, commit: string | null, kits: number, templates: number, error: string | null, by: string, fetcher: string, written: number, deleted: number }
interface Row { path: string, repo: string, commit?: string, tags: string[], version: string | null }

const base = e2eBase('hub')
const repoDir = join(base, 'git', 'corpus')
const peers: E2ePeer[] = []
let server: GitServer | undefined
let first = ''
const H = suite('hub: 3 monkd peers, one source holding the corpus')

H.before(async () => {
  ensureBuilt()
  if (!haveCorpus) return
  first = corpusRepo(repoDir)
  server = await serveGit(join(base, 'git'))
  const a = peerIn('alpha', base)
  peers.push(a)
  await startPeer(a, ['--template-autoupdate', '0', '--no-hub-defaults'])
  const token = (await a.json<{ token: string }>('cluster', 'new')).token
  for (const name of ['beta', 'gamma']) {
    const p = peerIn(name, base)
    peers.push(p)
    const r = await p.monk('cluster', 'join', token, '--runtime', 'process', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', name, '--no-hub-defaults')
    assert.is(r.code, 0, r.err)
  }
  await until('alpha sees 3 live peers', async () => (await a.json<Array<{ alive: boolean }>>('cluster', 'peers')).filter(x => x.alive).length === 3)
})
H.after(async () => {
  server?.stop()
  await cleanup(peers, base)
})

const dumpOn = async (p: E2ePeer, path: string): Promise<string> => {
  const r = await p.monk('dump', path)
  return r.code === 0 ? r.out : ''
}

H('hub add on one peer; every peer dumps, describes and searches hub kits with no local load (stand-in: info memcached/memcached, as the public corpus has no mongodb/mongodb)', async () => {
  if (!haveCorpus) { console.log('skipped: ../shared/corpus is absent'); return }
  const [a] = peers
  const r = await a!.monk('--output', 'json', 'hub', 'add', 'corpus', server!.url('corpus'))
  assert.is(r.code, 0, r.err + r.out)
  const row = JSON.parse(r.out) as HubRow
  assert.is(row.commit, first)
  assert.is(row.error, null)
  assert.ok(row.kits > 50 && row.templates > 200, `kits ${row.kits}, templates ${row.templates}`)
  for (const p of peers) {
    const out = await until(`redis/redis dumps on ${p.name}`, () => dumpOn(p, 'redis/redis'))
    assert.match(out, /^# redis\/redis \(runnable, inherits redis\/base, from corpus@[0-9a-f]{12}\)\nnamespace: redis\nredis:\n/)
    assert.match(out, /image: .*redis/)
    const info = await until(`memcached/memcached info on ${p.name}`, async () => { const x = await p.monk('info', 'memcached/memcached'); return x.code === 0 ? x.out : '' })
    assert.match(info, /repository: corpus\n/)
    assert.match(info, new RegExp(`commit: ${first}\n`))
    assert.match(info, /source: monk-memcached\/memcached\.yaml:29\n/)
    assert.match(info, /inherits:\n {2}- memcached\/base\n/)
    // pinned to the repository
    assert.is((await p.monk('info', 'corpus/memcached/memcached')).code, 0)
    const found = await p.json<Row[]>('search', 'postgres')
    assert.ok(found.length >= 3, JSON.stringify(found))
    assert.ok(found.every(x => x.repo === 'corpus'))
    assert.ok(found.some(x => x.path.startsWith('sonarqube-postgresql/')), found.map(x => x.path).join(' '))
  }
  // list: repository, version and tags, with filters
  const tagged = await a!.json<Row[]>('list', '--repo', 'corpus', '--tag', 'memcached')
  assert.equal(tagged.map(x => x.path), ['memcached/base', 'memcached/memcached'])
  const table = (await a!.monk('list', 'memcached/memcached')).out
  assert.match(table, /^runnable\s+memcached\/memcached\s+corpus\s+1\s+data retrieval,server-side caching,/m)
  assert.is((await a!.json<Row[]>('list', '--repo', 'local')).length, 0)
})

H('a local kit inherits a hub kit: it loads, resolves and lists as local (stand-in: redis/redis, as the public corpus has no postgresql/db)', async () => {
  if (!haveCorpus) return
  const b = peers[1]!
  const file = join(base, 'mycache.yaml')
  writeFileSync(file, 'namespace: mycache\ncache:\n  defines: runnable\n  inherits: redis/redis\n  variables:\n    redis_port:\n      type: int\n      value: 7000\n')
  const r = await b.monk('load', file)
  assert.is(r.code, 0, r.err + r.out)
  assert.match(r.out, /Loaded 1 runnable in 1 file with 0 errors/)
  for (const p of peers) {
    const info = await until(`mycache/cache on ${p.name}`, async () => { const x = await p.monk('--output', 'json', 'info', 'mycache/cache'); return x.code === 0 ? JSON.parse(x.out) as { chain: string[], value: { services?: unknown, variables: Record<string, { value: unknown }> }, repo: string } : undefined })
    assert.equal(info.chain, ['redis/redis', 'redis/base'])
    assert.is(info.repo, 'local')
    assert.is(info.value.variables.redis_port!.value, 7000)
    assert.ok(info.value.services !== undefined, 'services come from the hub parent')
  }
  // lint resolves the hub parent through monkd, and reports only the user's file
  const lint = await b.monk('lint', file)
  assert.is(lint.code, 0, lint.out + lint.err)
  assert.match(lint.out, /^Loaded 1 runnable in 1 file with 0 errors and 0 warnings \(on top of \d+ hub definitions from monkd\)$/m)
  // the hub kits it builds on are not copied as local templates
  assert.equal((await b.json<Row[]>('list', '--repo', 'local')).map(x => x.path), ['mycache/cache'])
})

/** Changes the memcached image variable (same line, so no other position moves) and commits. */
function changeMemcached (value: string): string {
  const f = join(repoDir, 'monk-memcached', 'memcached.yaml')
  const text = readFileSync(f, 'utf8')
  const next = text.replace(/(memcached-image:\n\s+value: )\S+/, `$1${value}`)
  assert.is.not(next, text)
  writeFileSync(f, next)
  return commitAll(repoDir, `memcached ${value}`)
}

H('a commit and hub sync reach every peer; only that kit\'s records are rewritten', async () => {
  if (!haveCorpus) return
  const c = peers[2]!
  const second = changeMemcached('"1.6.21"')
  const r = await c.json<HubRow[]>('hub', 'sync', 'corpus')
  assert.is(r[0]!.commit, second)
  assert.is(r[0]!.error, null)
  assert.is(r[0]!.written, 1, `records written: ${r[0]!.written}`)
  assert.is(r[0]!.deleted, 0)
  for (const p of peers) {
    await until(`the new memcached on ${p.name}`, async () => (await dumpOn(p, 'memcached/memcached')).includes('value: 1.6.21'))
    // counted from the replica itself: a record carries the commit it was last written at
    const rows = await p.json<Row[]>('list', '--repo', 'corpus')
    assert.equal(rows.filter(x => x.commit === second).map(x => x.path), ['memcached/memcached'], `on ${p.name}`)
    assert.ok(rows.filter(x => x.commit === first).length > 200)
  }
})

H('the fetching peer is SIGKILLed: the others keep answering, another peer takes the next sync', async () => {
  if (!haveCorpus) return
  const a = peers[0]!
  const rows = await a.json<HubRow[]>('hub', 'ls')
  const fetcher = rows[0]!.by
  const ids = await a.json<Array<{ id: string, name: string }>>('cluster', 'peers')
  const victimName = ids.find(x => x.id === fetcher)?.name
  const victim = peers.find(p => p.name === victimName)
  assert.ok(victim, `the fetcher ${fetcher} is one of ours`)
  process.kill(victim.pid()!, 'SIGKILL')
  const survivors = peers.filter(p => p !== victim)
  for (const p of survivors) assert.match(await dumpOn(p, 'redis/redis'), /^# redis\/redis/)
  await until('the survivors see the fetcher dead', async () => (await survivors[0]!.json<Array<{ id: string, alive: boolean }>>('cluster', 'peers')).some(x => x.id === fetcher && !x.alive), 60_000)
  const third = changeMemcached('"1.6.22"')
  const r = await survivors[0]!.json<HubRow[]>('hub', 'sync', 'corpus')
  assert.is(r[0]!.commit, third)
  assert.is.not(r[0]!.by, fetcher)
  assert.ok(survivors.some(p => ids.find(x => x.name === p.name)?.id === r[0]!.by))
  for (const p of survivors) {
    await until(`the newest memcached on ${p.name}`, async () => (await dumpOn(p, 'memcached/memcached')).includes('value: 1.6.22'))
    assert.match(await dumpOn(p, 'redis/redis'), /^# redis\/redis/)
  }
})

H('bad input: an unreachable source says so in hub ls, once, and blocks nothing', async () => {
  if (!haveCorpus) return
  const p = peers.find(x => { try { process.kill(x.pid()!, 0); return true } catch { return false } })!
  const r = await p.json<HubRow>('hub', 'add', 'nowhere', 'git://127.0.0.1:9/none')
  assert.match(r.error ?? '', /^cannot fetch git:\/\/127\.0\.0\.1:9\/none: /)
  const ls = await p.json<HubRow[]>('hub', 'ls')
  assert.equal(ls.map(x => x.name), ['corpus', 'nowhere'])
  assert.is(ls[0]!.error, null)
  assert.match(await dumpOn(p, 'redis/redis'), /^# redis\/redis/)
  assert.is((await p.monk('hub', 'rm', 'nowhere')).code, 0)
  const bad = await p.monk('hub', 'add', 'Bad Name', 'x')
  assert.is(bad.code, 1)
  assert.match(bad.err, /hub source name is letters, digits/)
})

H.run()
