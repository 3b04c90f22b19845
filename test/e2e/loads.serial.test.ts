// Workloads as kits are written, against one real monkd (process runtime) driven by the built
// `monk`: loads that compose (a later load inherits from, groups and overrides an earlier one; a
// removed parent is reported and what runs keeps running), nested per-member variables files,
// and `stop --tag` / `stop --all`.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PsRow } from '../../cli/api/messages.js'
import { cleanup, e2eBase, ensureBuilt, peerIn, startPeer, until, type E2ePeer } from '../helpers/cli-e2e.js'

const base = e2eBase('loads')
const ns = `ld${process.pid}`
const dir = join(base, 'kit')
mkdirSync(dir)
const file = (name: string, text: string): string => { const f = join(dir, name); writeFileSync(f, text); return f }

const baseYaml = `namespace: ${ns}
base:
  variables:
    greeting: {type: string, value: hello, env: GREETING}
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: while true; do echo "$GREETING from base"; sleep 0.2; done
`
const appYaml = `namespace: ${ns}
app:
  defines: runnable
  inherits: ${ns}/base
  containers:
    main:
      bash: while true; do echo "$GREETING from app"; sleep 0.2; done
helper:
  defines: runnable
  inherits: ./base
`
const stackYaml = `namespace: ${ns}
stack:
  defines: group
  members: [app, helper]
`

let p: E2ePeer
const S = suite('composed loads and workloads against one monkd')
S.before(async () => {
  ensureBuilt()
  p = peerIn('solo', base)
  await startPeer(p, ['--tag', 'edge'])
})
S.after(async () => { if (p !== undefined) await cleanup([p], base) })

const ps = async (): Promise<PsRow[]> => await p.json<PsRow[]>('ps', '--all')
const logs = async (inst: string): Promise<string> => (await p.monk('logs', '--last', '5', inst)).out

S('two loads compose: the second inherits from the first, then a group of both loads', async () => {
  const b = await p.monk('load', file('base.yaml', baseYaml))
  assert.is(b.code, 0, b.err + b.out)
  const a = await p.monk('load', file('app.yaml', appYaml))
  assert.is(a.code, 0, a.err + a.out)
  assert.match(a.out, /^Loaded 2 runnables in 1 file with 0 errors and 0 warnings$/m)
  const info = await p.json<{ chain: string[], value: { containers: { main: Record<string, string> } } }>('info', `${ns}/app`)
  assert.equal(info.chain, [`${ns}/base`])
  assert.is(info.value.containers.main['image-tag'], '1', 'the image comes from the first load')
  const g = await p.monk('load', file('stack.yaml', stackYaml))
  assert.is(g.code, 0, g.err + g.out)
  assert.equal((await p.json<{ members: string[] }>('info', `${ns}/stack`)).members, [`${ns}/app`, `${ns}/helper`])
  // the group runs, with a nested per-member variables file
  const vf = file('vars.yaml', `greeting: hi\n${ns}:\n  app:\n    greeting: hey\n`)
  const r = await p.monk('run', '--variables-file', vf, `${ns}/stack`)
  assert.is(r.code, 0, r.err + r.out)
  await until('app logs "hey from app"', async () => /^hey from app$/m.test(await logs(`${ns}/app`)))
  await until('helper logs "hi from base"', async () => /^hi from base$/m.test(await logs(`${ns}/helper`)))
})

S('update --dry-run: what changed since the last run, which containers an update replaces; nothing changes', async () => {
  type Plan = { plan: Array<{ instance: string, action: string, replace: string[], keep: string[], changes: string[] }> }
  const same = await p.json<Plan>('update', '--dry-run', `${ns}/stack`)
  assert.equal(same.plan.map(x => `${x.instance} ${x.action}`), [`${ns}/app unchanged`, `${ns}/helper unchanged`])
  const r = await p.monk('load', file('app.yaml', appYaml + '  containers:\n    main:\n      bash: while true; do echo "$GREETING from helper"; sleep 0.2; done\n'))
  assert.is(r.code, 0, r.err + r.out)
  const changed = await p.json<Plan>('update', '--dry-run', '--set', 'extra=1', `${ns}/app`)
  // evaluated: no container uses `extra`, so the update replaces none (as written it looked like main changed)
  assert.equal(changed.plan.map(x => [x.instance, x.action, x.replace]), [[`${ns}/app`, 'update', []]])
  assert.equal(changed.plan[0]!.changes, ['+ --set extra: "1"'])
  const text = await p.monk('update', '--dry-run', `${ns}/stack`)
  assert.is(text.code, 0, text.err)
  assert.match(text.out, new RegExp(`^${ns}/app: unchanged$`, 'm'))
  assert.ok(text.out.includes(`${ns}/helper: update replaces main\n  ~ containers/main/bash: "while true; do echo \\"$GREETING from base\\"; sleep 0.2; done" → "while true; do echo \\"$GREETING from helper`), text.out)
  // nothing was applied: the helper still runs the old definition
  await new Promise(resolve => setTimeout(resolve, 500))
  assert.match(await logs(`${ns}/helper`), /^hi from base$/m)
  assert.equal((await p.json<Plan>('update', '--dry-run', `${ns}/app`)).plan[0]!.action, 'unchanged', 'the --set of a dry run was not kept')
})

