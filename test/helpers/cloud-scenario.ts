// Building blocks of the cloud end-to-end tests: operator monkd processes, `monk cluster ...`
// through the real CLI (with the SDK's standard credential sources in its environment), the node
// records, and a cleanup that leaves no process behind.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import type { NodeRow } from '../../actors/cloud-manager.js'
import type { PeerRow } from '../../cli/api/messages.js'
import type { Cloud } from './cloud-emulators.js'
import { cloudMonk, type Ran } from './cloud-cli.js'
import { spawnMonkd, until, type MonkdProcess } from './monkd.js'

export interface Op { p: MonkdProcess, env: Record<string, string> }

/** An operator peer (a monkd on "this machine") with the process runtime. */
export async function operator (name: string, base: string, join?: string): Promise<Op> {
  const home = `${base}/${name}`
  const p = await spawnMonkd(name, home, ['--runtime', 'process', ...(join ? ['--join', join] : [])])
  return { p, env: { MONK_HOME: home } }
}

/** `monk ARGS` against `op`'s daemon, with extra environment. */
export async function monk (op: Op, args: string[], env: Record<string, string> = {}, input?: string): Promise<Ran> {
  return await cloudMonk(args, { env: { ...op.env, ...env }, ...(input !== undefined ? { input } : {}) })
}

