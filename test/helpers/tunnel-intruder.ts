// A cluster member (it holds the join token) that runs nothing and tries to open a tunnel to a
// service anyway, naming a consumer it does not run. Run inside a test's namespace by
// test/e2e/overlay-netns.serial.test.ts; prints one JSON line {failed, lastError, bytesIn} and exits.
// Env MONK_INTRUDER: JSON {home, listen, token, peer, consumer, target, service}.
import { connect } from 'node:net'
import { startMesh } from '../../mesh/index.js'

const a = JSON.parse(process.env.MONK_INTRUDER ?? '{}') as { home: string, listen: string, token: string, peer: string, consumer: string, target: string, service: string }
const mesh = await startMesh({ home: a.home, listen: [a.listen], token: a.token, name: 'intruder' })
const ep = await mesh.openEndpoint({ host: '127.0.0.1', port: 0, route: () => ({ peer: a.peer, request: { consumer: a.consumer, target: a.target, service: a.service } }) })
const deadline = Date.now() + 20_000
while (ep.stats.failed === 0 && ep.stats.bytesIn === 0 && Date.now() < deadline) {
  await new Promise<void>(resolve => {
    const s = connect({ host: '127.0.0.1', port: ep.port })
    s.on('data', () => {})
    s.on('error', () => { resolve() })
    s.on('close', () => { resolve() })
    s.on('connect', () => { s.write('GET / HTTP/1.0\r\n\r\n') })
  })
  if (ep.stats.failed === 0 && ep.stats.bytesIn === 0) await new Promise(resolve => setTimeout(resolve, 300))
}
process.stdout.write(JSON.stringify({ failed: ep.stats.failed, lastError: ep.stats.lastError, bytesIn: ep.stats.bytesIn }) + '\n')
await mesh.stop()
process.exit(0)
