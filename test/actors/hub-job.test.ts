// One hub sync in a child process (actors/hub/job.ts), against git repositories made here: the
// compile runs off this thread (this thread's timers keep firing while the corpus compiles), the
// records come back encoded and stable across processes, and each limit stops the job with a message
// naming it: compile time, memory, file count.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defaultHubLimits, runSyncJob, type SyncJob } from '../../actors/hub/job.js'
import { decodeKit } from '../../actors/hub/records.js'
import { commitAll, corpusRepo, git, haveCorpus } from '../helpers/hub-git.js'

const base = mkdtempSync(join(tmpdir(), 'monk-hub-job-'))
const corpus = join(base, 'corpus')
const job = (over: Partial<SyncJob>): SyncJob => ({ source: 'src', url: corpus, ref: null, dir: join(base, 'work'), previous: [], now: 1, limits: defaultHubLimits, ...over })
const failure = (p: Promise<unknown>): Promise<string> => p.then(() => 'no error', (e: Error) => e.message)

const J = suite('hub: fetch and compile in a child process, with limits')
J.before(() => { if (haveCorpus) corpusRepo(corpus) })
J.after(() => { rmSync(base, { recursive: true, force: true }) })

J('the corpus compiles in the child while this thread keeps running; records are stable across processes', async () => {
  if (!haveCorpus) { console.log('skipped: ../shared/corpus is absent'); return }
  let ticks = 0
  let compiling = false
  const timer = setInterval(() => { if (compiling) ticks++ }, 10)
  const r = await runSyncJob(job({}), { onFetched: () => { compiling = true } }).finally(() => { clearInterval(timer) })
  assert.ok(r.kits > 50 && r.templates > 200, `kits ${r.kits}, templates ${r.templates}`)
  assert.is(r.write.length, r.templates, 'a first sync writes every template')
  // the corpus has kits that build on kits it does not hold (postgresql/db): those are reported, not served
  assert.ok(r.broken.every(b => /^\S+:\d+(:\d+)?: /.test(b.error)), JSON.stringify(r.broken))
  // a compile on this thread would let no timer fire until it ends
  assert.ok(ticks >= 3, `this thread's timer fired ${ticks} times during a ${r.compileMs} ms compile`)
  const redis = decodeKit(r.write.find(w => w.path === 'redis/redis')?.value)
  assert.ok(redis, 'redis/redis decodes as a hub record')
  assert.is(redis.commit, r.commit)
  // the hashes a second process computes are the same: nothing to write
  const previous = r.write.map(w => { const k = decodeKit(w.value)!; return [w.path, { hash: k.hash, kit: k.kit }] as [string, { hash: string, kit: string }] })
  const again = await runSyncJob(job({ previous }))
  assert.is(again.commit, r.commit)
  assert.is(again.write.length, 0)
  assert.is(again.remove.length, 0)
})

J('a compile longer than the time limit is stopped with a message', async () => {
  if (!haveCorpus) return
  const msg = await failure(runSyncJob(job({ limits: { ...defaultHubLimits, compileMs: 50 } })))
  assert.is(msg, "compiling the kits took longer than the hub's limit of 50 ms")
})

J('a stopped sync (monkd stopping) kills its child process', async () => {
  if (!haveCorpus) return
  const stop = new AbortController()
  let pid = 0
  const msg = await failure(runSyncJob(job({ dir: join(base, 'w-stop') }), { onSpawn: p => { pid = p }, onFetched: () => { stop.abort() }, signal: stop.signal }))
  assert.is(msg, 'the sync was stopped (monkd is stopping)')
  assert.ok(pid > 0)
  const alive = (): boolean => { try { process.kill(pid, 0); return true } catch { return false } }
  for (let i = 0; i < 100 && alive(); i++) await new Promise(resolve => setTimeout(resolve, 50))
  assert.ok(!alive(), `the child ${pid} is gone`)
})

J('a compile that needs more memory than the limit is stopped with a message (monk lives on)', async () => {
  const repo = join(base, 'mem')
  mkdirSync(repo)
  let y = 'namespace: mem\n'
  for (let i = 0; i < 6000; i++) y += `t${i}:\n  defines: runnable\n  containers:\n    main:\n      image: monk-test/busybox:1\n      environment:\n        - A=${i}\n`
  writeFileSync(join(repo, 'k.yaml'), y)
  git(repo, 'init', '-q', '-b', 'main')
  commitAll(repo, 'many templates')
  let fetched = false
  const msg = await failure(runSyncJob(job({ url: repo, dir: join(base, 'w-mem'), limits: { ...defaultHubLimits, memoryMb: 40 } }), { onFetched: () => { fetched = true } }))
  assert.ok(fetched, 'the fetch finished; the compile ran out')
  assert.is(msg, "compiling the kits needed more than the hub's limit of 40 MiB of memory")
})

J('a repository with more files than the limit is stopped with a message and its copy removed', async () => {
  const repo = join(base, 'files')
  mkdirSync(repo)
  writeFileSync(join(repo, 'k.yaml'), 'namespace: files\nx:\n  defines: runnable\n  containers: {c: {image: a}}\n')
  for (let i = 0; i < 11; i++) writeFileSync(join(repo, `f${i}.txt`), `${i}\n`)
  git(repo, 'init', '-q', '-b', 'main')
  commitAll(repo, 'files')
  const dir = join(base, 'w-files')
  const msg = await failure(runSyncJob(job({ url: repo, dir, limits: { ...defaultHubLimits, maxFiles: 5 } })))
  assert.is(msg, "the repository has 12 files, more than the hub's limit of 5")
  assert.ok(!existsSync(dir))
  // within the limit it syncs
  const ok = await runSyncJob(job({ url: repo, dir, limits: { ...defaultHubLimits, maxFiles: 12 } }))
  assert.equal(ok.write.map(w => w.path), ['files/x'])
})

J.run()