/** `monk cluster provider add KIND` reading credentials the standard way (env, key file, stdin). */
export async function addProvider (op: Op, c: Cloud, base: string, opts: { bad?: boolean } = {}): Promise<Ran> {
  const creds = opts.bad ? c.badCreds : c.creds
  if (c.kind === 'aws') return await monk(op, ['cluster', 'provider', 'add', 'aws', '--endpoint', c.options.endpoint], { AWS_ACCESS_KEY_ID: creds.accessKeyId!, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey!, AWS_PROFILE: '', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' })
  if (c.kind === 'gcp') {
    const file = join(base, `sa-${opts.bad ? 'bad' : 'good'}.json`)
    writeFileSync(file, creds.serviceAccount!, { mode: 0o600 })
    return await monk(op, ['cluster', 'provider', 'add', 'gcp', '-f', file], { MONK_GCP_ENDPOINT: c.options.endpoint })
  }
  return await monk(op, ['cluster', 'provider', 'add', 'digitalocean', '--endpoint', c.options.endpoint], { DIGITALOCEAN_TOKEN: creds.token! })
}

export async function nodes (op: Op, names?: string[]): Promise<NodeRow[]> {
  return await op.p.client.request<NodeRow[]>('peer', { type: 'cluster.nodes', ...(names ? { names } : {}) })
}

export async function peers (op: Op): Promise<PeerRow[]> {
  return await op.p.client.request<PeerRow[]>('peer', { type: 'cluster.peers' })
}

/** The grow flags of a cloud: its region and zone. */
export function where (c: Pick<Cloud, 'where'>): string[] {
  return ['-r', c.where.region, ...(c.where.zone ? ['-z', c.where.zone] : [])]
}

/** Asserts `monk` succeeded, showing its output when not. */
export function ok (r: Ran, what: string): Ran {
  assert.is(r.code, 0, `${what} failed (exit ${r.code}):\n${r.err}\n${r.out}`)
  return r
}

/** Every live peer named in `names` carries all of `tags`. */
export async function joinedWithTags (op: Op, names: string[], tags: string[]): Promise<PeerRow[]> {
  return await until(`${names.join(', ')} alive with tags ${tags.join(',')}`, async () => {
    const ps = (await peers(op)).filter(p => names.includes(p.name) && p.alive)
    return ps.length === names.length && ps.every(p => tags.every(t => p.tags.includes(t))) ? ps : undefined
  }, 30_000)
}

/** Kills local machines recorded under `dir` (the local provider's machines outlive their driver). */
export function killLocalMachines (dir: string): number {
  let n = 0
  if (!existsSync(dir)) return 0
  for (const cluster of readdirSync(dir)) {
    for (const m of readdirSync(join(dir, cluster))) {
      try {
        const f = JSON.parse(readFileSync(join(dir, cluster, m, 'machine.json'), 'utf8')) as { pid: number }
        try { process.kill(-f.pid, 'SIGKILL'); n++ } catch { /* gone */ }
      } catch { /* no record */ }
    }
  }
  return n
}

/** `ps -eo args` of every process now (for credential greps). */
export function psArgs (): string {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8', maxBuffer: 64 << 20 })
}

/** Every file under `dir` (recursively) whose name matches, as text. */
export function readAll (dir: string, name: RegExp): Array<{ file: string, text: string }> {
  const out: Array<{ file: string, text: string }> = []
  const walk = (d: string): void => {
    let entries: string[] = []
    try { entries = readdirSync(d) } catch { return }
    for (const e of entries) {
      const p = join(d, e)
      let isDir = false
      try { isDir = statSync(p).isDirectory() } catch { continue }
      if (isDir) walk(p)
      else if (name.test(e)) { try { out.push({ file: p, text: readFileSync(p, 'utf8') }) } catch { /* vanished */ } }
    }
  }
  walk(dir)
  return out
}

/** Asserts none of `secrets` appears in any of `texts` (naming where it leaked). */
export function assertNoSecrets (secrets: string[], texts: Array<{ where: string, text: string }>): void {
  for (const s of secrets) {
    assert.ok(s.length >= 8, 'a meaningful secret to look for')
    for (const t of texts) assert.not.ok(t.text.includes(s), `a credential (${s.slice(0, 4)}…) appears in ${t.where}`)
  }
}

/** How long each grow took, for the test output (the acceptance numbers). */
export const timings: Record<string, number> = {}

const history = (r: NodeRow, state: string): number | undefined => r.history.find(h => h.state === state)?.at

/**
 * The per-provider acceptance, against the provider's emulator: bad credentials are refused; grow 2
 * machines, both join with their tags; shrink, both leave and are terminated; quota, API 500s with
 * a slow boot, a machine that never joins, and a bad region each end in a clear state, no machine
 * leaked; no credential in logs, ps, describe or errors.
 */
export async function providerScenario (c: Cloud, base: string): Promise<void> {
  const op = await operator('op', base)
  const seen: Array<{ where: string, text: string }> = []
  const keep = (where: string, r: Ran): Ran => { seen.push({ where: `${where} stdout`, text: r.out }, { where: `${where} stderr`, text: r.err }); return r }
  const tags = [c.kind, c.where.region, ...(c.where.zone ? [c.where.zone] : [])]
  const emu = c.emu
  try {
    const bad = keep('provider add (bad credentials)', await addProvider(op, c, base, { bad: true }))
    assert.is(bad.code, 1, `bad credentials are refused: ${bad.err}`)
    assert.match(bad.err, /bad|credential|authenticat|validate/i)
    ok(keep('provider add', await addProvider(op, c, base)), 'provider add')

    // grow 2, both join with their tags
    let t0 = Date.now()
    let psDuring = ''
    const growing = monk(op, ['cluster', 'grow', '-p', c.kind, '-n', 'web', '-m', '2', '-t', 'frontend', '-i', c.instanceType, ...where(c)])
    await until('the machines are created', () => emu.live().length === 2, 30_000, 50)
    psDuring = psArgs()
    const grown = keep('grow web', await growing)
    ok(grown, 'grow web')
    timings[`${c.kind}: grow 2 → joined (CLI)`] = Date.now() - t0
    assert.match(grown.err, /web-1: booting/)
    assert.match(grown.err, /web-2: joined as peer/)
    const joined = await joinedWithTags(op, ['web-1', 'web-2'], ['frontend', ...tags])
    assert.is(joined.length, 2)
    assert.ok(c.firewallOpens(44001), 'the p2p port is opened')
    for (const m of emu.live()) assert.not.ok(c.secrets.some(s => m.userData.includes(s)), 'no credential in the user data')
    seen.push({ where: 'ps during grow', text: psDuring })

    // shrink: both leave and are terminated
    t0 = Date.now()
    ok(keep('shrink', await monk(op, ['cluster', 'shrink', '-n', 'web'])), 'shrink')
    timings[`${c.kind}: shrink 2 → gone`] = Date.now() - t0
    assert.equal((await nodes(op, ['web-1', 'web-2'])).map(r => r.state), ['gone', 'gone'])
    await until('no machine left on the cloud', () => emu.live().length === 0, 15_000)
    await until('both peers left', async () => (await peers(op)).filter(p => p.name.startsWith('web-') && p.alive).length === 0, 15_000)

    // quota: a clear failure with the cloud's message, nothing left
    emu.faults.quota = 0
    const q = keep('grow (quota)', await monk(op, ['cluster', 'grow', '-p', c.kind, '-n', 'quota', '-i', c.instanceType, ...where(c)]))
    emu.faults.quota = null
    assert.is(q.code, 1, 'a failed grow exits 1')
    const [qn] = await nodes(op, ['quota-1'])
    assert.is(qn?.state, 'failed')
    assert.is(qn?.error?.code, 'quota', JSON.stringify(qn?.error))
    assert.match(qn?.error?.message ?? '', /limit|quota/i)
    assert.is(qn?.cleanup, 'done')
    assert.match(q.err, /quota-1: failed: .*(limit|quota).*\(no machine left\)/i)
    assert.is(emu.live().length, 0)

    // API 500s (retried) and a slow boot: still joins
    emu.faults.fail500 = 2
    emu.faults.bootDelayMs = 2_500
    t0 = Date.now()
    const slow = keep('grow (500s, slow boot)', await monk(op, ['cluster', 'grow', '-p', c.kind, '-n', 'slow', '-i', c.instanceType, ...where(c)]))
    emu.faults.bootDelayMs = 0
    ok(slow, 'grow with 500s and a slow boot')
    timings[`${c.kind}: grow 1 with 2 API 500s + 2.5 s slow boot → joined`] = Date.now() - t0
    assert.is(emu.faults.fail500, 0, 'both 500s were served')
    const [sn] = await nodes(op, ['slow-1'])
    assert.is(sn?.state, 'joined')
    assert.ok((history(sn!, 'joined') ?? 0) - (history(sn!, 'booting') ?? 0) >= 2_400, 'booting lasted the slow boot')
    ok(keep('peer-remove', await monk(op, ['cluster', 'peer-remove', 'slow-1'])), 'peer-remove')
    assert.is((await nodes(op, ['slow-1']))[0]?.state, 'gone')
    await until('slow-1 terminated', () => emu.live().length === 0, 15_000)

    // a machine that never joins: boot timeout, destroyed
    emu.faults.neverJoin = true
    const never = keep('grow (never joins)', await monk(op, ['cluster', 'grow', '-p', c.kind, '-n', 'never', '-i', c.instanceType, '--grow-timeout', '0.1', ...where(c)]))
    emu.faults.neverJoin = false
    assert.is(never.code, 1)
    const [nn] = await nodes(op, ['never-1'])
    assert.is(nn?.error?.code, 'boot-timeout')
    assert.is(nn?.cleanup, 'done')
    assert.ok(emu.all().some(m => m.name === 'never-1'), 'the machine was created')
    assert.is(emu.live().length, 0, 'and destroyed')

    // a bad region: clear failure, nothing created
    const before = emu.all().length
    const br = keep('grow (bad region)', await monk(op, ['cluster', 'grow', '-p', c.kind, '-n', 'nowhere', '-i', c.instanceType, '-r', c.badWhere.region, ...(c.badWhere.zone ? ['-z', c.badWhere.zone] : [])]))
    assert.is(br.code, 1)
    const [bn] = await nodes(op, ['nowhere-1'])
    assert.is(bn?.error?.code, 'bad-region', JSON.stringify(bn?.error))
    assert.is(emu.all().length, before, 'nothing was created')

    // describe and providers, then the credential grep over everything
    seen.push({ where: 'cluster nodes', text: keep('nodes', await monk(op, ['cluster', 'nodes'])).out })
    seen.push({ where: 'cluster nodes --output json', text: JSON.stringify(await nodes(op)) })
    const prov = keep('providers', ok(await monk(op, ['cluster', 'providers']), 'providers'))
    assert.match(prov.out, new RegExp(`${c.kind}\\s+sha256:[0-9a-f]{12}\\s+op\\b`))
    seen.push({ where: 'ps at the end', text: psArgs() })
    for (const f of readAll(base, /\.log$/)) seen.push({ where: f.file, text: f.text })
    for (const h of emu.host.homes()) for (const f of readAll(h, /\.log$/)) seen.push({ where: f.file, text: f.text })
    assert.ok(seen.some(s => s.where.endsWith('monkd.log') && s.text.includes('cloud: node web-1')), 'the logs were read')
    assertNoSecrets(c.secrets, seen)
  } finally {
    op.p.child.kill('SIGKILL')
    await emu.close()
  }
}
