// Operators of the spec §3.4 "Network / discovery / cluster" table (all reach the host).

import { type OpDef, hostOp0, hostOp1, hostOp2 } from './types.js'

const RC: [string, string] = ['a runnable path (string)', 'a container name (string)']
const RS: [string, string] = ['a runnable path (string)', 'a service name (string)']
const CONN = 'a connection name (string)'
const RUNNABLE = 'a runnable path (string)'

export const networkOperators: OpDef[] = [
  hostOp2('get-hostname', 'network', 'get-hostname(runnable, container) → (Str)', 'getHostname', RC),
  hostOp2('get-container-ip', 'network', 'get-container-ip(runnable, container) → (Str)', 'getHostname', RC, 'get-hostname'),
  hostOp1('peer-ip-address', 'network', 'peer-ip-address(runnable) → (Str)', 'peerIpAddress', RUNNABLE),
  hostOp0('ip-address-public', 'network', '→ (Str)', 'ipAddressPublic'),
  hostOp0('local-ip', 'network', '→ (Str)', 'localIp'),
  hostOp1('connection-hostname', 'network', 'connection-hostname(conn) → (Str)', 'connectionHostname', CONN),
  hostOp1('connection-port', 'network', 'connection-port(conn) → (Int)', 'connectionPort', CONN),
  hostOp1('connection-ip', 'network', 'connection-ip(conn) → (Str)', 'connectionIp', CONN),
  hostOp1('connection-public-ip', 'network', 'connection-public-ip(conn) → (Str)', 'connectionPublicIp', CONN),
  hostOp1('connection-public-port', 'network', 'connection-public-port(conn) → (Int)', 'connectionPublicPort', CONN),
  hostOp1('connection-domain-name', 'network', 'connection-domain-name(conn) → (Str)', 'connectionDomainName', CONN),
  hostOp1('connection-target', 'network', 'connection-target(conn) → (Ref)', 'connectionTarget', CONN),
  hostOp1('connection-user', 'network', 'connection-user(conn) → (?)', 'connectionUser', CONN),
  hostOp0('domain-name', 'network', '→ (Str)', 'domainName'),
  hostOp0('get-resolver-ip', 'network', '→ (Str)', 'getResolverIp'),
  hostOp0('ssl-certificate', 'network', '→ (Str PEM)', 'sslCertificate'),
  hostOp0('ssl-private-key', 'network', '→ (Str PEM)', 'sslPrivateKey'),
  hostOp2('service-port', 'network', 'service-port(runnable, service) → (Int)', 'servicePort', RS),
  hostOp2('service-public-ip', 'network', 'service-public-ip(runnable, service) → (Str)', 'servicePublicIp', RS),
  hostOp1('runnable-peers', 'network', 'runnable-peers(runnable) → (Array)', 'runnablePeers', RUNNABLE),
  hostOp1('runnable-peers-public-ips', 'network', 'runnable-peers-public-ips(runnable) → (Array)', 'runnablePeersPublicIps', RUNNABLE),
  hostOp1('provider', 'network', 'provider(name) → (Obj)', 'provider', 'a provider name (string)'),
  hostOp1('metric', 'network', 'metric(name) → (Num)', 'metric', 'a metric name (string)'),
]
