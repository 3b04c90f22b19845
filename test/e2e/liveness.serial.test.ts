// checks.liveness with a real monkd, process runtime and Docker (required in CI): the workload
// writes a heartbeat into a volume; told to wedge, it stays up but stops beating. The liveness
// check sees the stale heartbeat `attempts` times in a row and monk replaces the containers; the
// restart is an event in describe, and the new process beats again.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe } from '../../cli/api/messages.js'
import { DockerRuntime } from '../../actors/runtime/docker.js'
import { LABEL_INSTANCE } from '../../actors/runtime/runtime.js'
import { instanceDirName } from '../../actors/runnable/dirs.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'
import { whenDocker, TEST_IMAGE } from '../helpers/runtime-docker.js'

const kit = (ns: string): string => `namespace: ${ns}
beater:
  defines: runnable
  volumes:
    state: {}
  checks:
    liveness:
      code: exec("main", "sh", "-c", "test $(( $(date +%s) - $(cat $MONK_ROOTFS/state/beat) )) -lt 3 && echo alive") "alive" contains?
      period: 1
      attempts: 2
  containers:
    main:
      image: ${TEST_IMAGE}
      mounted-volumes:
        state: {path: /state}
      bash: >-
        S="$MONK_ROOTFS/state"; rm -f "$S/wedge"; echo start >> "$S/starts";
        while true; do if [ -e "$S/wedge" ]; then exec sleep 3600; fi; date +%s > "$S/beat"; sleep 0.2; done
`

async function scenario (runtime: 'process' | 'docker'): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), `monk-liveness-${runtime}-`))
  const ns = `live-${runtime}-${process.pid}`
  const instance = `${ns}/beater`
  const home = join(base, 'a')
  const state = join(home, 'volumes', instanceDirName(instance), 'state')
  const starts = (): number => { try { return readFileSync(join(state, 'starts'), 'utf8').split('\n').filter(Boolean).length } catch { return 0 } }
  const beatAge = (): number => { try { return Date.now() / 1000 - Number(readFileSync(join(state, 'beat'), 'utf8')) } catch { return Infinity } }
  let p: MonkdProcess | undefined
  const describe = async (): Promise<Describe> => await p!.client.request<Describe>(`runnable/${instance}`, { type: 'runnable.describe' })
  try {
    p = await spawnMonkd('a', home, ['--runtime', runtime])
    const load = await p.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files: { '/k/k.yaml': kit(ns) }, paths: ['/k/k.yaml'] })
    assert.equal(load.errors, [])
    await p.client.request('peer', { type: 'workload.run', path: instance })
    await until('running and beating', async () => (await describe()).status === 'running' && beatAge() < 2, 60_000)
    // a few liveness periods pass while it beats: no restart
    await new Promise(resolve => setTimeout(resolve, 3000))
    assert.is(starts(), 1, 'a live workload is left alone')
    assert.is((await describe()).events, undefined)

    writeFileSync(join(state, 'wedge'), '')
    const wedgedAt = Date.now()
    await until('the wedged workload was restarted', () => starts() >= 2, 30_000, 100)
    const took = Date.now() - wedgedAt
    await until('running and beating again', async () => (await describe()).status === 'running' && beatAge() < 2, 30_000)
    const d = await describe()
    assert.ok(d.events?.some(e => /liveness check failed 2 times in a row.*containers restarted/.test(e.message)), JSON.stringify(d.events))
    assert.is(starts(), 2, 'one restart')
    assert.ok(!existsSync(join(state, 'wedge')), 'the new process started afresh')
    console.log(`  ${runtime}: wedged → restarted in ${took} ms (period 1 s, attempts 2, heartbeat stale after 3 s)`)
    await p.client.request('peer', { type: 'workload.purge', path: instance })
    await until('purged', () => !existsSync(state), 30_000)
  } finally {
    p?.child.kill('SIGKILL')
    if (runtime === 'docker') {
      const rt = await DockerRuntime.open({}).catch(() => undefined)
      for (const c of await rt?.list({ [LABEL_INSTANCE]: instance }) ?? []) await rt?.remove(c.id, { force: true }).catch(() => {})
      await rt?.close()
    } else {
      const dir = join(home, 'runtime', 'process', 'containers')
      for (const n of existsSync(dir) ? readdirSync(dir) : []) {
        try {
          const pid = (JSON.parse(readFileSync(join(dir, n, 'state.json'), 'utf8')) as { pid?: number | null }).pid
          if (typeof pid === 'number') process.kill(-pid, 'SIGKILL')
        } catch { /* gone */ }
      }
    }
    rmSync(base, { recursive: true, force: true })
  }
}

const L = suite('liveness with a real monkd')
L('process runtime: a wedged process is restarted after attempts failed checks', async () => { await scenario('process') })
await whenDocker(L, 'docker runtime: a wedged container is restarted after attempts failed checks', async () => { await scenario('docker') }, 'liveness scenario')
L.run()
