// The dashboard's running actions span the cluster: an action run through one peer's API is
// carried in the replica (action/<id>/<peer>) while it runs, so another peer's feed (its page)
// lists it with its arguments (secret ones masked) and the peer it came through, then sees it end
// (done or failed, with the error); a run whose peer goes down ends as failed. Real libp2p
// meshes on 127.0.0.1.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ACTION_PREFIX, GuiFeed, type Stamped } from '../../../cli/api/gui-feed.js'
import { allAlive, startCluster, stopPeer, waitFor, type TestCluster } from '../../helpers/mesh-cluster.js'

const G = suite('gui feed: running actions from any peer')
let c: TestCluster
let feeds: GuiFeed[] = []

G.before(async () => {
  c = await startCluster(3)
  await waitFor('3 peers see each other', () => allAlive(c.peers), 30_000)
  feeds = c.peers.map(m => new GuiFeed(m))
})
G.after(async () => {
  for (const f of feeds) f.close()
  await c.close()
})

const actionsOf = (events: Stamped[]): Array<Stamped & { kind: 'action' }> => events.filter((e): e is Stamped & { kind: 'action' } => e.kind === 'action')

G('a run through peer A is listed on B and C while it runs, then ends there as done', async () => {
  const [a, b, cc] = feeds as [GuiFeed, GuiFeed, GuiFeed]
  const seen: Stamped[] = []
  const off = b.subscribe(e => seen.push(e))
  let finish!: (v: string) => void
  const run = a.trackAction('runnable/ns/app', 'slow', { what: 'nap', password: 'hunter2' }, () => new Promise<string>(resolve => { finish = resolve }))
  for (const f of [b, cc]) await waitFor('the run listed on another peer', () => f.recent().running.length === 1, 20_000)
  const listed = b.recent().running[0] as Stamped & { kind: 'action' }
  assert.is(listed.path, 'runnable/ns/app')
  assert.is(listed.action, 'slow')
  assert.equal(listed.args, { what: 'nap', password: '••••' })
  assert.is(listed.via, 'p0')
  assert.is(listed.phase, 'running')
  assert.ok(c.peers[1]!.scan(ACTION_PREFIX).every(e => e.key.endsWith(`/${c.peers[0]!.peerId}`)))
  finish('ok')
  assert.is(await run, 'ok')
  await waitFor('B sees the run end', () => b.recent().running.length === 0, 20_000)
  await waitFor('C sees the run end', () => cc.recent().running.length === 0, 20_000)
  assert.equal(actionsOf(seen).map(e => e.phase), ['running', 'done'])
  assert.equal(b.recent().events.filter(e => e.kind === 'action').map(e => (e as { phase: string }).phase), ['running', 'done'])
  await waitFor('the key is deleted after the outcome was shown', () => c.peers[1]!.scan(ACTION_PREFIX).length === 0, 20_000)
  off()
})

G('a failed run ends as failed with its error on the other peers', async () => {
  const [, b, cc] = feeds as [GuiFeed, GuiFeed, GuiFeed]
  const seen: Stamped[] = []
  const off = cc.subscribe(e => seen.push(e))
  let fail!: (e: Error) => void
  const run = b.trackAction('group/ns/pair', 'migrate', { to: 'v2' }, () => new Promise<string>((_resolve, reject) => { fail = reject }))
  await waitFor('C lists the run', () => cc.recent().running.some(r => (r as { action?: string }).action === 'migrate'), 20_000)
  fail(Object.assign(new Error('the database said no'), { code: 'action-failed' }))
  const e = await run.then(() => null, (err: Error) => err)
  assert.is(e?.message, 'the database said no')
  await waitFor('C sees the failure', () => actionsOf(seen).some(x => x.phase === 'failed'), 20_000)
  const failed = actionsOf(seen).find(x => x.phase === 'failed')!
  assert.is(failed.error, 'the database said no')
  assert.is(failed.path, 'group/ns/pair')
  assert.is(cc.recent().running.length, 0)
  off()
})

G('a run whose peer goes down ends as failed on the others; the peer it ran through is named', async () => {
  const [a, b] = feeds as [GuiFeed, GuiFeed, GuiFeed]
  const seen: Stamped[] = []
  const off = b.subscribe(e => seen.push(e))
  void a.trackAction('runnable/ns/app', 'forever', {}, () => new Promise<string>(() => {})).catch(() => {})
  await waitFor('B lists the run', () => b.recent().running.length === 1, 20_000)
  a.close()
  await stopPeer(c.peers[0]!)
  await waitFor('B ends the run of the peer that went down', () => actionsOf(seen).some(x => x.phase === 'failed'), 60_000)
  assert.match(actionsOf(seen).find(x => x.phase === 'failed')!.error ?? '', /went down/)
  assert.is(b.recent().running.length, 0)
  off()
})

G.run()
