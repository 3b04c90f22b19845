// Bad hub input never blocks the cluster (one in-process peer with the real control API, sources in
// git repositories made here, the CLI run from source against the peer's socket): an unreachable URL,
// a ref that does not exist, a repository without kits, a repository over the file limit, a kit with
// errors and a kit with a record beyond the mesh's entry limit each get a clear message in `monk hub
// ls` (the kit ones, and `monk info`, name the kit) while the good sources and kits sync. `monk list`
// marks a running hub kit whose hub version changed.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { HubRow, TemplateInfo } from '../../actors/messages/index.js'
import { root, tsNode } from '../helpers/cli.js'
import { commitAll, git } from '../helpers/hub-git.js'
import { startTestPeer, until, type TestPeer } from '../helpers/monkd.js'

const base = mkdtempSync(join(tmpdir(), 'monk-hub-bad-'))
const out = join(base, 'out.txt')
let p: TestPeer
const send = async <T>(msg: Record<string, unknown>): Promise<T> => await p.client.request<T>('peer', msg as never)

/** `monk ARGS` from source against the peer's socket (async: the peer answers from this process). */
function monk (...args: string[]): Promise<{ code: number, out: string, err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsNode, join(root, 'cli/monk.ts'), '--socket', `unix://${p.api.socketPath}`, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let o = ''
    let e = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { o += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { e += d })
    child.once('error', reject)
    child.once('close', code => { resolve({ code: code ?? 1, out: o, err: e }) })
  })
}

/** What the hub's version of a runnable echoes (the version its `bash` writes). */
async function echo (path: string): Promise<string | undefined> {
  const t = await send<TemplateInfo>({ type: 'templates.info', path })
  const bash = (t.value.containers as Record<string, { bash?: string }> | undefined)?.main?.bash ?? ''
  return /^echo (\S+) >>/.exec(bash)?.[1]
}

function repo (name: string, files: Record<string, string>): string {
  const dir = join(base, 'git', name)
  for (const [rel, text] of Object.entries(files)) { mkdirSync(join(dir, rel, '..'), { recursive: true }); writeFileSync(join(dir, rel), text) }
  if (!existsSync(join(dir, '.git'))) git(dir, 'init', '-q', '-b', 'main')
  return commitAll(dir, 'files')
}

const runnable = (ns: string, name: string, echo: string, extra = ''): string => `namespace: ${ns}
${name}:
  defines: runnable
  metadata:
    version: "${echo}"
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: echo ${echo} >> ${out}; while true; do sleep 1; done
${extra}`

const B = suite('hub: bad input never blocks the cluster')
B.before(async () => {
  p = await startTestPeer('hubbad', { base, hub: { autoupdateMs: 0, defaults: false, limits: { maxFiles: 20 } } })
})
B.after(async () => {
  await send({ type: 'workload.purge', path: 'kitc/w' }).catch(() => {})
  await p?.stop()
  rmSync(base, { recursive: true, force: true })
})