S('a removed parent is reported; what runs keeps running; update refuses until the parent is back', async () => {
  const r = await p.monk('load', file('base.yaml', `namespace: ${ns}\nother:\n  defines: runnable\n  inherits: ./app\n`))
  assert.is(r.code, 0, r.err + r.out)
  assert.match(r.out, new RegExp(`app\\.yaml:2:1: warning template-broken: ${ns}/app inherits "${ns}/base", which is not defined`))
  const info = await p.json<{ problem?: string }>('info', `${ns}/app`)
  assert.match(info.problem ?? '', /base/)
  const row = (await ps()).find(x => x.instance === `${ns}/app`)
  assert.is(row?.status, 'running', 'the workload keeps running')
  const u = await p.monk('update', `${ns}/app`)
  assert.is(u.code, 1)
  assert.match(u.err, /template-broken|inherits/)
  // loading the parent again heals it
  const back = await p.monk('load', file('base2.yaml', baseYaml))
  assert.is(back.code, 0, back.err + back.out)
  assert.is((await p.json<{ problem?: string }>('info', `${ns}/app`)).problem, undefined)
  const u2 = await p.monk('update', `${ns}/app`)
  assert.is(u2.code, 0, u2.err + u2.out)
})

S('stop --tag stops what runs on a tagged peer; stop --all stops the rest', async () => {
  const none = await p.json<{ instances: string[] }>('stop', '--tag', 'nosuchtag')
  assert.equal(none.instances, [])
  assert.equal((await ps()).filter(x => x.status === 'running').map(x => x.instance).sort(), [`${ns}/app`, `${ns}/helper`])
  const t = await p.json<{ instances: string[] }>('stop', '--tag', 'edge', `${ns}/helper`)
  assert.equal(t.instances, [`${ns}/helper`])
  assert.equal((await ps()).map(x => `${x.instance} ${x.status}`).sort(), [`${ns}/app running`, `${ns}/helper stopped`])
  const all = await p.json<{ instances: string[] }>('stop', '--all')
  assert.equal(all.instances, [`${ns}/app`])
  assert.equal((await ps()).map(x => `${x.instance} ${x.status}`).sort(), [`${ns}/app stopped`, `${ns}/helper stopped`])
  const both = await p.monk('stop', '--all', `${ns}/app`)
  assert.is(both.code, 2)
  assert.match(both.err, /paths or --all/)
})

S('logs of a stopped workload stay readable until purge, also after a daemon restart', async () => {
  const before = await p.monk('logs', '--last', '3', `${ns}/app`)
  assert.is(before.code, 0, before.err)
  assert.match(before.out, /^hey from app$/m)
  const down = await p.monk('daemon', 'stop')
  assert.is(down.code, 0, down.err)
  await startPeer(p, ['--tag', 'edge'])
  const l = await until('logs of the stopped app after the restart', async () => { const x = await p.monk('logs', '--last', '3', `${ns}/app`); return x.code === 0 ? x : undefined }, 30_000, 500)
  assert.is(l.code, 0, l.err)
  assert.match(l.out, /^hey from app$/m)
  const n = l.out.split('\n').filter(Boolean).length
  assert.is(n, 3)
  assert.equal(await p.json('purge', `${ns}/stack`), { instances: [`${ns}/app`, `${ns}/helper`] })
  const gone = await p.monk('logs', `${ns}/app`)
  assert.is.not(gone.code, 0)
  assert.match(gone.err, /not running/)
})

