#!/usr/bin/env node
// Project lint: the dependency arrows of DESIGN §2 (grammar imports nothing of ours and no I/O,
// mesh never imports actors, actors never import cli), `.js` suffixes on relative imports,
// no `.only(` left in tests, and no `console.log` debugging left in grammar/ or mesh/.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const problems = []
function walk (dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...walk(p))
    else if (/\.ts$/.test(name) && !name.endsWith('.d.ts')) out.push(p)
  }
  return out
}
const layers = ['grammar', 'mesh', 'actors', 'cli', 'chaos', 'test', 'benchmarks']
const forbidden = {
  grammar: ['mesh', 'actors', 'cli', 'chaos'],
  mesh: ['actors', 'cli', 'grammar', 'chaos'],
  actors: ['cli', 'chaos'],
  cli: ['chaos'],
}
const pureForbiddenModules = /^(node:)?(fs|net|http|https|child_process|dgram|dns|tls|timers|fs\/promises|worker_threads)$/
for (const layer of layers) {
  let files = []
  try { files = walk(join(root, layer)) } catch { continue }
  for (const file of files) {
    const rel = relative(root, file)
    const src = readFileSync(file, 'utf8')
    const imports = [...src.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(m => m[1] ?? m[2])
    for (const spec of imports) {
      if (spec.startsWith('.')) {
        if (!/\.(js|json|mjs|cjs)$/.test(spec)) problems.push(`${rel}: relative import '${spec}' needs a .js suffix`)
        const target = relative(root, resolve(file, '..', spec)).split('/')[0]
        if ((forbidden[layer] ?? []).includes(target)) problems.push(`${rel}: ${layer}/ must not import ${target}/ ('${spec}')`)
      } else if (layer === 'grammar' && pureForbiddenModules.test(spec)) {
        problems.push(`${rel}: grammar/ is pure and must not import '${spec}'`)
      }
    }
    if ((layer === 'test') && /\b(test|suite|it)\.only\(/.test(src)) problems.push(`${rel}: .only( left in a test`)
    if ((layer === 'grammar' || layer === 'mesh') && /\bconsole\.log\(/.test(src) && !rel.includes('generated')) problems.push(`${rel}: console.log in a library module`)
  }
}
if (problems.length) {
  for (const p of problems) console.error(p)
  console.error(`lint: ${problems.length} problem(s)`)
  process.exit(1)
}
console.log('lint: ok')