B('each bad source says what is wrong in hub ls; the good source syncs next to them', async () => {
  repo('good', {
    MANIFEST: 'REPO good\nDIRS a c\n',
    'a/MANIFEST': 'REPO a\nLOAD one.yaml two.yaml\n',
    'a/one.yaml': runnable('kita', 'x', 'x1'),
    'a/two.yaml': runnable('kitatwo', 'y', 'y1'),
    'c/MANIFEST': 'REPO c\nLOAD four.yaml\n',
    'c/four.yaml': runnable('kitc', 'w', 'w1'),
  })
  repo('nokits', { 'README.md': 'no kits here\n' })
  const many: Record<string, string> = { 'k.yaml': runnable('many', 'm', 'm1') }
  for (let i = 0; i < 25; i++) many[`f${i}.txt`] = `${i}\n`
  repo('many', many)
  const bad: Array<[string, string, string | undefined, RegExp]> = [
    ['unreachable', 'git://127.0.0.1:9/none', undefined, /^cannot fetch git:\/\/127\.0\.0\.1:9\/none: /],
    ['noref', join(base, 'git', 'good'), 'no-such-ref', /^ref "no-such-ref" does not exist in /],
    ['nokits', join(base, 'git', 'nokits'), undefined, /^the repository holds no kit/],
    ['many', join(base, 'git', 'many'), undefined, /^the repository has 26 files, more than the hub's limit of 20$/],
  ]
  const good = await send<HubRow>({ type: 'hub.add', name: 'good', url: join(base, 'git', 'good') })
  assert.is(good.error, null)
  assert.is(good.templates, 3)
  for (const [name, url, ref, want] of bad) {
    const row = await send<HubRow>({ type: 'hub.add', name, url, ...(ref !== undefined ? { ref } : {}) })
    assert.match(row.error ?? '', want, `${name}: ${row.error}`)
    assert.is(row.templates, 0)
  }
  // one sync of everything answers for every source, the good one still good
  const all = await send<HubRow[]>({ type: 'hub.sync' })
  assert.equal(all.map(r => [r.name, r.error === null]), [['good', true], ['many', false], ['nokits', false], ['noref', false], ['unreachable', false]])
  const ls = await monk('hub', 'ls')
  assert.is(ls.code, 0, ls.err)
  for (const [name, , , want] of bad) {
    const line = ls.out.split('\n').find(l => l.startsWith(`${name} `)) ?? ''
    assert.match(line, new RegExp(want.source.replace(/^\^/, '').replace(/\$$/, '')), `${name} in:\n${ls.out}`)
  }
  assert.is(await echo('kita/x'), 'x1')
})

B('a kit with errors keeps its previous version, named in hub ls and monk info; its sibling kit moves on', async () => {
  const before = (await send<HubRow[]>({ type: 'hub.ls' })).find(r => r.name === 'good')!.commit!
  repo('good', {
    'a/one.yaml': runnable('kita', 'x', 'x2'),
    'a/two.yaml': runnable('kitatwo', 'y', 'y2', '  inherits: kitatwo/nowhere\n'),
    'c/four.yaml': runnable('kitc', 'w', 'w2'),
  })
  const [row] = await send<HubRow[]>({ type: 'hub.sync', name: 'good' })
  assert.is(row!.error, null)
  assert.equal(row!.broken.map(b => b.kit), ['a'])
  assert.match(row!.broken[0]!.error, /^a\/two\.yaml:\d+:\d+: .*kitatwo\/nowhere/)
  assert.is(row!.written, 1, 'only kit c is rewritten')
  const ls = await monk('hub', 'ls')
  assert.match(ls.out, /^good .* 1 kit\(s\) with errors \(each keeps its previous version, or is not served\)/m)
  assert.match(ls.out, /^ {2}good: a: a\/two\.yaml:\d+:\d+: .*kitatwo\/nowhere/m)
  const x = await send<TemplateInfo>({ type: 'templates.info', path: 'kita/x' })
  assert.is(x.commit, before, 'the good file of the broken kit stays at the previous commit')
  assert.match(x.problem ?? '', new RegExp(`^kit a of good has errors at commit ${row!.commit!.slice(0, 12)} \\(a/two\\.yaml:\\d+:\\d+: .*\\); this is its version from commit ${before.slice(0, 12)}$`))
  const info = await monk('info', 'kita/x')
  assert.match(info.out, /^problem: ["']?kit a of good has errors at commit /m, info.out)
  assert.is(await echo('kitc/w'), 'w2')
  assert.is((await send<TemplateInfo>({ type: 'templates.info', path: 'kitc/w' })).problem, undefined)
})

B('a kit whose record is beyond the mesh entry limit is named in hub ls; the others proceed', async () => {
  repo('good', {
    'a/two.yaml': runnable('kitatwo', 'y', 'y3'),
    'c/four.yaml': runnable('kitc', 'w', 'w3', `  metadata:\n    description: ${'d'.repeat(600 << 10)}\n`),
  })
  const [row] = await send<HubRow[]>({ type: 'hub.sync', name: 'good' })
  assert.equal(row!.broken.map(b => b.kit), ['c'])
  assert.match(row!.broken[0]!.error, /^c\/four\.yaml:\d+:\d+: the compiled record of kitc\/w is \d+ KiB, more than the mesh's entry limit of 512 KiB$/)
  assert.is(await echo('kita/x'), 'x2', 'kit a, fixed, moves on')
  assert.is(await echo('kitc/w'), 'w2', 'kit c keeps its previous version')
})

B('monk list marks a running hub kit whose hub version changed; --changed lists only it', async () => {
  repo('good', { 'c/four.yaml': runnable('kitc', 'w', 'w4') })
  await send<HubRow[]>({ type: 'hub.sync', name: 'good' })
  await send({ type: 'workload.run', path: 'kitc/w' })
  await until('w4 runs', () => existsSync(out) && readFileSync(out, 'utf8').includes('w4'), 30_000)
  const plain = await monk('list', 'kitc/')
  assert.match(plain.out, /^runnable\s+kitc\/w\s+good\s+w4\s*$/m)
  assert.not.match(plain.out, /\*/)
  repo('good', { 'c/four.yaml': runnable('kitc', 'w', 'w5') })
  await send<HubRow[]>({ type: 'hub.sync', name: 'good' })
  const marked = await monk('list')
  assert.match(marked.out, /^runnable\s+kitc\/w \*\s+good\s+w5\s*$/m)
  assert.match(marked.out + marked.err, /\* the hub has a newer version than what runs; monk update PATH takes it/)
  assert.not.match(marked.out, /kita\/x \*/)
  const changed = await monk('--output', 'json', 'list', '--changed')
  assert.equal((JSON.parse(changed.out) as Array<{ path: string }>).map(r => r.path), ['kitc/w'])
})

B.run()