S('a service without containers: a service node with variables and actions, used through a connection', async () => {
  const svc = `namespace: ${ns}
api:
  defines: service
  variables:
    port: {type: int, value: 8899}
    region: eu
  services:
    http:
      address: 127.0.0.2
      port: <- $port
  actions:
    where:
      code: '\`region \${region}\`'
client:
  defines: runnable
  depends:
    wait-for:
      runnables: [${ns}/api]
  connections:
    api: {target: ${ns}/api, service: http}
  variables:
    host: {type: string, value: '<- connection-hostname("api")', env: API_HOST}
    port: {type: int, value: '<- connection-port("api")', env: API_PORT}
  containers:
    main:
      image: monk-test/busybox
      image-tag: "1"
      bash: while true; do echo "to $API_HOST:$API_PORT"; sleep 0.2; done
docs:
  description: notes that only inheritors use
both:
  defines: group
  members: [api, client, docs]
`
  const l = await p.monk('load', file('svc.yaml', svc))
  assert.is(l.code, 0, l.err + l.out)
  assert.match(l.out, /1 service/)
  const r = await p.monk('run', `${ns}/both`)
  assert.is(r.code, 0, r.err + r.out)
  assert.match(r.err, new RegExp(`not started: ${ns}/docs \\(abstract\\): an abstract node \\(no defines\\) does not run`), 'the group walk says what it does not start')
  const rows = await ps()
  const api = rows.find(x => x.instance === `${ns}/api`)
  assert.is(api?.status, 'running', 'the group walk runs the service node')
  assert.equal(api?.containers, [])
  const d = await p.json<{ ports: Array<{ service: string, host: string, port: number }> }>('describe', `${ns}/api`)
  assert.equal(d.ports, [{ service: 'http', host: '127.0.0.2', port: 8899 }])
  await until('client logs the service it connects to', async () => /^to 127\.0\.0\.2:8899$/m.test(await logs(`${ns}/client`)))
  const act = await p.monk('do', `${ns}/api/where`)
  assert.is(act.code, 0, act.err)
  assert.match(act.out, /region eu/)
  assert.equal(await p.json('purge', `${ns}/both`), { instances: [`${ns}/api`, `${ns}/client`] })
})

S('MANIFEST: SECRET names a secret to add before running (warned until it exists); IMAGE is a warning saying what to do', async () => {
  const kit = join(base, 'seckit')
  mkdirSync(kit)
  writeFileSync(join(kit, 'MANIFEST'), `REPO seckit\nLOAD s.yaml\nSECRET ${ns}-token\nIMAGE my/app:1 ${ns}/s . Dockerfile\n`)
  writeFileSync(join(kit, 's.yaml'), `namespace: ${ns}\ns:\n  defines: runnable\n  containers:\n    main:\n      image: my/app:1\n`)
  const first = await p.monk('load', kit)
  assert.is(first.code, 0, first.err + first.out)
  assert.match(first.out, new RegExp(`MANIFEST:3:8: warning secret-missing: the kit needs secret "${ns}-token" before it runs; add it with monk secrets add -g ${ns}-token=VALUE`))
  assert.match(first.out, /MANIFEST:4:1: warning manifest-not-acted-on: IMAGE my\/app:1 is not built by monk: .*docker build -t my\/app:1 -f Dockerfile \./)
  const add = await p.monk('secrets', 'add', '-g', `${ns}-token=s3cret`)
  assert.is(add.code, 0, add.err)
  const again = await p.monk('load', kit)
  assert.is(again.code, 0, again.err)
  assert.not.match(again.out, /secret-missing/)
})

S('purge --excise removes a template: what inherits from it keeps its last definition, marked', async () => {
  // base.yaml now defines `other`, which inherits ./app (loaded earlier)
  assert.equal((await p.json<{ chain: string[] }>('info', `${ns}/other`)).chain, [`${ns}/app`, `${ns}/base`])
  const x = await p.monk('purge', '-x', `${ns}/app`)
  assert.is(x.code, 0, x.err)
  const gone = await p.monk('info', `${ns}/app`)
  assert.is.not(gone.code, 0)
  const other = await p.json<{ problem?: string, value: { containers?: unknown } }>('info', `${ns}/other`)
  assert.match(other.problem ?? '', new RegExp(`inherits "./app", which is not defined`))
  assert.ok(other.value.containers, 'the last good definition stays')
  const run = await p.monk('run', `${ns}/other`)
  assert.is(run.code, 1)
  assert.match(run.err, /load it again/)
})

S.run()
