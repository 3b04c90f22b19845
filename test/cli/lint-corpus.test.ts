// `monk lint` over the whole public corpus (../shared/corpus): every field monk loads but will not
// act on is a warning `file:line:col: warning not-acted-on: ...` that points at the field as written.
// Skipped only when the corpus is absent.
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { monk } from '../helpers/cli.js'

// the real path: the linter runs with the corpus as its working directory, whose path the OS gives
// with symlinks resolved, and prints files relative to it
const corpusLink = resolve(import.meta.dirname, '../../../shared/corpus')
const corpus = existsSync(corpusLink) ? realpathSync(corpusLink) : corpusLink
const L = suite('monk lint over the corpus: fields monk does not act on')

interface Warning { code: string, message: string, file: string, line: number, column: number }

if (!existsSync(corpus)) {
  L('corpus absent', () => { console.log(`  skipped: ${corpus} not found`) })
} else {
  let warnings: Warning[] = []
  L.before(() => {
    const r = monk(['--output', 'json', 'lint', corpus], { cwd: corpus })
    warnings = (JSON.parse(r.out) as { warnings: Warning[] }).warnings.filter(w => w.code === 'not-acted-on')
  })

  const texts = new Map<string, string[]>()
  const linesOf = (file: string): string[] => {
    const t = texts.get(file) ?? readFileSync(join(corpus, file), 'utf8').split('\n')
    texts.set(file, t)
    return t
  }
  /**
   * The line of the key a warning is about: a warning points at the field's value, which for a
   * scalar is on the key's line and for a block map or list starts below it (the key is the
   * nearest line above that is indented less than the value).
   */
  const keyLine = (w: Warning, field: string): number | undefined => {
    const lines = linesOf(w.file)
    const own = lines[w.line - 1] ?? ''
    if (own.includes(`${field}:`) || own.includes(`"${field}":`)) return w.line
    for (let i = w.line - 2; i >= 0; i--) {
      const l = lines[i] ?? ''
      if (l.trim() === '' || l.trim().startsWith('#')) continue
      if (l.length - l.trimStart().length < w.column - 1) return l.includes(`${field}:`) || l.includes(`"${field}":`) ? i + 1 : undefined
    }
    return undefined
  }
  /** The field a message names (`ns/app: service api: publish: why`), or undefined for a whole node. */
  const fieldOf = (w: Warning): string | undefined => /entit|module/.test(w.message) ? undefined : /^.*?: (?:[a-z.-]+ [^:]+: )?([^\s:]+): /.exec(w.message)?.[1]

  L('every warning points at the field it names, in the file as written', () => {
    assert.ok(warnings.length > 100, `not-acted-on warnings: ${warnings.length}`)
    let fields = 0
    for (const w of warnings) {
      const field = fieldOf(w)
      if (field === undefined) { assert.match(linesOf(w.file)[w.line - 1] ?? '', /^\s*[^\s#]/, `${w.file}:${w.line} is a node`); continue }
      fields++
      assert.ok(keyLine(w, field) !== undefined, `${w.file}:${w.line}:${w.column} should be at "${field}" (${w.message})`)
    }
    // (40 before volumes, scale, publish, protocols, resources and container files were acted on)
    assert.ok(fields >= 25, `field warnings: ${fields}`)
  })

  L('known unsupported fields of the corpus are each reported where they are written', () => {
    const at = (file: string, line: number, field: string): void => {
      assert.ok(warnings.some(w => w.file === file && fieldOf(w) === field && keyLine(w, field) === line), `${file}:${line} ${field}`)
    }
    // GPU requests are reserved by placement but no device reaches the container
    at('monk-ollama/ollama.yaml', 35, 'resources')
    at('monk-openllm/openllm.yaml', 16, 'resources')
    // acted on since part B: a literal scale, publish, udp (and tcp, custom)
    const none = (file: string, field: string): void => { assert.not.ok(warnings.some(w => w.file === file && fieldOf(w) === field), `${file}: ${field} is acted on`) }
    none('monk-entities/examples/neptune-client/neptune-client.yaml', 'scale')
    none('monk-directus/directus.yaml', 'publish')
    none('monk-coredns/coredns.yaml', 'protocol')
    const protocols = warnings.filter(w => fieldOf(w) === 'protocol').map(w => linesOf(w.file)[w.line - 1] ?? '')
    assert.ok(protocols.every(l => /protocol:/.test(l) && !/protocol:\s*(tcp|udp|custom)\b/i.test(l)), protocols.join('\n'))
    // entities run (the entity actor): no node-wide "not run" warning any more; the one section of a
    // type monk does not check, state-schema, is reported where it is written
    assert.is(warnings.filter(w => /not run|does not run entities/.test(w.message)).length, 0)
    assert.ok(warnings.filter(w => fieldOf(w) === 'state-schema').length >= 10, 'state-schema warnings')
  })
}

L.run()
