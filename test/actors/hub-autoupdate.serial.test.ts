// --template-autoupdate: a peer whose hub refresh period has passed fetches its sources again with
// nobody asking (one in-process peer, a source in a git repository made here, a 2 s period).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { HubRow, TemplateInfo } from '../../actors/messages/index.js'
import { commitAll, git } from '../helpers/hub-git.js'
import { startTestPeer, until, type TestPeer } from '../helpers/monkd.js'

const base = mkdtempSync(join(tmpdir(), 'monk-hub-auto-'))
const repo = join(base, 'kits')
const kit = (tag: string): string => `namespace: auto\nsvc:\n  defines: runnable\n  containers:\n    main:\n      image: monk-test/busybox:${tag}\n`

let p: TestPeer
const A = suite('hub: autoupdate')
A.before(async () => {
  mkdirSync(repo)
  writeFileSync(join(repo, 'svc.yaml'), kit('1'))
  git(repo, 'init', '-q', '-b', 'main')
  commitAll(repo, 'one')
  p = await startTestPeer('hubauto', { base, hub: { autoupdateMs: 2000, defaults: false } })
})
A.after(async () => { await p?.stop(); rmSync(base, { recursive: true, force: true }) })

A('a new commit arrives by itself within the period', async () => {
  const send = async <T>(m: Record<string, unknown>): Promise<T> => await p.client.request<T>('peer', m as never)
  const added = await send<HubRow>({ type: 'hub.add', name: 'kits', url: repo })
  assert.is(added.error, null)
  writeFileSync(join(repo, 'svc.yaml'), kit('2'))
  const second = commitAll(repo, 'two')
  await until('the timer synced the new commit', async () => (await send<HubRow[]>({ type: 'hub.ls' }))[0]?.commit === second, 30_000)
  const info = await send<TemplateInfo>({ type: 'templates.info', path: 'auto/svc' })
  assert.is(info.commit, second)
  assert.match(JSON.stringify(info.value), /busybox:2/)
})

A.run()
