// Backtick interpolation at run time: to-s rules, keys, sub-scripts, literal `$`, escapes.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

import { type ArrowValue, evaluateSync } from '../../../grammar/arrow/index.js'
import { ev, testContext } from '../../helpers/arrow-eval.js'

const vars = new Map<string, ArrowValue>([
  ['s', 'str'], ['i', 42], ['f', 1.5], ['b', false], ['big', 12345678901234567890n], ['nil', null],
  ['arr', [1, 'a', null]], ['o', { k: 'v', n: { m: 1 } } as unknown as ArrowValue], ['monk-volume-path', '/var/lib/monk'],
  ['args', { user: 'ann', 'app-name': 'demo' } as unknown as ArrowValue],
])
const t = (src: string): ArrowValue => evaluateSync(src, 'value', { vars })

const Interp = suite('arrow interpolation')

Interp('values are converted with to-s: ints, floats, bools, bigints, nil, arrays and objects as JSON', () => {
  assert.is(t('`${s}|${i}|${f}|${b}|${big}|${nil}|${missing}`'), 'str|42|1.5|false|12345678901234567890||')
  assert.is(t('`${arr} ${o}`'), '[1,"a",null] {"k":"v","n":{"m":1}}')
})

Interp('keys: ${name["key"]} and ${name[0]}', () => {
  assert.is(t('`${args["user"]}@${args["app-name"]}`'), 'ann@demo')
  assert.is(t('`${arr[1]}${arr[5]}`'), 'a')
  assert.is(t('`${o["missing"]}`'), '')
})

Interp('a $ not followed by { is literal text (shell snippets survive)', () => {
  assert.is(t('`echo $HOME $$ $1 ${s} $`'), 'echo $HOME $$ $1 str $')
  assert.is(t('`price: \\${s}`'), 'price: ${s}')
  assert.is(t('`a\\nb\\tc\\\\d`'), 'a\nb\tc\\d')
})

Interp('sub-scripts inside ${ }: operators, quotes and braces, nested backticks', async () => {
  assert.is(t('`${ $i 1 add }`'), '43')
  assert.is(t('`${ {"}": "{"} get-member("}") }`'), '{')
  assert.is(t('`a${ `b${s}` "!" concat }c`'), 'abstr!c')
  assert.is(t('`${ "a" "b" }`'), 'b')
  assert.is(t('`${}x`'), 'x')
  assert.is(await ev('`https://${connection-target("d") entity-state get-member("id")}.example`', testContext()), 'https://id-target:d.example')
})

Interp('paths and env entries as kits write them', () => {
  assert.is(t('<- `${monk-volume-path}/pg:/var/lib/postgresql/data`'), '/var/lib/monk/pg:/var/lib/postgresql/data')
  assert.is(t('<- `KEY=${s}`'), 'KEY=str')
  assert.is(t('<- `${i}` to-i'), 42)
})

Interp('a template without interpolation is a constant string', () => {
  assert.is(t('`plain {} text`'), 'plain {} text')
})

Interp.run()
