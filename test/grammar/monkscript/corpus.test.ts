// Conformance: the whole corpus loads; the only errors are the known real defects listed here.
import { existsSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { loadPaths } from '../../../grammar/monkscript/index.js'
import { fsSource } from '../../../cli/fs-source.js'

const corpus = resolve(import.meta.dirname, '../../../../shared/corpus')
const Corpus = suite('corpus conformance')

/**
 * Real defects of the corpus, by code and file (relative to the corpus), with why they are defects.
 * Anything else that errors fails this test.
 */
const known: Array<{ code: string, file: RegExp, why: string }> = [
  { code: 'embed-missing', file: /^monk-entities\/.*\.ya?ml$/, why: 'entity lifecycle JavaScript files embedded with <<< are not part of the corpus copy' },
  { code: 'embed-missing', file: /^monk-fluentbit\/fluentbit\.yml$/, why: 'embeds absolute paths under /etc/fluent-bit that exist only on the author\'s machine' },
  { code: 'embed-missing', file: /^monk-vaultwarden\/vault\.yml$/, why: 'embeds files/domain.key, a private key never committed' },
  { code: 'embed-missing', file: /^_history\//, why: 'embedded files were deleted together with the kit' },
  { code: 'inherits-dangling', file: /^(n8n|monk-langfuse|monk-rudderstack|monk-entities\/examples)\//, why: 'inherits postgresql/db or postgresql/base from the monk-postgres kit, which is not in the corpus' },
  { code: 'inherits-dangling', file: /^_history\//, why: 'targets deleted or renamed kits (/postgres/12, /redis/alpine, ./directus-base, matic2/testnet, nginx)' },
  { code: 'member-dangling', file: /^_history\//, why: 'members were defined in files deleted from the repository' },
  { code: 'manifest-yaml', file: /^monk-entities\/(src|dist)\/.*\/MANIFEST$/, why: 'six entity packages pasted YAML into MANIFEST' },
  { code: 'manifest-missing-file', file: /^monk-entities\/src\/(aws-cognito|redis-cloud)\/MANIFEST$/, why: 'LOAD lists files the package does not contain' },
  { code: 'inherits-dangling', file: /^rag-copilot\//, why: 'monk-ollama/ollama: the ollama kit\'s namespace is ollama, not its repository name' },
]

if (!existsSync(corpus)) {
  Corpus('corpus absent', () => { console.log(`  skipped: ${corpus} not found`) })
} else {
  Corpus('every YAML file with a namespace loads; errors are only the known defects', () => {
    const r = loadPaths([corpus], { source: fsSource(), everything: true })
    assert.ok(r.files.length >= 550, `files loaded: ${r.files.length}`)
    const counts = r.counts()
    assert.ok(counts.runnable >= 300 && counts['entity-instance'] >= 600 && counts.entity >= 150 && counts.group >= 80 && counts['process-group'] >= 60 && counts.module >= 60, JSON.stringify(counts))
    const unexpected = r.errors.filter(d => {
      const f = relative(corpus, d.file)
      return !known.some(k => k.code === d.code && k.file.test(f))
    })
    assert.equal(unexpected.map(d => `${relative(corpus, d.file)}:${d.line}:${d.column} ${d.code} ${d.message}`), [])
    for (const n of r.nodes.values()) assert.ok(r.resolve(n.path), n.path)
  })
}

Corpus.run()
