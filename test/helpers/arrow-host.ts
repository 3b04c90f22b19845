// A fake ArrowHost for tests: every capability answers deterministically (asynchronously by default)
// and records its calls, so operator tests can check both the value and what reached the host.

import type { ArrowHost, ArrowObject, ArrowValue } from '../../grammar/arrow/index.js'
import { fromPlain, toS } from '../../grammar/arrow/index.js'

export interface Call { cap: string; args: unknown[] }

/** Build a fake host. `sync: true` answers without promises. Paths/URLs containing "fail" make it throw. */
export function fakeHost (opts: { sync?: boolean } = {}): { host: Required<ArrowHost>; calls: Call[] } {
  const calls: Call[] = []
  const wrap = <A extends unknown[], R>(cap: string, f: (...a: A) => R) => (...a: A): R | Promise<R> => {
    calls.push({ cap, args: a })
    if (opts.sync === true) return f(...a)
    return Promise.resolve().then(() => f(...a))
  }
  const failIf = (s: string): void => { if (s.includes('fail')) throw new Error(`refused ${s}`) }
  const obj = (o: Record<string, unknown>): ArrowValue => fromPlain(o)
  const host: Required<ArrowHost> = {
    secret: wrap('secret', (n: string) => { failIf(n); return `secret:${n}` }),
    setVariable: wrap('setVariable', (_n: string, _v: ArrowValue) => undefined),
    httpGet: wrap('httpGet', (url: string, o: ArrowObject | null) => (url.includes('down') ? null : `GET ${url}${o === null ? '' : ' ' + toS(o)}`)),
    httpPost: wrap('httpPost', (url: string, body: ArrowValue, o: ArrowObject | null) => `POST ${url} ${toS(body)}${o === null ? '' : ' ' + toS(o)}`),
    httpGetService: wrap('httpGetService', (r: string, s: string, p: string) => obj({ status: 200, body: `${r}:${s}${p}` })),
    rpcCall: wrap('rpcCall', (url: string, method: string, args: ArrowValue[]) => obj({ url, method, args })),
    act: wrap('act', (path: string, args: ArrowObject) => { failIf(path); return obj({ path, args }) }),
    sleep: (ms: number) => { calls.push({ cap: 'sleep', args: [ms] }); return Promise.resolve() },
    exec: wrap('exec', (args: string[]) => { failIf(args.join(' ')); return args.join(' ') }),
    containerName: wrap('containerName', (c: string) => `ctr-${c}`),
    containerDomainName: wrap('containerDomainName', (r: string, c: string) => `ctr-${r.replace('/', '-')}-${c}`),
    getHostname: wrap('getHostname', (r: string, c: string) => `${c}.${r.replace('/', '-')}.dns.podman`),
    peerIpAddress: wrap('peerIpAddress', (_r: string) => '10.0.0.2'),
    ipAddressPublic: wrap('ipAddressPublic', () => '203.0.113.1'),
    localIp: wrap('localIp', () => '192.168.1.2'),
    domainName: wrap('domainName', () => 'app.example.com'),
    getResolverIp: wrap('getResolverIp', () => '10.0.0.53'),
    sslCertificate: wrap('sslCertificate', () => 'CERT'),
    sslPrivateKey: wrap('sslPrivateKey', () => 'KEY'),
    connectionHostname: wrap('connectionHostname', (n: string) => { failIf(n); return `${n}.local` }),
    connectionPort: wrap('connectionPort', (_n: string) => 5432),
    connectionIp: wrap('connectionIp', (_n: string) => '10.1.0.7'),
    connectionPublicIp: wrap('connectionPublicIp', (_n: string) => '198.51.100.7'),
    connectionPublicPort: wrap('connectionPublicPort', (_n: string) => 30080),
    connectionDomainName: wrap('connectionDomainName', (n: string) => `${n}.example.net`),
    connectionTarget: wrap('connectionTarget', (n: string) => `target:${n}`),
    connectionUser: wrap('connectionUser', (n: string) => `user:${n}`),
    servicePort: wrap('servicePort', (_r: string, _s: string) => 8080),
    servicePublicIp: wrap('servicePublicIp', (_r: string, _s: string) => '198.51.100.1'),
    runnablePeers: wrap('runnablePeers', (_r: string) => ['peer-1', 'peer-2']),
    runnablePeersPublicIps: wrap('runnablePeersPublicIps', (_r: string) => ['203.0.113.1/32', '203.0.113.2/32']),
    provider: wrap('provider', (n: string) => obj({ name: n, project: 'proj-1' })),
    metric: wrap('metric', (_n: string) => 3),
    entity: wrap('entity', (ref: ArrowValue) => obj({ of: ref ?? 'self', part: 'definition' })),
    entityState: wrap('entityState', (ref: ArrowValue) => obj({ of: ref ?? 'self', id: `id-${toS(ref ?? 'self')}`, address: 'addr.example' })),
  }
  return { host, calls }
}
