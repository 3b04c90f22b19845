// Fuzz: 10,000 random mutations of corpus files through the loader. Nothing may throw; every
// diagnostic carries a file and a 1-based position inside the mutated text.
import { existsSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { loadPaths, memorySource } from '../../../grammar/monkscript/index.js'
import { prng } from '../../helpers/monkscript.js'

const corpus = resolve(import.meta.dirname, '../../../../shared/corpus')
const Fuzz = suite('loader fuzz')
const iterations = Number(process.env.MONK_FUZZ_ITERATIONS ?? 10_000)

function mutate (text: string, rnd: () => number): string {
  const lines = text.split('\n')
  const pick = () => Math.floor(rnd() * Math.max(1, lines.length))
  switch (Math.floor(rnd() * 7)) {
    case 0: lines.splice(pick(), 1 + Math.floor(rnd() * 3)); break // delete lines
    case 1: { const a = pick(); const b = pick(); const t = lines[a] ?? ''; lines[a] = lines[b] ?? ''; lines[b] = t; break } // swap
    case 2: { const i = pick(); lines[i] = ' '.repeat(1 + Math.floor(rnd() * 5)) + (lines[i] ?? ''); break } // break indentation
    case 3: { const i = pick(); lines[i] = (lines[i] ?? '').trimStart(); break } // dedent
    case 4: return text.slice(0, Math.floor(rnd() * text.length)) // truncate
    case 5: { // random bytes
      const chars = [...text]
      for (let k = 0; k < 1 + Math.floor(rnd() * 8); k++) chars[Math.floor(rnd() * chars.length)] = String.fromCharCode(Math.floor(rnd() * 0x3000))
      return chars.join('')
    }
    default: { const i = pick(); lines.splice(i, 0, ['inherits: ./x', '  inherits: ./a', '- ]', 'defines: runnable', '<<< nope', '  key: <- $x(', '"', '{', ': :', 'namespace:'][Math.floor(rnd() * 10)] ?? ''); break }
  }
  return lines.join('\n')
}

if (!existsSync(corpus)) {
  Fuzz('corpus absent', () => { console.log(`  skipped: ${corpus} not found (the fuzz test mutates corpus files)`) })
} else {
  Fuzz(`${iterations} random mutations never crash and every diagnostic has a location`, () => {
    const files = execFileSync('find', [corpus, '-name', '*.y*ml', '-size', '-40k']).toString().trim().split('\n').sort()
    const texts = files.map(f => readFileSync(f, 'utf8'))
    const rnd = prng(20261121)
    let diagnostics = 0
    for (let i = 0; i < iterations; i++) {
      const k = Math.floor(rnd() * texts.length)
      const text = mutate(texts[k] ?? '', rnd)
      // A second file the mutated one can inherit from, so cross-file paths are exercised.
      const other = texts[(k + 1) % texts.length] ?? ''
      const src = memorySource({ '/f/a.yaml': text, '/f/b.yaml': other })
      let r
      try {
        r = loadPaths(['/f/a.yaml', '/f/b.yaml'], { source: src })
        for (const n of r.nodes.values()) r.resolve(n.path)
      } catch (err) {
        assert.unreachable(`iteration ${i} (${files[k]}): loader threw ${(err as Error).stack}`)
        return
      }
      const lineCount = text.split('\n').length + 1
      for (const d of r.diagnostics) {
        diagnostics++
        if (d.file !== '/f/a.yaml' && d.file !== '/f/b.yaml') assert.unreachable(`diagnostic without our file: ${JSON.stringify(d)}`)
        const max = d.file === '/f/a.yaml' ? lineCount : other.split('\n').length + 1
        if (!(d.line >= 1 && d.line <= max && d.column >= 1)) assert.unreachable(`bad location in iteration ${i}: ${JSON.stringify(d)}`)
        if (!d.code || !d.message) assert.unreachable(`diagnostic without code or message: ${JSON.stringify(d)}`)
      }
    }
    assert.ok(diagnostics > iterations / 2, `mutations should produce diagnostics (got ${diagnostics})`)
  })
}

Fuzz.run()
