// ArrowHost: everything an Arrow script can reach outside itself (secrets, containers, network, cluster).
// grammar/ stays pure: the caller (daemon, CLI, tests) passes a host; every member is optional and an
// operator whose capability is missing fails with `missing-capability` naming the operator.

import type { ArrowObject, ArrowValue } from './values.js'

/** A host member may answer at once or later. Async answers must be native Promises (async functions are). */
export type Awaitable<T> = T | Promise<T>

/** Options of `http-get` / `http-post`: the Arrow object given as the optional last argument. */
export type HttpOptions = ArrowObject

/**
 * Capabilities of the world around a script. Members are called with the host as `this`. A member that
 * throws (or rejects) makes the operator fail with `host-error` (an ArrowError thrown by the host is
 * passed through unchanged, so a host can choose the code). Return `null` for "no value".
 */
export interface ArrowHost {
  // --- variables and secrets ---
  /** `secret` / `secret-get`: the secret's value; the host enforces `permitted-secrets`. */
  secret?(name: string): Awaitable<string | null>
  /** `set`: store a control-plane variable of the current runnable persistently. */
  setVariable?(name: string, value: ArrowValue): Awaitable<void>

  // --- HTTP / RPC ---
  /** `http-get`: the response body, or null when the request failed (spec: nil on error). */
  httpGet?(url: string, options: HttpOptions | null): Awaitable<string | null>
  /** `http-post`: the response body, or null when the request failed. */
  httpPost?(url: string, body: ArrowValue, options: HttpOptions | null): Awaitable<string | null>
  /** `http-get-service`: GET `path` on a declared service of a runnable; an object with at least `status`. */
  httpGetService?(runnable: string, service: string, path: string): Awaitable<ArrowValue>
  /** `rpc-call`: JSON-RPC `method(args)` at `url`; the decoded result. */
  rpcCall?(url: string, method: string, args: ArrowValue[]): Awaitable<ArrowValue>

  // --- actions ---
  /** `act` (and each attempt of `wait-for`): run action `path` (`ns/runnable/action`) with named args. */
  act?(path: string, args: ArrowObject): Awaitable<ArrowValue>
  /** `wait-for`: wait between attempts. Never called with a negative delay. */
  sleep?(ms: number): Promise<void>

  // --- containers ---
  /** `exec`: run a command in a container; the arguments as written (container-first or runnable-first). */
  exec?(args: string[]): Awaitable<string>
  /** `container-name`: runtime name of a container of the current runnable. */
  containerName?(container: string): Awaitable<string>
  /** `container-domain-name`: runtime name of another runnable's container. */
  containerDomainName?(runnable: string, container: string): Awaitable<string>

  // --- network / discovery / cluster ---
  /** `get-hostname` / `get-container-ip`: overlay hostname of a container of a runnable. */
  getHostname?(runnable: string, container: string): Awaitable<string>
  /** `peer-ip-address`: external IP of the node running a runnable. */
  peerIpAddress?(runnable: string): Awaitable<string>
  /** `ip-address-public`: public IP of the current node. */
  ipAddressPublic?(): Awaitable<string>
  /** `local-ip`: local IP of the current node. */
  localIp?(): Awaitable<string>
  /** `domain-name`: public domain assigned to the current runnable. */
  domainName?(): Awaitable<string | null>
  /** `get-resolver-ip`: DNS resolver usable inside the container network. */
  getResolverIp?(): Awaitable<string>
  /** `ssl-certificate`: PEM certificate issued for the current domain. */
  sslCertificate?(): Awaitable<string>
  /** `ssl-private-key`: PEM key of that certificate. */
  sslPrivateKey?(): Awaitable<string>
  /** `connection-hostname`: address of the service targeted by connection `name`. */
  connectionHostname?(name: string): Awaitable<string>
  /** `connection-port`: the target service's port. */
  connectionPort?(name: string): Awaitable<number>
  /** `connection-ip`: overlay IP of the target. */
  connectionIp?(name: string): Awaitable<string>
  /** `connection-public-ip`: public IP of the node hosting the target. */
  connectionPublicIp?(name: string): Awaitable<string>
  /** `connection-public-port`: published host port of the target. */
  connectionPublicPort?(name: string): Awaitable<number>
  /** `connection-domain-name`: public DNS name of the target's published service. */
  connectionDomainName?(name: string): Awaitable<string>
  /** `connection-target`: a reference to the target node (passed back to `entity` / `entity-state`). */
  connectionTarget?(name: string): Awaitable<ArrowValue>
  /** `connection-user`: seen once in the corpus; meaning unclear (spec §3.4). */
  connectionUser?(name: string): Awaitable<ArrowValue>
  /** `service-port`: port of a named service of a runnable. */
  servicePort?(runnable: string, service: string): Awaitable<number>
  /** `service-public-ip`: public IP serving that service. */
  servicePublicIp?(runnable: string, service: string): Awaitable<string>
  /** `runnable-peers`: identifiers of the peers hosting a runnable. */
  runnablePeers?(runnable: string): Awaitable<ArrowValue[]>
  /** `runnable-peers-public-ips`: public IPs of those peers. */
  runnablePeersPublicIps?(runnable: string): Awaitable<ArrowValue[]>
  /** `provider`: cloud provider information (`provider("gcp") get-member("project")`). */
  provider?(name: string): Awaitable<ArrowValue>
  /** `metric`: an autoscaler metric (`current-replicas`). */
  metric?(name: string): Awaitable<number>

  // --- entities ---
  /** `entity` / `get-entity`: definition data of an entity; `ref` null = the current entity instance. */
  entity?(ref: ArrowValue): Awaitable<ArrowValue>
  /** `entity-state`: persisted state of an entity; `ref` null = the current entity instance. */
  entityState?(ref: ArrowValue): Awaitable<ArrowValue>
}

/** The names of the host capabilities. */
export type Capability = keyof ArrowHost
