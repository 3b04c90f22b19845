// How `monk describe` shows an instance's connections, and `monk cluster peers` the live tunnels.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Describe, PeerRow } from '../../../cli/api/messages.js'
import { peersTable } from '../../../cli/commands/cluster.js'
import { connectionText, renderSummary } from '../../../cli/format/summary.js'

const F = suite('format: overlay connections and tunnels')
const plain = { fancy: false, status: (s: string) => s }

const client: Describe = {
  instance: 'shop/client', template: 'shop/client', state: 'run', status: 'running', peer: 'PB', peerName: 'b',
  containers: [{ name: 'main', image: '', status: 'running' }], ports: [], ready: true, error: null, waiting: null, generation: 1,
  connections: [
    { name: 'web', endpoint: '127.0.0.1:40123', target: 'shop/web', peer: '12D3KooWQbcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH', peerName: 'a', state: 'open', bytesIn: 1536, bytesOut: 300, active: 1 },
    { name: 'db', endpoint: '127.0.0.1:40124', target: 'shop/db', peer: '', state: 'failing', bytesIn: 0, bytesOut: 0, active: 0, lastError: 'shop/db is not running on any live peer' },
  ],
}

F('describe lists each connection: endpoint, target and its peer, state and bytes; a failing one says why', () => {
  const t = renderSummary([client], plain)
  assert.match(t, /connection web 127\.0\.0\.1:40123 → shop\/web on a \(open, 1\.5 KiB in, 300 B out\)/)
  assert.match(t, /connection db 127\.0\.0\.1:40124 → shop\/db \(failing, 0 B in, 0 B out: shop\/db is not running on any live peer\)/)
  assert.is(connectionText({ ...client.connections![0]!, peerName: '' }), 'web 127.0.0.1:40123 → shop/web on 12D3Ko…CDEFGH (open, 1.5 KiB in, 300 B out)')
})

F('cluster peers: a TUNNELS column only when some peer has live tunnels', () => {
  const rows: PeerRow[] = [
    { id: 'PA', name: 'a', tags: [], alive: true, addrs: [], tunnels: [{ peer: 'PB', name: 'b', out: 0, in: 2 }] },
    { id: 'PB', name: 'b', tags: [], alive: true, addrs: [], tunnels: [{ peer: 'PA', name: 'a', out: 1, in: 0 }] },
    { id: 'PC', name: 'c', tags: [], alive: true, addrs: [] },
  ]
  const t = peersTable(rows, s => s)
  assert.match(t, /TUNNELS/)
  assert.match(t, /PA\s+a\s+yes\s+b\(2 in\)/)
  assert.match(t, /PB\s+b\s+yes\s+a\(1 out\)/)
  assert.match(t, /PC\s+c\s+yes\s+-/)
  assert.not.match(peersTable(rows.map(r => ({ ...r, tunnels: [] })), s => s), /TUNNELS/)
})

F.run()
