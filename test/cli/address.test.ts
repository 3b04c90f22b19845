// Where the CLI finds monkd (--socket, $MONK_SOCKET) and the API token of a tcp:// one.
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { apiToken, parseAddress } from '../../cli/address.js'
import { tempDir } from '../helpers/tmp.js'

const A = suite('cli/address')

A('unix:///path, a plain path and tcp://host:port; anything else is a usage error', () => {
  assert.equal(parseAddress('unix:///run/monkd.sock'), { kind: 'unix', path: '/run/monkd.sock', text: '/run/monkd.sock' })
  assert.equal(parseAddress('/tmp/x.sock'), { kind: 'unix', path: '/tmp/x.sock', text: '/tmp/x.sock' })
  assert.equal(parseAddress('tcp://127.0.0.1:7800'), { kind: 'tcp', host: '127.0.0.1', port: 7800, text: 'tcp://127.0.0.1:7800', tls: false })
  assert.equal(parseAddress('tcp://[::1]:7800'), { kind: 'tcp', host: '::1', port: 7800, text: 'tcp://[::1]:7800', tls: false })
  for (const bad of ['unix://relative.sock', 'tcp://host', 'tcp://host:0', 'tcp://host:7800/x', 'http://host:1', '']) {
    try { parseAddress(bad); assert.unreachable(bad) } catch (e) { assert.is((e as { exitCode?: number }).exitCode, 2, bad) }
  }
})

A('TCP beyond loopback is TLS; tls:// asks for TLS on loopback too', () => {
  assert.equal(parseAddress('tcp://10.0.0.5:7800'), { kind: 'tcp', host: '10.0.0.5', port: 7800, text: 'tcp://10.0.0.5:7800', tls: true })
  assert.equal(parseAddress('tcp://monk.example:7800'), { kind: 'tcp', host: 'monk.example', port: 7800, text: 'tcp://monk.example:7800', tls: true })
  assert.equal(parseAddress('tls://127.0.0.1:7800'), { kind: 'tcp', host: '127.0.0.1', port: 7800, text: 'tls://127.0.0.1:7800', tls: true })
  assert.equal(parseAddress('tls://[fd00::2]:7800'), { kind: 'tcp', host: 'fd00::2', port: 7800, text: 'tls://[fd00::2]:7800', tls: true })
  assert.is(parseAddress('tcp://localhost:7800').kind === 'tcp' && (parseAddress('tcp://localhost:7800') as { tls: boolean }).tls, false)
  for (const bad of ['tls://host', 'tls://host:0']) {
    try { parseAddress(bad); assert.unreachable(bad) } catch (e) { assert.is((e as { exitCode?: number }).exitCode, 2, bad) }
  }
})

A('the token: $MONK_API_TOKEN first, else the first line of the token file; none is a usage error naming both', () => {
  const dir = tempDir('monk-address')
  const file = join(dir, 'token')
  writeFileSync(file, 'from-the-file-0123456789\nignored\n')
  chmodSync(file, 0o600)
  assert.is(apiToken(undefined, { MONK_API_TOKEN: 'from-env' }), 'from-env')
  assert.is(apiToken(file, {}), 'from-the-file-0123456789')
  assert.is(apiToken(undefined, { MONK_API_TOKEN_FILE: file }), 'from-the-file-0123456789')
  try { apiToken(undefined, {}); assert.unreachable() } catch (e) { assert.match((e as Error).message, /\$MONK_API_TOKEN, or in a file named by --token-file or \$MONK_API_TOKEN_FILE/) }
  writeFileSync(join(dir, 'empty'), '\n')
  try { apiToken(join(dir, 'empty'), {}); assert.unreachable() } catch (e) { assert.match((e as Error).message, /is empty/) }
})

A.run()
