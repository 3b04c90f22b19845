// Secrets with real monkd processes (process runtime) and the built `monk` (issue 13): alpha founds,
// beta joins as a worker, gamma as an operator. A secret is sealed under the data key: a rogue
// in-process peer holding only the cluster key cannot open it (raw replica read + decrypt attempts),
// an in-process operator can; the worker's CLI cannot add or read it. A workload placed on the
// worker gets its secret in its environment through a grant, and no file of any home holds it; the
// worker's own seal key (read from its home) over a raw replica opens that grant and nothing else:
// no data key, no secret of a workload not placed on it. Purging the workload removes the grant.
// peer-remove of an admitted rogue operator rotates the data key: its old key opens none of the
// secrets afterwards. The process list, the logs, describe, ps, secrets ls and every CLI output are
// grepped for the tokens and every secret value: none.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerRow, PsRow } from '../../cli/api/messages.js'
import { SealKey } from '../../actors/cloud/credentials.js'
import { SecretKeys, secretGrantKey, secretGrantPrefix, secretKeyKey } from '../../actors/secret-keys.js'
import { decodeSealed, SecretBox, SecretError } from '../../actors/secrets.js'
import { encodeToken, parseToken } from '../../mesh/cluster.js'
import { startMesh, type Mesh } from '../../mesh/index.js'
import { cleanup, e2eBase, ensureBuilt, monkBin, peerIn, startPeer, until, type E2ePeer, type Ran } from '../helpers/cli-e2e.js'
import { fastConfig } from '../helpers/mesh-cluster.js'

const base = e2eBase('secrets')
const ns = `e2es${process.pid}`
const kitDir = join(base, 'kit')
mkdirSync(kitDir)
const SECRET = `Sx-${process.pid}-${Date.now().toString(36)}-pa55`
const SECRET2 = `Sy-${process.pid}-${Date.now().toString(36)}-after`
const SECRET3 = `Sz-${process.pid}-${Date.now().toString(36)}-elsewhere`
writeFileSync(join(kitDir, 'kit.yaml'), `namespace: ${ns}
app:
  defines: runnable
  permitted-secrets:
    dbpass: true
  variables:
    pw: <- secret("dbpass")
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      environment:
        DB_PASSWORD: <- $pw
      files:
        - path: /etc/app.conf
          contents: 'password={{ v "pw" }}'
          mode: "0600"
      bash: exec sleep 3600
`)

const peers: E2ePeer[] = []
const rogues: Array<{ mesh: Mesh, home: string }> = []
const outputs: string[] = []
const seen = (r: Ran): Ran => { outputs.push(r.out, r.err); return r }
const tokens: string[] = []
let alpha: E2ePeer
let beta: E2ePeer
let gamma: E2ePeer
/** The in-process operator of the first test: a full replica to read raw. */
let opMesh: Mesh

const S = suite('secrets with real monkd peers')
S.before(() => { ensureBuilt() })
S.after(async () => {
  await Promise.all(rogues.map(async r => { await r.mesh.stop().catch(() => {}) }))
  await cleanup(peers, base)
})

async function tokenFrom (p: E2ePeer, ...flags: string[]): Promise<string> {
  const r = await p.monk('cluster', 'token', ...flags)
  assert.is(r.code, 0, r.err)
  tokens.push(r.out.trim())
  return r.out.trim()
}

async function rogue (token: string, name: string): Promise<{ mesh: Mesh, keys: SecretKeys }> {
  const home = mkdtempSync(join(base, `${name}-`))
  const mesh = await startMesh({ home, listen: ['/ip4/127.0.0.1/tcp/0'], token, config: fastConfig, admission: true, name })
  const seal = SealKey.open(home)
  await mesh.announce({ name, sealKey: seal.publicRaw })
  rogues.push({ mesh, home })
  return { mesh, keys: new SecretKeys(mesh, seal) }
}

const codeOf = (fn: () => unknown): string | undefined => {
  try { fn(); return undefined } catch (err) { return err instanceof SecretError ? err.code : `other: ${String(err)}` }
}

async function secretsAdd (p: E2ePeer, name: string, value: string): Promise<Ran> {
  // the value goes in on stdin: never in an argv
  return seen(await monkBin(['--home', p.home, 'secrets', 'add', '-g', name], { input: value }))
}

