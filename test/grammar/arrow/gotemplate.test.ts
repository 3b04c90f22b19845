// The Go-template subset of files contents (spec §3.6).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

import { type ArrowValue, checkTemplate, renderTemplate } from '../../../grammar/arrow/index.js'

const values: Record<string, ArrowValue> = {
  'server-name': 'example.com', 'listen-port': 8080, ssl: true, off: false, empty: '', zero: 0, list: [], 'proxy-pass-url': 'http://up',
}
const lookup = (n: string): ArrowValue | undefined => values[n]
const render = (text: string): string => renderTemplate(text, lookup)

const Go = suite('go-template subset')

Go('v and var print variables; everything else is literal', () => {
  assert.is(render('server_name {{ v "server-name" }};\nlisten {{var "listen-port"}};'), 'server_name example.com;\nlisten 8080;')
  assert.is(render('proxy_set_header Host $host; echo $VAR ${X}'), 'proxy_set_header Host $host; echo $VAR ${X}')
  assert.is(render('{{ v "proxy-pass-url"}}'), 'http://up')
  assert.is(render('[{{ v "missing" }}]'), '[]')
  assert.is(render('{{ v `server-name` }}'), 'example.com')
})

Go('if / else if / else / end with Go truthiness, nested', () => {
  assert.is(render('{{ if v "ssl" }}443{{ else }}80{{ end }}'), '443')
  for (const n of ['off', 'empty', 'zero', 'list', 'missing']) assert.is(render(`{{ if v "${n}" }}T{{ else }}F{{ end }}`), 'F', n)
  assert.is(render('{{ if v "off" }}a{{ else if v "ssl" }}b{{ else }}c{{ end }}'), 'b')
  assert.is(render('{{ if v "ssl" }}[{{ if v "off" }}x{{ end }}{{ v "listen-port" }}]{{ end }}'), '[8080]')
  assert.is(render('{{ if not (v "off") }}yes{{ end }}'), 'yes')
})

Go('comments and {{- -}} blank trimming', () => {
  assert.is(render('a  {{- /* note */ -}}  b'), 'ab')
  assert.is(render('x {{- v "listen-port" }} y'), 'x8080 y')
  assert.is(render('x {{ v "listen-port" -}}\n  y'), 'x 8080y')
})

Go('malformed templates fail with code template and the offset of the action', () => {
  const cases: Array<[string, number]> = [
    ['{{ if v "ssl" }}open', 0], ['a {{ end }}', 2], ['a {{ else }}', 2], ['{{ v "x"', 0], ['{{ printf "%d" 1 }}', 0], ['{{ v x }}', 0], ['{{ }}', 0],
    ['{{ if v "a" }}{{ else }}{{ else }}{{ end }}', 24],
  ]
  for (const [text, offset] of cases) {
    const problems = checkTemplate(text)
    assert.is(problems.length, 1, text)
    assert.is(problems[0]?.code, 'template')
    assert.is(problems[0]?.offset, offset, text)
  }
  assert.equal(checkTemplate('fine {{ v "a" }}'), [])
})

Go.run()
