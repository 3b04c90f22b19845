// `monk cluster rotate-key` against a stand-in monkd: the message it sends, what it tells (epoch,
// peers sealed for, skipped peers, the way back for a peer that is down, the secrets warning) and
// its JSON.
import { rmSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startFakeDaemon, type FakeDaemon } from '../../helpers/cli-fake-daemon.js'
import { monkIn } from '../../helpers/cli-run.js'

let d: FakeDaemon
const K = suite('monk cluster rotate-key (stand-in monkd)')
K.before(async () => { d = await startFakeDaemon() })
K.after(async () => {
  await d.close()
  rmSync(d.home, { recursive: true, force: true })
})
const monk = (...args: string[]) => monkIn(['--home', d.home, ...args])

K('sends cluster.rotate-key and tells what happened and what to do next', async () => {
  const r = await monk('cluster', 'rotate-key')
  assert.is(r.code, 0, r.err)
  assert.equal(d.seen.filter(s => s.message.type === 'cluster.rotate-key').at(-1)?.message, { type: 'cluster.rotate-key' })
  assert.match(r.err, /Rotated the cluster key \(epoch 2\): sealed for 2 admitted peers; they switch to it in [0-3] s/)
  assert.match(r.err, /12D3KooWc is admitted but publishes no seal key/)
  assert.match(r.err, /monk daemon stop, then monk cluster join --join-file FILE/)
  assert.not.match(r.err, /secret/, 'no secrets: no secrets warning')
  assert.is(r.out, '')
})

K('warns when the daemon reports secrets still sealed under the cluster key; JSON is the reply', async () => {
  assert.is((await monk('secrets', 'add', '-g', 'k=v')).code, 0)
  const r = await monk('cluster', 'rotate-key')
  assert.match(r.err, /1 secret is still sealed the old way, under the cluster key .* add it again with monk secrets add/)
  const j = JSON.parse((await monk('--output', 'json', 'cluster', 'rotate-key')).out) as { epoch: number, sealedFor: string[], skipped: string[] }
  assert.is(j.epoch, 2)
  assert.equal(j.sealedFor, ['12D3KooWa', '12D3KooWb'])
  assert.equal(j.skipped, ['12D3KooWc'])
})

K.run()
