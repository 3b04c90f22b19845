// Right after a join, `cluster join` and `cluster peers` print membership once it settled: every
// peer that runs shows as alive (not dead because it was not heard from yet), and the count of
// live peers is the number that runs (issue 19: "2 live peers" with 3 up).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerRow } from '../../cli/api/messages.js'
import { cleanup, e2eBase, ensureBuilt, peerIn, startPeer, type E2ePeer } from '../helpers/cli-e2e.js'

const base = e2eBase('join-settle')
const peers: E2ePeer[] = []
const loopback = ['--runtime', 'process', '--listen', '/ip4/127.0.0.1/tcp/0']
const J = suite('cluster join and peers wait for membership to settle')
J.before(() => { ensureBuilt() })
J.after(async () => { await cleanup(peers, base) })

J('each join prints every running peer alive; peers right after agrees', async () => {
  const a = peerIn('alpha', base)
  peers.push(a)
  await startPeer(a)
  const token = (await a.json<{ token: string }>('cluster', 'new')).token
  for (const name of ['beta', 'gamma']) {
    const p = peerIn(name, base)
    peers.push(p)
    const r = await p.monk('cluster', 'join', token, ...loopback, '--name', name)
    assert.is(r.code, 0, r.err)
    const n = peers.length
    assert.match(r.err, new RegExp(`Joined cluster [0-9a-f]{16}: ${n} live peers\\n`), `${name}: ${r.err}`)
    for (const row of peers.map(x => x.name)) assert.match(r.out, new RegExp(`\\s${row}\\s.*\\syes\\s`), `${row} alive in ${name}'s join output:\n${r.out}`)
    // asked at once, without polling: the new peer sees everyone alive
    const rows = await p.json<PeerRow[]>('cluster', 'peers')
    assert.equal(rows.map(x => [x.name, x.alive]).sort(), peers.map(x => [x.name, true]).sort(), JSON.stringify(rows))
  }
})

J.run()
