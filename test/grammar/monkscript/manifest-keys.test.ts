// MANIFEST keywords monk reads but does not act on (spec §5.2): each is a warning at its line and
// column saying what monk does instead; SECRET names are kept with their positions for the daemon.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseManifest, type Diagnostic } from '../../../grammar/monkscript/index.js'

const M = suite('MANIFEST keywords not acted on')

const text = `REPO demo
LOAD app.yaml
ENV prod
ENTRY prod:demo/app
IMAGE demo-client:latest demo/app,demo/web ./client Dockerfile.prod
  SECRET api-key  db-password
FILES a.yaml b.yaml
BLOBS site:site/
BLOBSIGNORE *.tmp
DESCRIPTION a demo
`

M('IMAGE, ENV, FILES, BLOBS and BLOBSIGNORE are warnings at their line; SECRET is kept with positions', () => {
  const d: Diagnostic[] = []
  const m = parseManifest(text, '/k/MANIFEST', d)
  assert.equal(d.map(x => [x.code, x.line, x.column, x.severity]), [
    ['manifest-not-acted-on', 3, 1, 'warning'],
    ['manifest-not-acted-on', 5, 1, 'warning'],
    ['manifest-not-acted-on', 7, 1, 'warning'],
    ['manifest-not-acted-on', 8, 1, 'warning'],
    ['manifest-not-acted-on', 9, 1, 'warning'],
  ])
  assert.match(d[0]!.message, /ENTRY prod:ns\/name is taken as ns\/name/)
  assert.match(d[1]!.message, /docker build -t demo-client:latest -f Dockerfile\.prod \.\/client/)
  assert.match(d[1]!.message, /demo\/app,demo\/web/)
  assert.match(d[2]!.message, /only what LOAD and DIR name/)
  assert.match(d[3]!.message, /blobs are not supported/)
  assert.equal(m.secrets, ['api-key', 'db-password'])
  assert.equal(m.secretsAt, [{ name: 'api-key', line: 6, column: 10 }, { name: 'db-password', line: 6, column: 19 }])
  assert.equal(m.entry, ['prod:demo/app'])
})

M('a MANIFEST with only acted-on keywords has no warnings', () => {
  const d: Diagnostic[] = []
  parseManifest('REPO x\nLOAD a.yaml\nDIR sub\nRESOURCES f.js\nENTRY x/app\nSECRET k\nVERSION 1\n', '/k/MANIFEST', d)
  assert.equal(d, [])
})

M.run()
