// `monk lint` names what a kit reads but never defines ($portt in a check, {{ v "mesage" }} in a
// file): nil at run time, so a warning at load time, with a did-you-mean. What a default covers,
// what a group, a derived node or a built-in defines, is not reported.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { monk } from '../helpers/cli.js'
import { rmOnExit } from '../helpers/tmp.js'

const dir = rmOnExit(mkdtempSync(join(tmpdir(), 'monk-lint-names-')))
writeFileSync(join(dir, 'kit.yaml'), `namespace: demo
base:
  containers:
    main:
      image: busybox
      image-tag: "1"
      bash: <- \`echo \${flavour}\`
web:
  defines: runnable
  inherits: ./base
  variables:
    port: {type: int, value: 8080, env: PORT}
    message: {type: string, value: hi}
    flavour: vanilla
    tag: <- $image-tag default("latest")
    tag2: <- $image-tag2 "latest" default
  containers:
    main:
      environment:
        - <- \`MODE=\${mode}\`
        - <- \`SHARED=\${shared}\`
  files:
    conf:
      path: /etc/app.conf
      contents: |
        message={{ v "mesage" }}
        port={{ v "port" }}{{ if v "shared" }} shared{{ end }}
    bad:
      path: /etc/bad.conf
      contents: "{{ v }}"
  checks:
    readiness:
      code: exec("main", "sh", "-c", \`curl localhost:\${portt}\`) "ok" contains?
      attempts: 20
  actions:
    hello:
      arguments:
        who: {type: string}
      code: '\`hello \${args["who"]} on \${port} in \${monk-volume-path}\`'
stack:
  defines: group
  members: [web]
  variables:
    shared: yes
`)

const L = suite('monk lint: names read but never defined')

L('undefined variables in scripts and templates are warnings at file:line:col with a did-you-mean; a bad template is an error', () => {
  const r = monk(['lint', dir], { cwd: dir })
  assert.is(r.code, 1, 'the malformed template is an error')
  const lines = r.out.split('\n').filter(l => / undefined-variable: | template: /.test(l))
  assert.equal(lines.map(l => l.replace(/: (warning|error) .*?: (\S+).*/, ' $1 $2')), [
    'kit.yaml:20:11 warning containers/main/environment/0:',
    'kit.yaml:25:17 warning files.conf.contents:',
    'kit.yaml:30:17 error files.bad.contents:',
    'kit.yaml:33:13 warning checks/readiness/code:',
  ], r.out)
  assert.match(r.out, /\$mode is not defined by demo\/web, what inherits it or a group around it; it evaluates to nil/)
  assert.match(r.out, /\{\{ v "mesage" \}\} reads a variable demo\/web does not define \(did you mean message\?\); it renders as nothing/)
  assert.match(r.out, /\$portt is not defined .* \(did you mean port\?\)/)
  // covered: defaults, the group's variable, the derived node's variable read by its base, built-ins
  assert.not.match(r.out, /\$image-tag|\$shared|\$flavour|\$args|\$monk-volume-path|v "shared"/)
  assert.match(r.out, /with 1 error and 3 warnings$/m)
})

L.run()
