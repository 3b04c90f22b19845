// One join verb (issue 19): `monk cluster join` takes the token from standard input
// (`--join-file -`), a 0600 file or MONK_JOIN_TOKEN, so it never needs to be on a command line;
// the old positional `monk cluster join TOKEN` still works and warns. `cluster new` and the
// command's help name the new form. The built monk and real monkd processes on 127.0.0.1.
import { readdirSync, readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerRow } from '../../cli/api/messages.js'
import { cleanup, e2eBase, ensureBuilt, monkBin, peerIn, startPeer, until, type E2ePeer } from '../helpers/cli-e2e.js'

const J = suite('one join verb: monk cluster join with the token from stdin, a file or the environment')
const base = e2eBase('join-verb')
const peers: E2ePeer[] = []
const loopback = ['--listen', '/ip4/127.0.0.1/tcp/0', '--runtime', 'process']
J.before(() => { ensureBuilt() })
J.after(async () => { await cleanup(peers, base) })

/** Command lines of every process on this machine that mention `needle`. */
function cmdlinesWith (needle: string): string[] {
  const hits: string[] = []
  for (const pid of readdirSync('/proc').filter(d => /^\d+$/.test(d))) {
    try { if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) hits.push(pid) } catch { /* gone */ }
  }
  return hits
}

J('stdin and the environment join without a warning; the positional token warns; no token is a usage error', async () => {
  const a = peerIn('a', base)
  peers.push(a)
  await startPeer(a)
  const created = await a.monk('cluster', 'new')
  assert.is(created.code, 0, created.err)
  const token = created.out.trim()
  assert.match(created.err, /monk cluster join --join-file FILE/, 'cluster new names the one verb')
  assert.match(created.err, /--join-file -/)

  // (monk gui on a monkd without --api-port says how to get one, rather than printing a dead link)
  const noGui = await a.monk('gui', '--no-open')
  assert.is(noGui.code, 1, noGui.err)
  assert.match(noGui.err, /has none: restart it with one, e\.g\. .*--api-port 44004/)

  const help = await monkBin(['cluster', 'join', '--help'])
  assert.match(help.out, /--join-file <path>/)
  assert.match(help.out, /MONK_JOIN_TOKEN/)

  const none = await peerIn('none', base).monk('cluster', 'join')
  assert.is(none.code, 2)
  assert.match(none.err, /needs the join token.*--join-file FILE.*--join-file -.*MONK_JOIN_TOKEN/)

  const b = peerIn('b', base)
  peers.push(b)
  const viaStdin = await monkBin(['--home', b.home, 'cluster', 'join', '--join-file', '-', ...loopback, '--name', 'b'], { input: `${token}\n` })
  assert.is(viaStdin.code, 0, viaStdin.err)
  assert.match(viaStdin.err, /Joined cluster/)
  assert.not.match(viaStdin.err, /warning/)

  const c = peerIn('c', base)
  peers.push(c)
  const viaEnv = await monkBin(['--home', c.home, 'cluster', 'join', ...loopback, '--name', 'c'], { env: { MONK_JOIN_TOKEN: token } })
  assert.is(viaEnv.code, 0, viaEnv.err)
  assert.not.match(viaEnv.err, /warning/)

  await until('a sees 3 live peers', async () => (await a.json<PeerRow[]>('cluster', 'peers')).filter(r => r.alive).length === 3, 60_000)
  assert.equal(cmdlinesWith(token), [], 'no process has the token on its command line')

  // the old form: still works (here: already a member), with a warning that names the safe ways
  const old = await b.monk('cluster', 'join', token)
  assert.is(old.code, 0, old.err)
  assert.match(old.err, /warning: monk cluster join TOKEN puts the cluster key in the process list.*--join-file/)
  assert.match(old.err, /Already a member/)
  // two sources at once are refused rather than one silently preferred
  const both = await monkBin(['--home', b.home, 'cluster', 'join', '--join-file', '-'], { input: token, env: { MONK_JOIN_TOKEN: token } })
  assert.is(both.code, 2)
  assert.match(both.err, /one way/)
})

J.run()
