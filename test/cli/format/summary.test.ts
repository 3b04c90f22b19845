import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { normaliseDescribe, portText, renderSummary, short, volumeText } from '../../../cli/format/summary.js'

const Summary = suite('format/summary (spec §4.1 run tree)')
const plain = { fancy: false, status: (s: string) => s }

const web = {
  instance: 'guestbook/web', peer: '12D3KooWQbcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH', peerName: 'p2', status: 'running',
  containers: [{ name: 'main', image: 'monk-test/busybox:1', status: 'running', volumes: [{ host: '/home/u/.monk/volumes/web', container: '/data' }], ports: [{ host: '127.0.0.1', hostPort: 18481, containerPort: 18481 }] }],
}

Summary('path → peer → container → image, volume, port (plain words when not fancy)', () => {
  assert.is(renderSummary([web], plain), [
    'guestbook/web  running',
    '└─ peer p2 (12D3Ko…CDEFGH)',
    '   └─ container main  running',
    '      ├─ image monk-test/busybox:1',
    '      ├─ volume /home/u/.monk/volumes/web -> /data',
    '      └─ port 127.0.0.1:18481 -> 18481',
    '',
  ].join('\n'))
})

Summary('fancy mode uses the spec\'s markers', () => {
  const t = renderSummary([web], { fancy: true, status: s => s })
  for (const mark of ['🔩 guestbook/web', '🧊 Peer p2', '📦 main', '🧩 monk-test/busybox:1', '💾 /home/u/.monk/volumes/web -> /data', '🔌 open 127.0.0.1:18481 -> 18481']) assert.ok(t.includes(mark), `${mark} in\n${t}`)
})

Summary('an instance not running shows what it waits for and its error', () => {
  const t = renderSummary([{ instance: 'a/b', peer: 'p1', status: 'starting', waiting: 'depends a/db', containers: [] }, { instance: 'a/c', peerName: 'p3', status: 'failed', error: 'image not found' }], plain)
  assert.match(t, /a\/b  starting\n└─ peer p1\n   └─ waiting for depends a\/db\n/)
  assert.match(t, /a\/c  failed\n└─ peer p3\n   └─ error: image not found\n/)
})

Summary('volume and port shapes the daemon may use', () => {
  assert.is(volumeText('/a:/b'), '/a:/b')
  assert.is(volumeText({ source: '/s', target: '/t' }), '/s -> /t')
  assert.is(portText(8080), '8080')
  assert.is(portText({ port: 53, container: 53, protocol: 'udp' }), '127.0.0.1:53 -> 53/udp')
  assert.is(short('abc'), 'abc')
})

Summary('monkd\'s describe shape: status record → status, containers, services as open ports, what it waits for', () => {
  const raw = {
    instance: 'guestbook/store', template: 'guestbook/store', state: 'run', peer: 'P1', peerName: 'p1',
    status: { state: 'running', containers: [{ name: 'main', image: 'monk-test/busybox:1', status: 'running', id: 'x' }], services: { kv: { host: '127.0.0.1', port: 18480 } }, ready: true, error: null },
  }
  assert.equal(normaliseDescribe(raw, 'x/y'), { instance: 'guestbook/store', peer: 'P1', peerName: 'p1', status: 'running', containers: [{ name: 'main', image: 'monk-test/busybox:1', status: 'running', ports: [{ host: '127.0.0.1', port: 18480, service: 'kv' }] }] })
  assert.match(renderSummary([normaliseDescribe(raw, 'x/y')], plain), /└─ port 127\.0\.0\.1:18480 \(service kv\)\n$/)
  const starting = normaliseDescribe({ ...raw, status: { ...raw.status, state: 'starting', containers: [], services: {} } }, 'x/y')
  assert.is(starting.waiting, 'its depends and images')
  assert.is(normaliseDescribe({ ...raw, status: { ...raw.status, state: 'starting', ready: false } }, 'x/y').waiting, 'its readiness check')
  assert.is(normaliseDescribe({ ...raw, state: 'stop', status: { ...raw.status, state: 'stopped', containers: [] } }, 'x/y').status, 'stopped')
  assert.equal(normaliseDescribe({ instance: 'a/b', template: 'a/b', state: 'run', peer: null, peerName: null, status: null }, 'a/b'), { instance: 'a/b', status: 'not placed' })
  assert.is(normaliseDescribe({ ...raw, status: { ...raw.status, state: 'failed', error: 'boom' } }, 'x/y').error, 'boom')
})

Summary.run()
