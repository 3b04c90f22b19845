// The provider compliance suite (STYLE §3): every Provider runs these cases against its emulator
// (local against this host). Emulated machines do not boot monkd here (faults.neverJoin): this
// suite is about the API contract; booting is covered end to end in test/e2e/cloud*.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { bootstrap, readBootstrap } from '../../../actors/cloud/bootstrap.js'
import { ProviderError } from '../../../actors/cloud/errors.js'
import type { Location, MachineSpec, Provider } from '../../../actors/cloud/provider.js'
import type { Emulator } from '../../emulators/http.js'

export interface Fixture {
  provider: Provider
  /** A provider with wrong credentials (undefined when the kind has none). */
  badProvider?: Provider
  /** The emulator (undefined for local). */
  emu?: Emulator
  where: Location
  /** A location the provider does not serve. */
  badWhere?: Location
  instanceType: string
  /** Whether the cluster's firewall / security group opens `port`. */
  firewallOpens?: (port: number) => boolean
  /** The user data the cloud received for machine `id`. */
  userData?: (id: string) => string | undefined
  /** Secrets the fixture's credentials contain (never in an error message). */
  secrets: string[]
  close: () => Promise<void>
}

const until = async (what: string, fn: () => Promise<boolean>, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

let seq = 0
export function specOf (f: Fixture, name: string, cluster = 'c0ffee0000000001', where = f.where): MachineSpec {
  const tags = ['test', where.region]
  return {
    name, cluster, region: where.region, zone: where.zone, instanceType: f.instanceType, diskGb: 20, image: null, keyPair: null, p2pPort: 44001,
    boot: bootstrap({ name, tags, join: 'dGVzdA' }), idempotencyToken: `tok-${process.pid}-${++seq}`,
  }
}

async function expectError (p: Promise<unknown>, code: string, secrets: string[]): Promise<ProviderError> {
  try {
    await p
  } catch (err) {
    assert.instance(err, ProviderError, `a ProviderError, got ${String(err)}`)
    const e = err as ProviderError
    assert.is(e.code, code, `code ${code}, got ${e.code}: ${e.message}`)
    for (const s of secrets) assert.not.ok(e.message.includes(s) || JSON.stringify(e).includes(s), 'no credential in the error')
    assert.is(e.cause, undefined, 'the SDK error is not kept (it holds request headers)')
    return e
  }
  assert.unreachable(`expected a ${code} error`)
  throw new Error('unreachable')
}

/** Defines and runs the compliance suite for one provider. */
export function compliance (name: string, open: () => Promise<Fixture>): void {
  const test = suite<{ f: Fixture }>(`provider compliance: ${name}`)
  test.before(async ctx => { ctx.f = await open() })
  test.after(async ctx => { await ctx.f.close() })

  test('create: the machine is listed under its cluster with its node name, and described', async ({ f }) => {
    const spec = specOf(f, 'cmp-a')
    const m = await f.provider.create(spec)
    assert.is(m.name, 'cmp-a')
    assert.ok(m.id !== '')
    assert.ok(m.state === 'pending' || m.state === 'running', `state ${m.state}`)
    await until('it runs', async () => (await f.provider.describe(m))?.state === 'running')
    const listed = await f.provider.list(spec.cluster, f.where)
    assert.ok(listed.some(x => x.id === m.id && x.name === 'cmp-a' && x.state === 'running'), JSON.stringify(listed))
    assert.equal(await f.provider.list('0000000000000bad', f.where), [], 'another cluster sees nothing')
    if (f.userData) {
      const b = readBootstrap(f.userData(m.id) ?? '')
      assert.is(b.name, 'cmp-a', 'the cloud received our bootstrap')
      assert.ok(b.tags.includes('test'))
    }
    if (f.firewallOpens) assert.ok(f.firewallOpens(44001), 'the p2p port is opened for the cluster')
  })

  test('destroy: the machine ends terminated or gone; destroying again is not an error', async ({ f }) => {
    const spec = specOf(f, 'cmp-b')
    const m = await f.provider.create(spec)
    await f.provider.destroy(m)
    await until('it is terminated', async () => {
      const d = await f.provider.describe(m)
      return d === null || d.state === 'terminated'
    })
    await f.provider.destroy(m)
    const left = (await f.provider.list(spec.cluster, f.where)).filter(x => x.id === m.id && x.state !== 'terminated')
    assert.equal(left, [])
  })

  test('describe of an unknown machine is null', async ({ f }) => {
    assert.is(await f.provider.describe({ id: f.provider.kind === 'aws' ? 'i-0123456789abcdef0' : f.provider.kind === 'digitalocean' ? '999999999' : 'no-such-machine', region: f.where.region, zone: f.where.zone }), null)
  })

  test('bad credentials: bad-credentials, no credential in the message', async ({ f }) => {
    if (!f.badProvider) return
    await expectError(f.badProvider.list('c0ffee0000000001', f.where), 'bad-credentials', f.secrets)
    await expectError(f.badProvider.create(specOf(f, 'cmp-c')), 'bad-credentials', f.secrets)
  })

  test('quota: the cloud\'s quota error, as code quota with its message', async ({ f }) => {
    if (!f.emu) return
    f.emu.faults.quota = f.emu.live().length
    try {
      const e = await expectError(f.provider.create(specOf(f, 'cmp-d')), 'quota', f.secrets)
      assert.match(e.message, /limit|quota/i)
      assert.is(e.retryable, false)
    } finally { f.emu.faults.quota = null }
    assert.not.ok(f.emu.live().some(m => m.name === 'cmp-d'), 'no machine was made')
  })

  test('bad region or zone: bad-region', async ({ f }) => {
    if (!f.badWhere) return
    await expectError(f.provider.create(specOf(f, 'cmp-e', 'c0ffee0000000001', f.badWhere)), 'bad-region', f.secrets)
  })

  test('API 500: unavailable and retryable; the next call works', async ({ f }) => {
    if (!f.emu) return
    f.emu.faults.fail500 = 1
    const e = await expectError(f.provider.list('c0ffee0000000001', f.where), 'unavailable', f.secrets)
    assert.is(e.retryable, true)
    await f.provider.list('c0ffee0000000001', f.where)
  })

  test('machines are cleaned up: destroy everything of the cluster', async ({ f }) => {
    for (const m of await f.provider.list('c0ffee0000000001', f.where)) await f.provider.destroy(m)
    await until('nothing left', async () => (await f.provider.list('c0ffee0000000001', f.where)).every(m => m.state === 'terminated' || m.state === 'stopping'))
    if (f.emu) await until('the emulator agrees', async () => f.emu!.live().length === 0)
  })

  test.run()
}