S('a secret opens on operators only: not with the cluster key, not from the worker\'s CLI', async () => {
  alpha = peerIn('alpha', base)
  beta = peerIn('beta', base)
  gamma = peerIn('gamma', base)
  peers.push(alpha, beta, gamma)
  await startPeer(alpha)
  const created = await alpha.monk('cluster', 'new')
  assert.is(created.code, 0, created.err)
  tokens.push(created.out.trim())
  for (const [p, t] of [[beta, await tokenFrom(alpha, '--role', 'worker', '--uses', '1')], [gamma, await tokenFrom(alpha, '--role', 'operator', '--uses', '1')]] as const) {
    const r = seen(await p.monk('cluster', 'join', t, '--runtime', 'process', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', p.name))
    assert.is(r.code, 0, r.err)
  }
  await until('every role known at alpha', async () => {
    const x = await alpha.json<PeerRow[]>('cluster', 'peers')
    return x.find(r => r.name === 'beta')?.role === 'worker' && x.find(r => r.name === 'gamma')?.role === 'operator'
  })
  const added = await secretsAdd(alpha, 'dbpass', SECRET)
  assert.is(added.code, 0, added.err)
  // the worker's CLI: refused, naming the role
  const refused = await secretsAdd(beta, 'other', 'worker-value')
  assert.is.not(refused.code, 0)
  assert.match(refused.err, /is a worker: .* needs the operator role/)
  const ls = seen(await beta.monk('secrets', 'ls'))
  assert.is(ls.code, 0, ls.err)
  assert.match(ls.out, /dbpass/)

  // a stranger holding the cluster key, no invite: reads the sealed value, opens nothing
  const { invite: _i, ...bare } = parseToken(tokens[0]!)
  const stranger = await rogue(encodeToken(bare), 'stranger')
  const raw = await until('the stranger holds the sealed secret', () => stranger.mesh.get('secret/global/dbpass'))
  assert.ok(decodeSealed(raw)?.epoch, 'sealed under a data-key epoch')
  assert.is(codeOf(() => stranger.keys.open('global', 'dbpass', raw)), 'secret-no-key')
  assert.is(codeOf(() => new SecretBox(bare.key).open('global', 'dbpass', raw)), 'secret-corrupt')
  // an in-process operator gets an envelope and opens it
  const op = await rogue(await tokenFrom(alpha, '--role', 'operator', '--uses', '1'), 'rogue-operator')
  const opened = await until('the rogue operator opens the secret', () => { try { return op.keys.open('global', 'dbpass', op.mesh.get('secret/global/dbpass')) } catch { return undefined } })
  assert.is(opened, SECRET)
  opMesh = op.mesh
})

/** What the worker beta can open with its own seal key (read from its home) over a raw replica. */
function betaKeys (betaId: string): SecretKeys {
  const view = { peerId: betaId, get: (k: string) => opMesh.get(k), scan: (p: string) => opMesh.scan(p), roleOf: (id: string) => opMesh.roleOf(id) } as unknown as Mesh
  return new SecretKeys(view, SealKey.open(beta.home))
}

S('a workload gets its secret in its environment; no file of any home holds it', async () => {
  assert.is(seen(await gamma.monk('load', kitDir)).code, 0)
  const ran = seen(await gamma.monk('run', '--peer', 'beta', `${ns}/app`))
  assert.is(ran.code, 0, ran.err)
  const pid = await until('the workload runs on beta with its secret', () => {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue
      try { if (readFileSync(`/proc/${d}/environ`, 'utf8').includes(`DB_PASSWORD=${SECRET}`)) return d } catch { /* gone or not ours */ }
    }
    return undefined
  }, 60_000)
  assert.ok(pid)
  // a file rendered with the secret lives on tmpfs; the instance directory holds a link to it
  const links = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap(d => {
    const p = join(dir, d.name)
    return d.isDirectory() ? links(p) : d.isSymbolicLink() ? [p] : []
  })
  const conf = links(join(beta.home, 'instances')).find(p => p.endsWith('/files/main/etc/app.conf'))
  assert.ok(conf, 'the rendered file is in beta\'s instance directory')
  assert.ok(readlinkSync(conf).startsWith('/dev/shm/monk-secrets/files/'), readlinkSync(conf))
  assert.is(readFileSync(conf, 'utf8'), `password=${SECRET}`)
  assert.is(statSync(conf).mode & 0o777, 0o600)
  // what the worker itself can open from a raw replica: its grant, nothing else
  const betaId = (await alpha.json<PeerRow[]>('cluster', 'peers')).find(r => r.name === 'beta')!.id
  const bk = betaKeys(betaId)
  assert.is(opMesh.roleOf(betaId), 'worker')
  for (const r of bk.records()) assert.is(r.envelopes[betaId], undefined, `epoch ${r.epoch} seals the data key to the worker`)
  assert.is(codeOf(() => bk.dataKey(bk.current()!.epoch)), 'secret-no-key')
  await until('beta\'s grant of dbpass at the operator', () => opMesh.get(secretGrantKey(betaId, 'global', 'dbpass')))
  assert.is(bk.open('global', 'dbpass', opMesh.get('secret/global/dbpass')), SECRET)
  // a secret of no workload placed on beta: no grant, it does not open with beta's key
  assert.is((await secretsAdd(alpha, 'elsewhere', SECRET3)).code, 0)
  const sealed3 = await until('the other secret at the operator', () => opMesh.get('secret/global/elsewhere'))
  assert.is(codeOf(() => bk.open('global', 'elsewhere', sealed3)), 'secret-no-grant')
  assert.equal(opMesh.scan(`${secretGrantPrefix}${betaId}/`).map(e => e.key), [secretGrantKey(betaId, 'global', 'dbpass')])
  // no envelope of the data key (each sealed to an operator) opens with beta's seal key
  for (const r of bk.records()) for (const [to, env] of Object.entries(r.envelopes)) assert.throws(() => bk.sealKey.openText(secretKeyKey(r.epoch), to, env))
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap(d => {
    const p = join(dir, d.name)
    return d.isDirectory() ? files(p) : d.isFile() ? [p] : []
  })
  for (const p of peers) {
    for (const f of files(p.home)) {
      if (statSync(f).size > 50_000_000) continue
      assert.not.ok(readFileSync(f).includes(SECRET), `${f} holds the secret in plaintext`)
    }
  }
})

S('peer-remove rotates the data key: the removed operator\'s old key opens none of the secrets', async () => {
  const w = await rogue(await tokenFrom(alpha, '--role', 'operator', '--uses', '1'), 'rogue-op2')
  const epoch1 = await until('the rogue operator holds the data key', () => { const c = w.keys.current(); return c?.envelopes[w.mesh.peerId] ? c.epoch : undefined })
  const oldKey = w.keys.dataKey(epoch1)
  assert.is(new SecretBox(oldKey).open('global', 'dbpass', w.mesh.get('secret/global/dbpass')), SECRET)
  const r = seen(await gamma.monk('cluster', 'peer-remove', 'rogue-op2'))
  assert.is(r.code, 0, r.err)
  await until('a new epoch without the removed peer reached it', () => { const c = w.keys.current(); return c !== undefined && c.epoch > epoch1 && c.envelopes[w.mesh.peerId] === undefined })
  assert.is((await secretsAdd(alpha, 'after', SECRET2)).code, 0)
  const moved = await until('both secrets sealed under the new epoch at the removed peer', () => {
    const a = w.mesh.get('secret/global/dbpass')
    const b = w.mesh.get('secret/global/after')
    return decodeSealed(a)?.epoch !== epoch1 && b !== undefined ? [a, b] as const : undefined
  })
  assert.is(codeOf(() => new SecretBox(oldKey).open('global', 'dbpass', moved[0])), 'secret-corrupt')
  assert.is(codeOf(() => new SecretBox(oldKey).open('global', 'after', moved[1])), 'secret-corrupt')
  assert.is(codeOf(() => w.keys.open('global', 'after', moved[1])), 'secret-no-key')
  // the workload carries on with its secret
  const ps = await alpha.json<PsRow[]>('ps')
  assert.ok(ps.some(x => x.instance === `${ns}/app` && x.status === 'running'), JSON.stringify(ps))
})

S('purging the workload removes the worker\'s grant', async () => {
  const betaId = (await alpha.json<PeerRow[]>('cluster', 'peers')).find(r => r.name === 'beta')!.id
  const bk = betaKeys(betaId)
  // the grant was made again for the secret re-sealed under the new epoch
  await until('beta opens dbpass through its grant', () => { try { return bk.open('global', 'dbpass', opMesh.get('secret/global/dbpass')) === SECRET } catch { return false } })
  const purged = seen(await gamma.monk('purge', `${ns}/app`))
  assert.is(purged.code, 0, purged.err)
  await until('no grant left for beta', () => opMesh.scan(`${secretGrantPrefix}${betaId}/`).length === 0)
  assert.is(codeOf(() => bk.open('global', 'dbpass', opMesh.get('secret/global/dbpass'))), 'secret-no-grant')
})

S('no process list, log, describe, ps, secrets ls or CLI output carries a token or a secret', async () => {
  for (const args of [['ps'], ['describe', `${ns}/app`], ['secrets', 'ls'], ['cluster', 'peers']]) {
    for (const p of [alpha, gamma]) outputs.push(...(({ out, err }) => [out, err])(seen(await p.monk(...args))))
  }
  const cmdlines: string[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try { cmdlines.push(readFileSync(`/proc/${d}/cmdline`, 'utf8')) } catch { /* gone */ }
  }
  const logs = peers.map(p => {
    const dir = join(p.home, 'logs')
    return existsSync(dir) ? readdirSync(dir).map(f => readFileSync(join(dir, f), 'utf8')).join('\n') : ''
  })
  const key = Buffer.from(parseToken(tokens[0]!).key)
  const needles = [SECRET, SECRET2, SECRET3, ...tokens, key.toString('hex'), key.toString('base64'), key.toString('base64url')]
  for (const [what, texts] of [['a process\'s argv', cmdlines], ['a monkd log', logs], ['a CLI output', outputs]] as const) {
    for (const t of texts) for (const n of needles) assert.not.ok(t.includes(n), `${what} carries a token or a secret`)
  }
})

S.run()
