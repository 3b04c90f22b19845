import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe } from '../../../cli/api/messages.js'
import { portText, renderSummary, short } from '../../../cli/format/summary.js'

const Summary = suite('format/summary (spec §4.1 run tree)')
const plain = { fancy: false, status: (s: string) => s }

const base: Describe = {
  instance: 'x/y', template: 'x/y', state: 'run', status: 'running', peer: null, peerName: null, containers: [], ports: [], ready: true, error: null, waiting: null, generation: 1,
}
const web: Describe = {
  ...base,
  instance: 'guestbook/web', peer: '12D3KooWQbcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH', peerName: 'p2',
  containers: [{ name: 'main', image: 'monk-test/busybox:1', status: 'running' }, { name: 'side', image: 'monk-test/busybox:1', status: 'running' }],
  ports: [{ service: 'http', host: '127.0.0.1', port: 18481 }],
}

Summary('path → peer → container → image, port (plain words when not fancy)', () => {
  assert.is(renderSummary([web], plain), [
    'guestbook/web  running',
    '└─ peer p2 (12D3Ko…CDEFGH)',
    '   ├─ container main  running',
    '   │  ├─ image monk-test/busybox:1',
    '   │  └─ port 127.0.0.1:18481 (service http)',
    '   └─ container side  running',
    '      └─ image monk-test/busybox:1',
    '',
  ].join('\n'))
})

Summary('fancy mode uses the spec\'s markers', () => {
  const t = renderSummary([web], { fancy: true, status: s => s })
  for (const mark of ['🔩 guestbook/web', '🧊 Peer p2', '📦 main', '🧩 monk-test/busybox:1', '🔌 open 127.0.0.1:18481 (service http)']) assert.ok(t.includes(mark), `${mark} in\n${t}`)
})

Summary('an instance not running shows what it waits for and its error', () => {
  const t = renderSummary([{ ...base, instance: 'a/b', peer: 'p1', status: 'starting', waiting: 'depends a/db' }, { ...base, instance: 'a/c', peerName: 'p3', status: 'failed', error: 'image not found' }], plain)
  assert.match(t, /a\/b  starting\n└─ peer p1\n   └─ waiting for depends a\/db\n/)
  assert.match(t, /a\/c  failed\n└─ peer p3\n   └─ error: image not found\n/)
  assert.not.match(renderSummary([{ ...base, peer: 'p1', waiting: 'readiness' }], plain), /waiting/, 'a running instance waits for nothing')
})

Summary('one port spelling; short ids', () => {
  assert.is(portText({ service: 'kv', host: '10.0.0.2', port: 53 }), '10.0.0.2:53 (service kv)')
  assert.is(short('abc'), 'abc')
  assert.is(short('12D3KooWQbcdefghijklmnopqrstuvwxyz'), '12D3Ko…uvwxyz')
})

Summary.run()
