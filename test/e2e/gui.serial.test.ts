// The web dashboard (monk gui) in headless Chromium against a 3-peer cluster of real monkd
// processes (process runtime, every peer with --api-port and a token): the page takes the token
// from its URL fragment, lists the peers and the run tree, follows a workload's logs, shows a
// failover (the owner's monkd SIGKILLed) without a reload, runs an action (listed as running
// with its arguments while it runs, also when started through another peer's CLI), and is usable at phone width. Screenshots go to
// $MONK_GUI_SCREENSHOTS (or a temp dir); docs/dashboard.png is one of them.
// test-deadline-s: 480
import { mkdirSync, mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PsRow } from '../../cli/api/messages.js'
import { chromiumOrSkip } from '../helpers/chromium.js'
import { ensureBuilt, monkBin } from '../helpers/cli-e2e.js'
import { spawnMonkd, until, type MonkdProcess } from '../helpers/monkd.js'
import { rmOnExit } from '../helpers/tmp.js'

const TOKEN = `gui-test-token-${process.pid}-0123456789`
const ns = `gui${process.pid}`
const kit = `namespace: ${ns}
ticker:
  defines: runnable
  containers:
    main:
      image: monk-test/busybox:1
      bash: i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.3; done
  actions:
    greet:
      description: greet someone
      arguments:
        name: {type: string, description: who to greet}
      code: '\`hello, \${args["name"]}\`'
    slow:
      description: takes a few seconds
      arguments:
        what: {type: string}
      code: exec("main", "sh", "-c", "sleep 6; echo slept")
pair:
  defines: group
  members: [ticker]
`

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
  })
}

const S = suite('monk gui: the dashboard in headless Chromium, 3 real monkd')
const chromium = chromiumOrSkip('the dashboard test')
const shots = process.env['MONK_GUI_SCREENSHOTS'] ?? rmOnExit(mkdtempSync(join(tmpdir(), 'monk-gui-shots-')))
mkdirSync(shots, { recursive: true })
const base = rmOnExit(mkdtempSync(join(tmpdir(), 'monk-gui-')))
const peers: Array<MonkdProcess & { port: number }> = []

S.after(async () => {
  for (const p of peers) {
    await p.client.request('peer', { type: 'workload.purge', path: `${ns}/pair` }).catch(() => {})
    await p.client.request('peer', { type: 'workload.purge', path: `${ns}/ticker` }).catch(() => {})
  }
  for (const p of peers) if (p.child.exitCode === null) p.child.kill('SIGKILL')
})

