// Instance directory names: injective, never `.`/`..`, never a separator; files: paths stay inside.
import { join, resolve } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { filePath, instanceDir, instanceDirName } from '../../../actors/runnable/dirs.js'

const D = suite('runnable: instance directories')
const home = '/tmp/monk-home'

D('.. and . never leave the instance root', () => {
  for (const inst of ['..', '.', '../..', 'a/../..', '/', '']) {
    const dir = instanceDir(home, inst)
    assert.ok(dir.startsWith(`${resolve(home, 'instances')}/`), `${inst} → ${dir}`)
    assert.not.ok(instanceDirName(inst).includes('/'))
    assert.not.ok(['.', '..'].includes(instanceDirName(inst)))
  }
})

D('different instances never share a directory (a/b_c, a_b/c, a%2Fb...)', () => {
  const names = ['a/b_c', 'a_b/c', 'a_b_c', 'a/b/c', 'a%2Fb', 'a/b', 'a.b', 'a-b', 'é/x', 'e/x', 'x'.repeat(300), `${'x'.repeat(299)}y`, 'ns/app@2', 'ns/app']
  const dirs = names.map(instanceDirName)
  assert.is(new Set(dirs).size, names.length, JSON.stringify(dirs))
  for (const d of dirs) assert.ok(d.length <= 200, `${d.length} characters`)
})

D('a readable name stays readable', () => {
  assert.is(instanceDirName('ns/app-1_x'), 'ns%2Fapp-1_x')
})

D('files: paths resolve inside the container root, ../ out is an error naming the entry', () => {
  const root = join(home, 'instances', 'x', 'files', 'main')
  assert.is(filePath(root, '/etc/app.conf', 'conf'), join(root, 'etc/app.conf'))
  assert.is(filePath(root, '/a/../b', 'conf'), join(root, 'b'))
  for (const p of ['/../../x', '/../main2/x', '/etc/../../x', '/']) {
    assert.throws(() => filePath(root, p, 'esc'), (e: Error & { code?: string }) => e.code === 'bad-file' && e.message.includes('files.esc.path'), p)
  }
})

D.run()
