// Regression tests for the chaos issue's bug 2 (directory half) and bug 7 on a real peer (process
// runtime, real mesh): an instance named `..` must not map outside the instance root (purge used to
// delete $MONK_HOME), `a/b_c` and `a_b/c` must not share a directory, and a `files:` path must not
// escape the instance directory. Only the replica and the runtime are used, so the same file runs
// against older code.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { compileTemplates } from '../../../actors/templates.js'
import { startTestPeer, until, type TestPeer } from '../../helpers/monkd.js'

const kit = `namespace: t
plain:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox:1
      bash: exec sleep 3600
conf:
  defines: runnable
  variables:
    who: {type: string, value: nobody}
  containers:
    main:
      image: monk-test/busybox:1
      bash: exec sleep 3600
  files:
    conf:
      container: main
      path: /etc/who.conf
      contents: <- $who
escape:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox:1
      bash: exec sleep 3600
  files:
    esc:
      container: main
      path: /../../../escape.txt
      contents: outside
`

const S = suite('runnable: instance directories stay inside the instance root')
let p: TestPeer

S.before(async () => { try { await setup() } catch (err) { console.error("setup failed:", err); throw err } })
async function setup (): Promise<void> {
  p = await startTestPeer('dirs')
  const c = compileTemplates({ '/kit/t.yaml': kit }, ['/kit/t.yaml'], Date.now())
  assert.equal(c.errors, [])
  for (const r of c.records) await p.mesh.put(`tpl/${r.path}`, JSON.parse(JSON.stringify(r)))
}
S.after(async () => { await p?.stop() })

const want = (template: string, set: Record<string, string> = {}): ReturnType<typeof JSON.parse> =>
  JSON.parse(JSON.stringify({ template, state: 'run', root: template, set, tags: [], peer: null, forceMove: 0, generation: 1, updatedAt: Date.now() }))

const stateOf = (instance: string): { state?: string, error?: string | null } | undefined => {
  const v = p.mesh.get(`status/${instance}/${p.mesh.peerId}`)
  return v !== undefined && v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) ? v as { state?: string, error?: string | null } : undefined
}

async function containerOf (instance: string): Promise<string> {
  const list = await until(`a container of ${instance}`, async () => { const l = await p.runtime.list({ 'monk.instance': instance }); return l.length ? l : undefined }, 30_000)
  return (list[0] as { id: string }).id
}

S('an instance named .. runs and purges without touching anything outside the instance root', async () => {
  const sentinel = join(p.home, 'sentinel')
  writeFileSync(sentinel, 'still here')
  const accepted = await p.mesh.put('want/..', want('t/plain')).then(() => true, () => false)
  if (accepted) {
    await until('.. is running', () => stateOf('..')?.state === 'running', 30_000)
    await p.mesh.delete('want/..')
    await until('.. purged (its containers removed)', async () => (await p.runtime.list({ 'monk.instance': '..' })).length === 0, 30_000)
    await until('.. released its claim', () => p.mesh.get(`claim/../${p.mesh.peerId}`) === undefined, 30_000)
  }
  assert.ok(existsSync(sentinel), 'MONK_HOME survives the purge of an instance named ..')
  assert.ok(existsSync(join(p.home, 'runtime')), 'the runtime state survives')
})

S('a/b_c and a_b/c keep their files apart', async () => {
  await p.mesh.put('want/a/b_c', want('t/conf', { who: 'one' }))
  await p.mesh.put('want/a_b/c', want('t/conf', { who: 'two' }))
  await until('both running', () => stateOf('a/b_c')?.state === 'running' && stateOf('a_b/c')?.state === 'running', 30_000)
  const read = async (instance: string): Promise<string> => (await p.runtime.exec(await containerOf(instance), ['sh', '-c', 'cat "$MONK_ROOTFS/etc/who.conf"'])).stdout
  assert.is(await read('a/b_c'), 'one')
  assert.is(await read('a_b/c'), 'two')
  await p.mesh.delete('want/a/b_c')
  await p.mesh.delete('want/a_b/c')
})

S('a files: path with ../ fails the start naming the entry and writes nothing outside', async () => {
  await p.mesh.put('want/t/escape', want('t/escape'))
  const st = await until('t/escape settled', () => { const s = stateOf('t/escape'); return s?.state === 'failed' || s?.state === 'running' ? s : undefined }, 30_000)
  const outside: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name)
      if (statSync(full).isDirectory()) walk(full)
      else if (name === 'escape.txt') outside.push(relative(p.home, full))
    }
  }
  walk(p.home)
  assert.equal(outside.filter(f => !f.split(sep).includes('files')), [], 'no escape.txt outside an instance files directory')
  assert.is(st.state, 'failed')
  assert.match(st.error ?? '', /files\.esc\.path/)
})

S.run()
