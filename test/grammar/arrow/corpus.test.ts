// Conformance: every arrow value (`<-` scalar) and every code field (actions.*.code, checks.*.code,
// scale.value) of the real kits in ../shared/corpus passes checkScript without errors, except the real
// corpus defects listed below. Entity types (`defines: entity`) are skipped for code fields: their
// check code is JavaScript (spec §2.10).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseAllDocuments } from 'yaml'

import { checkScript } from '../../../grammar/arrow/index.js'

const corpus = resolve(import.meta.dirname, '../../../../shared/corpus')

/** Real defects of the corpus: `file#node/key-path` → why it is reported. */
const knownDefects: Record<string, { code: string; why: string }> = {
  'monk-entities/src/supabase/example.yaml#app/variables/SUPABASE_ANON_KEY/value': {
    code: 'bare-word', why: 'secret(my-supabase-project-anon-key): the secret name is not quoted (spec §3.2 note); read as a string, with a warning',
  },
  'monk-entities/src/supabase/example.yaml#app/variables/SUPABASE_SERVICE_KEY/value': {
    code: 'bare-word', why: 'secret(my-supabase-project-service-key): the secret name is not quoted; read as a string, with a warning',
  },
}

interface Found { where: string; kind: 'value' | 'code'; source: string }

function yamlFiles (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p))
    else if (/\.ya?ml$/i.test(name)) out.push(p)
  }
  return out
}

function scriptsOf (file: string): Found[] {
  const found: Found[] = []
  const rel = relative(corpus, file)
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'), { uniqueKeys: false })) {
    if (doc.errors.length > 0) continue
    const top = doc.toJS({ maxAliasCount: -1 }) as unknown
    if (top === null || typeof top !== 'object' || Array.isArray(top)) continue
    for (const [name, node] of Object.entries(top as Record<string, unknown>)) {
      if (node === null || typeof node !== 'object' || Array.isArray(node)) continue
      const isEntityType = (node as Record<string, unknown>).defines === 'entity'
      const walk = (v: unknown, path: string[]): void => {
        if (typeof v === 'string') {
          const [a, , c] = path
          const code = (path.length === 3 && c === 'code' && (a === 'actions' || a === 'checks')) || (path.length === 2 && a === 'scale' && path[1] === 'value')
          const where = `${rel}#${[name, ...path].join('/')}`
          if (code) { if (!isEntityType) found.push({ where, kind: 'code', source: v }) } else if (v.trimStart().startsWith('<-')) found.push({ where, kind: 'value', source: v })
        } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, String(i)]))
        else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k])
      }
      walk(node, [])
    }
  }
  return found
}

const Corpus = suite('arrow corpus conformance')

if (!existsSync(corpus)) {
  console.log(`arrow corpus conformance skipped: ${corpus} not found (the corpus is test data of the monk workspace)`)
  Corpus.skip('every arrow value and code field of the corpus passes checkScript', () => {})
} else {
  Corpus('every arrow value and code field of the corpus passes checkScript (known defects aside)', () => {
    const scripts = yamlFiles(corpus).flatMap(scriptsOf)
    const unexpected: string[] = []
    const seenDefects = new Set<string>()
    for (const s of scripts) {
      for (const d of checkScript(s.source, s.kind)) {
        const known = knownDefects[s.where]
        if (known !== undefined && known.code === d.code) { seenDefects.add(s.where); continue }
        if (d.severity === 'error' || d.code === 'bare-word') unexpected.push(`${s.where} [${s.kind}] ${d.severity} ${d.code}: ${d.message} in ${JSON.stringify(s.source.slice(0, 120))}`)
      }
    }
    assert.ok(scripts.length > 1500, `only ${scripts.length} scripts found: the walk is broken`)
    assert.ok(scripts.filter(s => s.kind === 'code').length >= 15, 'code fields are checked')
    assert.equal(unexpected, [], unexpected.join('\n'))
    // A listed defect that no longer shows up must be removed from the list.
    assert.equal([...seenDefects].sort(), Object.keys(knownDefects).sort())
  })
}

Corpus.run()
