// The fingerprint label of a container whose spec carries secret values is an HMAC under a key of
// the peer's home (start.ts), so the label in the engine's config on disk lets nobody test guesses
// of a secret offline; without secrets it stays the plain digest.
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { fingerprint, fingerprintKey } from '../../../actors/runnable/start.js'

const F = suite('container fingerprint')
const dirs: string[] = []
F.after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

F('keyed by the home when secrets are in the spec; the key is made once, 0600, and kept', () => {
  const [a, b] = [mkdtempSync(join(tmpdir(), 'monk-fp-')), mkdtempSync(join(tmpdir(), 'monk-fp-'))]
  dirs.push(a, b)
  const spec = { env: { DB_PASSWORD: 'hunter2' } }
  const files = [{ path: '/etc/app.conf', mode: 0o600, contents: 'password=hunter2' }]
  const plain = createHash('sha256').update(JSON.stringify({ spec, files: files.map(f => [f.path, f.mode, f.contents]), restarts: 0 })).digest('hex').slice(0, 32)
  assert.is(fingerprint(spec, files, 0), plain, 'without a key: the plain digest, as before')
  const ka = fingerprintKey(a)
  assert.is(ka.length, 32)
  assert.is(statSync(join(a, 'fingerprint.key')).mode & 0o777, 0o600)
  assert.ok(fingerprintKey(a).equals(ka), 'the same key on the next start (a restarted monkd keeps its containers)')
  const pa = fingerprint(spec, files, 0, ka)
  assert.is.not(pa, plain, 'the keyed label is not the digest a guesser could compute')
  assert.is(pa, fingerprint(spec, files, 0, fingerprintKey(a)), 'stable for the same home and spec')
  assert.is.not(pa, fingerprint(spec, files, 0, fingerprintKey(b)), 'another home, another label')
  assert.is.not(pa, fingerprint({ env: { DB_PASSWORD: 'hunter3' } }, files, 0, ka), 'a changed secret changes the label (the container is replaced)')
})

F.run()
