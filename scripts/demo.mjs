#!/usr/bin/env node
// `npm run demo`: the main job. Walks through what monk does today on the example kit in examples/:
// load and check it, show a template with inheritance applied, and evaluate its Arrow scripts.
// (The 3-peer cluster with failover joins this demo when monkd lands; see README.)
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = resolve(import.meta.dirname, '..')
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href
const poly = pathToFileURL(join(root, 'polyfill.ts')).href
const kit = join(root, 'examples')

function step (title, args, { allowFail = false } = {}) {
  process.stdout.write(`\n\u25b6 ${title}\n  $ monk ${args.join(' ')}\n`)
  const r = spawnSync(process.execPath, ['--import', tsx, '--import', poly, join(root, 'cli/monk.ts'), ...args], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0 && !allowFail) { console.error(`demo: step failed (exit ${r.status}): monk ${args.join(' ')}`); process.exit(1) }
  return r.status
}

step('Check the example kit (every file, every inherits, every script)', ['lint', 'examples'])
step('The web app with inheritance applied', ['dump', 'guestbook/web', '--from', 'examples'])
if (existsSync(join(root, 'cli/commands/eval.ts'))) {
  step('Evaluate a script offline', ['eval', '"db.local" ":" 5432 to-s concat-all'])
  step('Evaluate a variable of the web app in its own scope (group variables as fallback)', ['eval', '$title', '--from', 'examples', '--in', 'guestbook/web'])
}
if (!existsSync(kit)) process.exit(1)
console.log('\ndemo: done')
