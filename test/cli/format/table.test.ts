import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { table, visibleWidth } from '../../../cli/format/table.js'
import { renderTree } from '../../../cli/format/tree.js'

const Table = suite('format/table')

Table('columns align to the widest cell; the last column is not padded', () => {
  const t = table(['NAME', 'STATUS', 'PEER'], [['guestbook/web', 'running', 'p1'], ['a/b', 'starting', 'peer-two']])
  assert.is(t, 'NAME           STATUS    PEER\nguestbook/web  running   p1\na/b            starting  peer-two\n')
})

Table('colour codes take no width', () => {
  const red = '\u001b[31mfailed\u001b[0m'
  assert.is(visibleWidth(red), 6)
  const t = table(['S', 'X'], [[red, '1'], ['ok', '2']])
  assert.is(t.split('\n')[1], `${red}  1`)
  assert.is(t.split('\n')[2], 'ok      2')
})

Table('missing cells render empty; no rows gives the header', () => {
  assert.is(table(['A', 'B', 'C'], [['x']]), 'A  B  C\nx\n')
  assert.is(table(['A', 'B'], []), 'A  B\n')
  assert.is(table([], [['x']]), '')
})

const Tree = suite('format/tree')

Tree('children hang under box lines; the last child closes the branch', () => {
  const t = renderTree([{ label: 'root', children: [{ label: 'a', children: [{ label: 'a1' }, { label: 'a2' }] }, { label: 'b', children: [{ label: 'b1' }] }] }])
  assert.is(t, 'root\n├─ a\n│  ├─ a1\n│  └─ a2\n└─ b\n   └─ b1\n')
})

Tree('several roots, empty input', () => {
  assert.is(renderTree([{ label: 'x' }, { label: 'y' }]), 'x\ny\n')
  assert.is(renderTree([]), '')
})

Table.run()
Tree.run()
