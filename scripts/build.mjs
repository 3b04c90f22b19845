#!/usr/bin/env node
// `npm run build`: compile TypeScript to dist/ and copy the committed generated parsers beside it.
import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
function walk (dir) {
  return readdirSync(dir).flatMap(n => { const p = join(dir, n); return statSync(p).isDirectory() ? walk(p) : [p] })
}
for (const f of walk(join(root, 'grammar')).filter(f => /\.generated\.(js|d\.ts)$/.test(f))) {
  const out = join(root, 'dist', relative(root, f))
  mkdirSync(dirname(out), { recursive: true })
  copyFileSync(f, out)
}
// the mesh peer that benchmarks/mesh.ts runs as processes: built beside the mesh it imports
// (dist/test/helpers/mesh-peer.js → dist/mesh/), so the benchmark measures compiled code, not tsx
{
  const ts = (await import('typescript')).default
  const src = join(root, 'test/helpers/mesh-peer.ts')
  const out = join(root, 'dist/test/helpers/mesh-peer.js')
  const { outputText, diagnostics } = ts.transpileModule(readFileSync(src, 'utf8'), { fileName: src, reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
  if (diagnostics?.length) throw new Error(`build: ${src}: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, '\n')}`)
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, outputText)
}
// the monkd bin (npm bin, cloud machines' systemd unit) starts node with monkd's flags (cli/node-flags.ts)
{
  const { MONKD_NODE_FLAGS } = await import(join(root, 'dist/cli/node-flags.js'))
  const bin = join(root, 'dist/cli/monkd.js')
  const text = readFileSync(bin, 'utf8')
  writeFileSync(bin, text.replace(/^#!.*\n/, `#!/usr/bin/env -S node ${MONKD_NODE_FLAGS.join(' ')}\n`))
}
// the web UI (monk gui): its sources and the UI library as npm ships it built, so monkd serves
// every file from dist/ui with no CDN (cli/api/gui-assets.ts)
{
  const { vendorFiles } = await import(join(root, 'dist/cli/api/gui-assets.js'))
  const out = join(root, 'dist/ui')
  mkdirSync(join(out, 'vendor'), { recursive: true })
  for (const f of readdirSync(join(root, 'ui'))) copyFileSync(join(root, 'ui', f), join(out, f))
  for (const [name, text] of Object.entries(vendorFiles())) writeFileSync(join(out, 'vendor', name), text)
}
for (const bin of ['dist/cli/monk.js', 'dist/cli/monkd.js']) if (existsSync(join(root, bin))) chmodSync(join(root, bin), 0o755)
console.log('build: dist/ ready')