S('the page lists peers and workloads, follows logs, shows a failover live and runs an action', async () => {
  if (chromium === undefined) return
  ensureBuilt()
  const { chromium: pw } = await import('playwright-core')
  const start = async (name: string, join?: string): Promise<void> => {
    const port = await freePort()
    const p = await spawnMonkd(name, `${base}/${name}`, ['--runtime', 'process', '--api-port', String(port), '--tag', `zone-${name}`, ...(join ? ['--join', join] : [])], { MONK_API_TOKEN: TOKEN, MONK_HUB_DEFAULTS: '0' })
    peers.push({ ...p, port })
  }
  await start('a')
  const token = (await peers[0]!.client.request<{ token: string }>('peer', { type: 'cluster.token' })).token
  await start('b', token)
  await start('c', token)
  await until('3 live peers', async () => (await peers[0]!.client.request<Array<{ alive: boolean }>>('peer', { type: 'cluster.peers' })).filter(p => p.alive).length === 3, 30_000)
  const load = await peers[0]!.client.request<{ errors: unknown[] }>('peer', { type: 'templates.load', files: { '/k/k.yaml': kit }, paths: ['/k/k.yaml'] })
  assert.equal(load.errors, [])
  await peers[0]!.client.request('peer', { type: 'workload.run', path: `${ns}/pair` })
  const first = await until('the ticker runs', async () => {
    const r = (await peers[0]!.client.request<PsRow[]>('peer', { type: 'workload.ps' })).find(x => x.instance === `${ns}/ticker`)
    return r?.status === 'running' ? r : undefined
  }, 60_000)
  // the page is served by a peer that does not run the ticker, so the owner can be killed under it
  const ui = peers.find(p => p.name !== first.peerName)!
  const victim = peers.find(p => p.name === first.peerName)!

  const browser = await pw.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } })
    const requests: string[] = []
    page.on('request', r => requests.push(r.url()))
    const errors: string[] = []
    page.on('pageerror', e => errors.push(e.message))
    const consoleLines: string[] = []
    page.on('console', m => consoleLines.push(`${m.type()}: ${m.text()}`))
    try {
      // without the token the page asks for it; a wrong one is refused with a clear line
      await page.goto(`http://127.0.0.1:${ui.port}/ui/`)
      await page.getByTestId('token-input').fill('not-the-token-0123456789')
      await page.keyboard.press('Enter')
      await page.getByTestId('login-error').waitFor({ timeout: 20_000 })
      assert.match(await page.getByTestId('login-error').innerText(), /refused/)
      // the token in the fragment: taken into the tab, gone from the address bar
      await page.goto(`http://127.0.0.1:${ui.port}/ui/#token=${encodeURIComponent(TOKEN)}`)
      await page.locator('[data-testid=live].on').waitFor({ timeout: 30_000 })
      assert.not.match(page.url(), /token/, 'the token leaves the address bar')
      assert.ok(requests.every(u => !u.includes(TOKEN)), 'no request URL carries the token')

      // peers with health and tags
      await until('3 alive peers on the page', async () => await page.locator('[data-testid=peer][data-health=alive]').count() === 3, 30_000)
      const peerText = await page.getByTestId('peers').innerText()
      for (const n of ['a', 'b', 'c']) assert.match(peerText, new RegExp(`zone-${n}`))
      assert.match(peerText, /load: \d+ instance/)
      // the run tree: group → runnable → container, with state and peer
      const row = page.locator(`[data-testid=group][data-path="${ns}/pair"] [data-testid=instance][data-instance="${ns}/ticker"]`)
      await row.waitFor({ timeout: 30_000 })
      assert.is(await row.getAttribute('data-status'), 'running')
      assert.is(await row.getAttribute('data-peer'), victim.name)
      assert.ok(await row.locator('[data-testid=container]').count() >= 1, 'the container is listed under its runnable')

      // live logs of the selected workload
      await row.locator('button').first().click()
      await until('log lines stream in', async () => /tick \d+/.test(await page.getByTestId('log-lines').innerText()), 30_000)
      const seen = (await page.getByTestId('log-lines').innerText()).match(/tick (\d+)/g)!.length
      await until('more log lines arrive (followed, not one page)', async () => ((await page.getByTestId('log-lines').innerText()).match(/tick (\d+)/g) ?? []).length > seen + 2, 20_000)

      // run an action with an argument; a slow one is listed as running with its arguments
      await page.locator('[data-testid=action][data-action=greet] [data-testid=arg-name]').fill('dashboard')
      await page.getByTestId('run-greet').click()
      await until('the action answered', async () => /hello, dashboard/.test(await page.getByTestId('action-result').innerText()), 30_000)
      await page.locator('[data-testid=action][data-action=slow] [data-testid=arg-what]').fill('nap')
      await page.getByTestId('run-slow').click()
      await page.locator('[data-testid=running-action]', { hasText: 'what=nap' }).waitFor({ timeout: 20_000 })
      await until('the slow action finished', async () => /slept/.test(await page.getByTestId('action-result').innerText()), 30_000)
      assert.is(await page.locator('[data-testid=running-action]').count(), 0, 'a finished action leaves the running list')
      // an action started through another peer's CLI is listed too, with the peer it came through
      const other = peers.find(p => p !== ui)!
      const elsewhere = monkBin(['--home', other.home, 'do', `${ns}/ticker/slow`, 'what=elsewhere'])
      await page.locator('[data-testid=running-action]', { hasText: 'what=elsewhere' }).waitFor({ timeout: 20_000 })
      assert.match(await page.locator('[data-testid=running-action]', { hasText: 'what=elsewhere' }).innerText(), new RegExp(`via ${other.name}`))
      const done = await elsewhere
      assert.is(done.code, 0, done.err)
      await until('the other peer\'s action leaves the running list', async () => await page.locator('[data-testid=running-action]').count() === 0, 20_000)
      await page.screenshot({ path: join(shots, 'dashboard-before-failover.png'), fullPage: true })

      // failover: SIGKILL the owner's monkd; the page shows it without a reload
      const navigations: string[] = []
      page.on('framenavigated', f => { if (f === page.mainFrame()) navigations.push(f.url()) })
      victim.child.kill('SIGKILL')
      await page.locator(`[data-testid=peer][data-peer="${victim.name}"][data-health=dead]`).waitFor({ timeout: 60_000 })
      await page.locator('[data-testid=event][data-kind=peer-down]').waitFor({ timeout: 30_000 })
      await until('the ticker runs on another peer, on the page', async () => {
        const r = page.locator(`[data-testid=instance][data-instance="${ns}/ticker"]`)
        return await r.getAttribute('data-status') === 'running' && await r.getAttribute('data-peer') !== victim.name
      }, 60_000)
      await page.locator('[data-testid=event][data-kind=failover]').waitFor({ timeout: 30_000 })
      assert.match(await page.getByTestId('events').innerText(), new RegExp(`failover: ${ns}/ticker moved from ${victim.name} \\(down\\) to`))
      assert.equal(navigations, [], 'no reload')
      // the logs follow the instance to its new owner
      const before = await page.getByTestId('log-lines').innerText()
      await until('logs stream from the new owner', async () => {
        const now = await page.getByTestId('log-lines').innerText()
        return now !== before && /on (a|b|c)/.test(await page.getByTestId('logs').innerText()) && !(await page.getByTestId('logs').innerText()).includes(`on ${victim.name}\n`)
      }, 30_000)
      await page.screenshot({ path: join(shots, 'dashboard.png'), fullPage: false })

      // templates with search
      await page.getByTestId('template-search').fill('ticker')
      await until('the search finds the ticker', async () => await page.locator(`[data-testid=template][data-path="${ns}/ticker"]`).count() === 1 && await page.locator('[data-testid=template]').count() < 3, 20_000)

      // a phone: one column, nothing wider than the screen
      await page.setViewportSize({ width: 390, height: 844 })
      const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth') as number
      assert.ok(overflow <= 0, `the page fits a 390 px screen (overflows by ${overflow} px)`)
      await page.screenshot({ path: join(shots, 'dashboard-phone.png'), fullPage: false })
      assert.equal(errors, [], 'no script errors on the page')
      console.log(`  screenshots in ${shots}`)
    } catch (e) {
      await page.screenshot({ path: join(shots, 'failure.png'), fullPage: true }).catch(() => {})
      console.log(`  page at failure (screenshot ${join(shots, 'failure.png')}):\n${await page.locator('body').innerText().catch(() => '?')}\n  console:\n${consoleLines.join('\n')}\n  errors: ${errors.join('\n')}`)
      throw e
    }
  } finally {
    await browser.close()
  }
})

S.run()
