#!/usr/bin/env node
// `npm run bench -- NAME [options]` runs benchmarks/NAME.ts under tsx with the polyfill loaded first.
// The monkd it starts add no default hub sources (MONK_HUB_DEFAULTS=0): benchmarks stay on loopback.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const [name, ...rest] = process.argv.slice(2)
if (!name) { console.error('usage: npm run bench -- NAME [options]   (NAME = a file in benchmarks/ without .ts)'); process.exit(2) }
const file = join(root, 'benchmarks', `${name}.ts`)
if (!existsSync(file)) { console.error(`no benchmark named ${name}: ${file} does not exist`); process.exit(2) }
const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', join(root, 'polyfill.ts'), file, ...rest], { stdio: 'inherit', cwd: root, env: { ...process.env, MONK_HUB_DEFAULTS: process.env.MONK_HUB_DEFAULTS ?? '0' } })
process.exit(r.status ?? 1)
