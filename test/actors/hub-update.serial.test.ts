// A hub kit that runs (one in-process peer, process runtime, a hub source in a git repository made
// here): it runs from a copy of the template taken at `run`; a new commit synced into the hub does
// not touch what runs, `monk list` marks it changed, and `monk update` takes the new version.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { HubRow, TemplateRow } from '../../actors/messages/index.js'
import { decodeTpl } from '../../actors/state.js'
import { commitAll, git } from '../helpers/hub-git.js'
import { startTestPeer, until, type TestPeer } from '../helpers/monkd.js'

const base = mkdtempSync(join(tmpdir(), 'monk-hub-update-'))
const repo = join(base, 'apps')
const out = join(base, 'out.txt')
const kit = (version: string): string => `namespace: hubapp
app:
  defines: runnable
  metadata:
    version: ${version}
    tags: test
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: echo ${version} >> ${out}; while true; do sleep 1; done
side:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: echo side >> ${out}.side; while true; do sleep 1; done
pair:
  defines: process-group
  members: [hubapp/side]
`

let p: TestPeer
const send = async <T>(msg: Record<string, unknown>): Promise<T> => await p.client.request<T>('peer', msg as never)
const U = suite('hub: a running hub kit keeps its template until update')
U.before(async () => {
  mkdirSync(repo)
  writeFileSync(join(repo, 'app.yaml'), kit('v1'))
  git(repo, 'init', '-q', '-b', 'main')
  commitAll(repo, 'v1')
  p = await startTestPeer('hubupd', { base })
})
U.after(async () => {
  await send({ type: 'workload.purge', path: 'hubapp/app' }).catch(() => {})
  await send({ type: 'workload.purge', path: 'hubapp/pair' }).catch(() => {})
  await p?.stop()
  rmSync(base, { recursive: true, force: true })
})

const lines = (): string[] => existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n') : []
const row = async (): Promise<TemplateRow | undefined> => (await send<TemplateRow[]>({ type: 'templates.list' })).find(r => r.path === 'hubapp/app')

U('run a hub kit, sync a new commit: what runs stays, list marks it; update takes the new version', async () => {
  const added = await send<HubRow>({ type: 'hub.add', name: 'apps', url: repo })
  assert.is(added.error, null)
  const c1 = added.commit!
  await send({ type: 'workload.run', path: 'hubapp/app' })
  await until('v1 runs', () => lines().includes('v1'), 30_000)
  const ran = decodeTpl(p.mesh.get('tpl/hubapp/app'))!
  assert.is(ran.repo, 'apps')
  assert.is(ran.commit, c1)
  assert.equal({ ...(await row()), file: undefined }, { path: 'hubapp/app', kind: 'runnable', file: undefined, repo: 'apps', version: 'v1', tags: ['test'], description: null, commit: c1 })

  writeFileSync(join(repo, 'app.yaml'), kit('v2'))
  const c2 = commitAll(repo, 'v2')
  const synced = await send<HubRow[]>({ type: 'hub.sync', name: 'apps' })
  assert.is(synced[0]!.commit, c2)
  assert.is(synced[0]!.written, 1)
  // what runs keeps its copy; the hub has v2; list marks the change
  assert.is(decodeTpl(p.mesh.get('tpl/hubapp/app'))!.commit, c1)
  const marked = await row()
  assert.is(marked?.version, 'v2')
  assert.is(marked?.changed, true)
  await new Promise(resolve => setTimeout(resolve, 1500))
  assert.equal(lines(), ['v1'], 'nothing restarted')

  await send({ type: 'workload.update', path: 'hubapp/app' })
  await until('v2 runs', () => lines().includes('v2'), 30_000)
  assert.is(decodeTpl(p.mesh.get('tpl/hubapp/app'))!.commit, c2)
  assert.is((await row())?.changed, undefined)
})

U('a hub group runs: the group and its members are taken together', async () => {
  await send({ type: 'workload.run', path: 'apps/hubapp/pair' })
  await until('the member runs', () => existsSync(`${out}.side`), 30_000)
  for (const path of ['hubapp/pair', 'hubapp/side']) assert.is(decodeTpl(p.mesh.get(`tpl/${path}`))?.repo, 'apps', path)
})

U.run()
