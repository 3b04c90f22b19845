// The v1 message catalogue: every actor path the CLI talks to and the body of each message, one
// per command of DESIGN §12 (fields mirror the CLI flags of spec §4). Kinds and fields are only
// ever appended; a breaking change is a new API version.
import type { Route } from './routes.js'
import { array, boolean, integer, json, message, object, oneOf, optional, record, string, type Infer } from './schema.js'

/** `ns/name`, `local/ns/name`, `ns/group/member`, `ns/name#2`: two or more non-empty segments. */
const templatePath = string({ min: 1, max: 512, pattern: /^[\w.@:-]+(\/[\w.@#:-]+)+$/, patternText: 'a path like ns/name' })
const name = string({ min: 1, max: 256 })
const tag = string({ min: 1, max: 128, pattern: /^[^\s,]+$/, patternText: 'a tag (no spaces or commas)' })
const tags = array(tag, { max: 64 })
const variables = record(string({ max: 1 << 20 }), { keyPattern: /^[\w][\w.-]*$/, keyText: 'a variable name', max: 1024 })

// ---- peer: this daemon ----
export const peerPing = message('peer.ping', {})
export const peerVersion = message('peer.version', {})
export const peerStatus = message('peer.status', {})

// ---- templates: the replicated template tree ----
export const templatesLoad = message('templates.load', {
  /** Files as read by the CLI (paths for messages and `<<<` embeds relative to them). */
  files: array(object({ path: name, text: string({ max: 8 << 20 }) }), { min: 1, max: 4096 }),
  strict: optional(boolean()),
})
export const templatesList = message('templates.list', { filter: optional(string()), kind: optional(oneOf('runnable', 'group', 'entity')) })
export const templatesDump = message('templates.dump', { paths: array(templatePath, { min: 1, max: 256 }) })
export const templatesInfo = message('templates.info', { path: templatePath })

// ---- workloads: run / update / stop / purge / ps over template paths ----
export const workloadsRun = message('workloads.run', {
  paths: array(templatePath, { min: 1, max: 256 }),
  tags: optional(tags),
  peer: optional(name),
  forceMove: optional(boolean()),
  local: optional(boolean()),
  set: optional(variables),
})
export const workloadsUpdate = message('workloads.update', {
  paths: array(templatePath, { min: 1, max: 256 }),
  tags: optional(tags),
  peer: optional(name),
  set: optional(variables),
})
export const workloadsStop = message('workloads.stop', { paths: optional(array(templatePath, { max: 256 })), all: optional(boolean()), tags: optional(tags) })
export const workloadsPurge = message('workloads.purge', { paths: optional(array(templatePath, { max: 256 })), all: optional(boolean()), excise: optional(boolean()), keepVolumes: optional(boolean()) })
export const workloadsRestart = message('workloads.restart', { paths: array(templatePath, { min: 1, max: 256 }) })
export const workloadsPs = message('workloads.ps', { filter: optional(string()), all: optional(boolean()), tags: optional(tags), peer: optional(name) })

// ---- workload/<path>: one running runnable or group (forwarded to its peer when placed elsewhere) ----
export const workloadDescribe = message('workload.describe', {})
export const workloadActions = message('workload.actions', {})
/** `monk do PATH/ACTION k=v...`: arguments as given; the daemon converts them to the declared types. */
export const workloadDo = message('workload.do', { action: name, args: optional(record(json(), { max: 256 })) })
/** Streams log lines `{container, stream, line, time}`. */
export const workloadLogs = message('workload.logs', { container: optional(name), follow: optional(boolean()), last: optional(integer({ min: 0, max: 1_000_000 })), peer: optional(name) })
/** Runs a command; the reply carries exit code, stdout and stderr. */
export const workloadExec = message('workload.exec', { command: array(string(), { min: 1, max: 4096 }), container: optional(name), peer: optional(name) })
/** Resolves once the workload is ready (readiness checks passed) or fails with its last error. */
export const workloadWait = message('workload.wait', { timeoutMs: optional(integer({ min: 0 })) })

// ---- secrets: sealed in the replica (DESIGN §11); values are never sent back ----
/** `global` or a workload path (`ns/name`). */
const scope = string({ min: 1, max: 512, pattern: /^(global|[\w.@:-]+(\/[\w.@#:-]+)+)$/, patternText: "'global' or a workload path like ns/name" })
export const secretsAdd = message('secrets.add', { scope, name, value: string({ max: 1 << 20 }) })
export const secretsRemove = message('secrets.remove', { scope, name })
export const secretsList = message('secrets.list', { scope: optional(scope) })

// ---- cluster ----
export const clusterNew = message('cluster.new', { name: optional(name) })
export const clusterJoin = message('cluster.join', { token: string({ min: 1, max: 8192 }), name: optional(name) })
export const clusterToken = message('cluster.token', {})
export const clusterInfo = message('cluster.info', {})
export const clusterPeers = message('cluster.peers', { tags: optional(tags), name: optional(name) })
export const clusterExit = message('cluster.exit', {})
export const clusterPeerTags = message('cluster.peer-tags', { peer: name, tags })
export const clusterGrow = message('cluster.grow', {
  provider: oneOf('aws', 'gcp', 'digitalocean', 'local'),
  name,
  tags: optional(tags),
  instanceType: optional(name),
  region: optional(name),
  zone: optional(name),
  diskSizeGb: optional(integer({ min: 1, max: 65536 })),
  count: integer({ min: 1, max: 1000 }),
})
export const clusterShrink = message('cluster.shrink', { force: optional(boolean()) })
/** Streams cluster events (peer up/down, placement, workload state). */
export const clusterEvents = message('cluster.events', {})

export const catalogue: readonly Route[] = [
  { kind: 'peer', target: 'none', messages: { 'peer.ping': peerPing, 'peer.version': peerVersion, 'peer.status': peerStatus } },
  { kind: 'templates', target: 'none', messages: { 'templates.load': templatesLoad, 'templates.list': templatesList, 'templates.dump': templatesDump, 'templates.info': templatesInfo } },
  { kind: 'workloads', target: 'none', messages: { 'workloads.run': workloadsRun, 'workloads.update': workloadsUpdate, 'workloads.stop': workloadsStop, 'workloads.purge': workloadsPurge, 'workloads.restart': workloadsRestart, 'workloads.ps': workloadsPs } },
  { kind: 'workload', target: 'required', messages: { 'workload.describe': workloadDescribe, 'workload.actions': workloadActions, 'workload.do': workloadDo, 'workload.logs': workloadLogs, 'workload.exec': workloadExec, 'workload.wait': workloadWait } },
  { kind: 'secrets', target: 'none', messages: { 'secrets.add': secretsAdd, 'secrets.remove': secretsRemove, 'secrets.list': secretsList } },
  { kind: 'cluster', target: 'none', messages: { 'cluster.new': clusterNew, 'cluster.join': clusterJoin, 'cluster.token': clusterToken, 'cluster.info': clusterInfo, 'cluster.peers': clusterPeers, 'cluster.exit': clusterExit, 'cluster.peer-tags': clusterPeerTags, 'cluster.grow': clusterGrow, 'cluster.shrink': clusterShrink, 'cluster.events': clusterEvents } },
]

/** Every message of the catalogue, typed (the dispatcher switches on `type`). */
export type CatalogueMessage =
  | Infer<typeof peerPing> | Infer<typeof peerVersion> | Infer<typeof peerStatus>
  | Infer<typeof templatesLoad> | Infer<typeof templatesList> | Infer<typeof templatesDump> | Infer<typeof templatesInfo>
  | Infer<typeof workloadsRun> | Infer<typeof workloadsUpdate> | Infer<typeof workloadsStop> | Infer<typeof workloadsPurge> | Infer<typeof workloadsRestart> | Infer<typeof workloadsPs>
  | Infer<typeof workloadDescribe> | Infer<typeof workloadActions> | Infer<typeof workloadDo> | Infer<typeof workloadLogs> | Infer<typeof workloadExec> | Infer<typeof workloadWait>
  | Infer<typeof secretsAdd> | Infer<typeof secretsRemove> | Infer<typeof secretsList>
  | Infer<typeof clusterNew> | Infer<typeof clusterJoin> | Infer<typeof clusterToken> | Infer<typeof clusterInfo> | Infer<typeof clusterPeers>
  | Infer<typeof clusterExit> | Infer<typeof clusterPeerTags> | Infer<typeof clusterGrow> | Infer<typeof clusterShrink> | Infer<typeof clusterEvents>
