// Build a ContainerSpec from a MonkScript container (spec §2.7.1, values already evaluated):
// every field a runtime can honour is parsed and validated; the others are reported, not dropped.
import { createHash } from 'node:crypto'
import { InvalidSpecError } from './errors.js'
import { LABEL_CONTAINER, LABEL_INSTANCE, LABEL_PEER } from './runtime.js'
import type { ContainerSpec, FieldNote, Labels, Mount, PortMapping, RestartPolicy, Ulimit } from './runtime.js'
import { ShellWordsError, shellWords } from './shell-words.js'

/** Container fields the runnable actor handles itself (files written, hooks run); the builder leaves them alone. */
export const ACTOR_FIELDS: readonly string[] = ['hooks', 'files']

/** Resource names Docker (and prlimit) accept in `ulimits`. */
export const ULIMIT_NAMES: readonly string[] = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']

export interface ContainerIdentity {
  /** Instance path, e.g. `ns/app` (or `ns/app@2` for a replica). */
  instance: string
  /** Key of the container in the runnable's `containers`. */
  container: string
  /** Peer id of the daemon that runs it. */
  peer: string
  /** Runtime name; default derived from instance and container (see containerName). */
  name?: string
}

export interface BuiltSpec {
  spec: ContainerSpec
  /** Fields present in the template that the spec does not carry, with why. */
  notes: FieldNote[]
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/

/**
 * Runtime name of a container: readable (`monk-ns-app-web`) and unique (a hash of instance and
 * container, so `a/b-c` and `a-b/c` differ), at most 63 characters so it is also a valid hostname.
 */
export function containerName (instance: string, container: string): string {
  const hash = createHash('sha256').update(`${instance}\0${container}`).digest('hex').slice(0, 8)
  const readable = `${instance}-${container}`.replace(/[^a-zA-Z0-9_.-]+/g, '-').replace(/^[-_.]+/, '').slice(0, 45).replace(/[-_.]+$/, '')
  return `monk-${readable}-${hash}`
}

export function validName (name: string): boolean {
  return NAME_RE.test(name) && name.length <= 128
}

/** `image` with `image-tag` applied: the tag replaces one inside the image; no tag at all means `latest`. */
export function imageRef (image: string, tag?: string): string {
  const at = image.indexOf('@')
  if (at >= 0) return image // pinned by digest: a tag cannot change it (the builder notes an ignored image-tag)
  const slash = image.lastIndexOf('/')
  const colon = image.lastIndexOf(':')
  const repo = colon > slash ? image.slice(0, colon) : image
  const own = colon > slash ? image.slice(colon + 1) : undefined
  return `${repo}:${tag ?? own ?? 'latest'}`
}

function port (n: string, field: string, ctx: string): number {
  if (!/^\d+$/.test(n)) throw new InvalidSpecError(field, `'${n}' is not a port number${n.includes('-') ? ' (port ranges are not supported)' : ''}`, { container: ctx })
  const v = Number(n)
  if (v < 1 || v > 65535) throw new InvalidSpecError(field, `port ${v} is out of range 1-65535`, { container: ctx })
  return v
}

/** `8080` (same port on host and container), `8080:80`, `127.0.0.1:8080:80`, `[::1]:8080:80`, each with an optional `/udp` or `/tcp`. */
export function parsePort (text: string, field = 'ports', ctx = ''): PortMapping {
  let s = text.trim()
  let protocol: 'tcp' | 'udp' = 'tcp'
  const slash = s.lastIndexOf('/')
  if (slash >= 0) {
    const p = s.slice(slash + 1).toLowerCase()
    if (p !== 'tcp' && p !== 'udp') throw new InvalidSpecError(field, `protocol '${p}' in '${text}' is not tcp or udp`, { container: ctx })
    protocol = p
    s = s.slice(0, slash)
  }
  let hostIp: string | undefined
  if (s.startsWith('[')) {
    const end = s.indexOf(']')
    if (end < 0 || s[end + 1] !== ':') throw new InvalidSpecError(field, `'${text}' has an unclosed IPv6 address`, { container: ctx })
    hostIp = s.slice(1, end)
    s = s.slice(end + 2)
  }
  const parts = s.split(':')
  if (hostIp === undefined && parts.length === 3) hostIp = parts.shift()
  if (parts.length === 1) {
    const p = port(parts[0] as string, field, ctx)
    return { ...(hostIp ? { hostIp } : {}), hostPort: p, containerPort: p, protocol }
  }
  if (parts.length === 2) {
    return { ...(hostIp ? { hostIp } : {}), hostPort: port(parts[0] as string, field, ctx), containerPort: port(parts[1] as string, field, ctx), protocol }
  }
  throw new InvalidSpecError(field, `'${text}' is not PORT, HOST:CONTAINER or IP:HOST:CONTAINER`, { container: ctx })
}

/** `host:container` or `host:container:ro|rw`; both paths absolute. */
export function parseMount (text: string, field = 'paths', ctx = ''): Mount {
  const parts = text.split(':')
  let readOnly = false
  if (parts.length === 3) {
    const mode = parts.pop()
    if (mode !== 'ro' && mode !== 'rw') throw new InvalidSpecError(field, `mode '${mode ?? ''}' in '${text}' is not ro or rw`, { container: ctx })
    readOnly = mode === 'ro'
  }
  if (parts.length !== 2) throw new InvalidSpecError(field, `'${text}' is not HOST:CONTAINER[:ro]`, { container: ctx })
  const [hostPath, containerPath] = parts as [string, string]
  if (!hostPath.startsWith('/')) throw new InvalidSpecError(field, `host path '${hostPath}' is not absolute`, { container: ctx })
  if (!containerPath.startsWith('/')) throw new InvalidSpecError(field, `container path '${containerPath}' is not absolute`, { container: ctx })
  return { hostPath, containerPath, readOnly }
}

/** `no`, `always`, `unless-stopped`, `on-failure`, `on-failure:N`. */
export function parseRestart (text: string, field = 'restart', ctx = ''): RestartPolicy {
  const s = text.trim()
  if (s === 'no' || s === 'always' || s === 'unless-stopped' || s === 'on-failure') return { name: s }
  const m = /^on-failure:(\d+)$/.exec(s)
  if (m) return { name: 'on-failure', maxRetries: Number(m[1]) }
  throw new InvalidSpecError(field, `'${text}' is not no, always, unless-stopped or on-failure[:N]`, { container: ctx })
}

function str (v: unknown, field: string, ctx: string): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  throw new InvalidSpecError(field, `expected a string, got ${v === null ? 'null' : typeof v}`, { container: ctx })
}

/** A list field, also accepted as one string of comma/whitespace separated items (an Arrow result). */
function items (v: unknown, field: string, ctx: string, split: RegExp | null): string[] {
  if (Array.isArray(v)) return v.map((x, i) => str(x, `${field}[${i}]`, ctx))
  const s = str(v, field, ctx)
  return split ? s.split(split).filter(x => x !== '') : [s]
}

function argv (v: unknown, field: string, ctx: string): string[] {
  if (Array.isArray(v)) return v.map((x, i) => str(x, `${field}[${i}]`, ctx))
  try {
    return shellWords(str(v, field, ctx))
  } catch (err) {
    if (err instanceof ShellWordsError) throw new InvalidSpecError(field, err.message, { container: ctx, cause: err })
    throw err
  }
}

function keyValues (v: unknown, field: string, ctx: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) out[k] = str(x, `${field}.${k}`, ctx)
    return out
  }
  items(v, field, ctx, null).forEach((kv, i) => {
    const eq = kv.indexOf('=')
    if (eq <= 0) throw new InvalidSpecError(`${field}[${i}]`, `'${kv}' is not KEY=VALUE`, { container: ctx })
    out[kv.slice(0, eq)] = kv.slice(eq + 1)
  })
  return out
}

function limit (v: unknown, field: string, ctx: string): number {
  const n = typeof v === 'number' ? v : Number(str(v, field, ctx))
  if (!Number.isInteger(n) || n < -1) throw new InvalidSpecError(field, `'${String(v)}' is not an integer limit`, { container: ctx })
  return n
}

/**
 * The ContainerSpec of one MonkScript container. Throws InvalidSpecError (with the field) on a
 * value no runtime could use; returns notes for fields that are present but not carried.
 * Network: `host` unless a port needs publishing (a different host port, or a host address).
 */
export function containerSpec (fields: Record<string, unknown>, id: ContainerIdentity, opts: { network?: 'host' | 'bridge', volumes?: Readonly<Record<string, string>> } = {}): BuiltSpec {
  const ctx = `${id.instance}/${id.container}`
  const notes: FieldNote[] = []
  const name = id.name ?? containerName(id.instance, id.container)
  if (!validName(name)) throw new InvalidSpecError('name', `'${name}' is not a valid container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)`, { container: ctx })
  const known = new Set(['image', 'image-tag', 'entrypoint', 'bash', 'cmd', 'command', 'workdir', 'environment', 'ports', 'paths', 'labels', 'restart', 'cap-add', 'ulimits', 'user', 'mounted-volumes', ...ACTOR_FIELDS])

  const rawImage = fields['image'] === undefined ? '' : str(fields['image'], 'image', ctx).trim()
  const tag = fields['image-tag'] === undefined ? undefined : str(fields['image-tag'], 'image-tag', ctx).trim()
  if (tag !== undefined && rawImage.includes('@')) notes.push({ field: 'image-tag', reason: `ignored: image ${rawImage} is pinned by digest` })
  const image = rawImage === '' ? '' : imageRef(rawImage, tag)

  const spec: ContainerSpec = {
    name, image, env: {}, network: 'host', ports: [], mounts: [], restart: { name: 'no' }, capAdd: [], ulimits: [], labels: {}
  }

  if (fields['entrypoint'] !== undefined) spec.entrypoint = argv(fields['entrypoint'], 'entrypoint', ctx)
  const cmdField = fields['cmd'] !== undefined ? 'cmd' : fields['command'] !== undefined ? 'command' : undefined
  if (cmdField && fields['cmd'] !== undefined && fields['command'] !== undefined) notes.push({ field: 'command', reason: 'ignored: cmd is set too and wins' })
  if (fields['bash'] !== undefined) {
    // `bash` replaces the image command and runs through `sh -c`; an explicit entrypoint stays in front of it.
    const script = str(fields['bash'], 'bash', ctx)
    if (spec.entrypoint) spec.cmd = ['sh', '-c', script]
    else { spec.entrypoint = ['sh', '-c']; spec.cmd = [script] }
    if (cmdField) notes.push({ field: cmdField, reason: 'ignored: bash replaces the command' })
  } else if (cmdField) {
    spec.cmd = argv(fields[cmdField], cmdField, ctx)
  }

  if (fields['workdir'] !== undefined) {
    const w = str(fields['workdir'], 'workdir', ctx)
    if (!w.startsWith('/')) throw new InvalidSpecError('workdir', `'${w}' is not an absolute path`, { container: ctx })
    spec.workdir = w
  }
  if (fields['user'] !== undefined) {
    const u = str(fields['user'], 'user', ctx).trim()
    if (!/^[a-zA-Z0-9_.-]+(:[a-zA-Z0-9_.-]+)?$/.test(u)) throw new InvalidSpecError('user', `'${u}' is not USER or USER:GROUP`, { container: ctx })
    spec.user = u
  }
  if (fields['environment'] !== undefined) spec.env = keyValues(fields['environment'], 'environment', ctx)

  if (fields['ports'] !== undefined) {
    const list = items(fields['ports'], 'ports', ctx, /[\s,]+/)
    spec.ports = list.map((p, i) => parsePort(p, `ports[${i}]`, ctx))
  }
  if (fields['paths'] !== undefined) {
    items(fields['paths'], 'paths', ctx, null).forEach((p, i) => {
      if (p.startsWith('blobs://')) notes.push({ field: `paths[${i}]`, reason: `blob mounts (${p}) are not supported by the runtimes` })
      else spec.mounts.push(parseMount(p, `paths[${i}]`, ctx))
    })
  }
  if (fields['mounted-volumes'] !== undefined && fields['mounted-volumes'] !== null) spec.mounts.push(...volumeMounts(fields['mounted-volumes'], opts.volumes ?? {}, ctx))
  if (fields['restart'] !== undefined) spec.restart = parseRestart(str(fields['restart'], 'restart', ctx), 'restart', ctx)
  if (fields['cap-add'] !== undefined) {
    spec.capAdd = items(fields['cap-add'], 'cap-add', ctx, /[\s,]+/).map((c, i) => {
      const up = c.toUpperCase()
      if (!/^[A-Z_]+$/.test(up)) throw new InvalidSpecError(`cap-add[${i}]`, `'${c}' is not a capability name`, { container: ctx })
      return up === 'ALL' ? up : up.replace(/^CAP_/, '')
    })
  }
  if (fields['ulimits'] !== undefined) {
    const u = fields['ulimits']
    if (u === null || typeof u !== 'object' || Array.isArray(u)) throw new InvalidSpecError('ulimits', 'expected a map name → {soft, hard}', { container: ctx })
    for (const [n, v] of Object.entries(u)) {
      const field = `ulimits.${n}`
      if (!ULIMIT_NAMES.includes(n)) throw new InvalidSpecError(field, `'${n}' is not a known limit (${ULIMIT_NAMES.join(', ')})`, { container: ctx })
      let ul: Ulimit
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const o = v as Record<string, unknown>
        const soft = limit(o['soft'] ?? o['hard'], `${field}.soft`, ctx)
        ul = { name: n, soft, hard: limit(o['hard'] ?? soft, `${field}.hard`, ctx) }
      } else {
        const both = limit(v, field, ctx)
        ul = { name: n, soft: both, hard: both }
      }
      if (ul.hard !== -1 && (ul.soft === -1 || ul.soft > ul.hard)) throw new InvalidSpecError(field, `soft limit ${ul.soft} exceeds hard limit ${ul.hard}`, { container: ctx })
      spec.ulimits.push(ul)
    }
  }
  const labels: Labels = fields['labels'] === undefined ? {} : keyValues(fields['labels'], 'labels', ctx)
  for (const reserved of [LABEL_INSTANCE, LABEL_CONTAINER, LABEL_PEER]) {
    if (reserved in labels) notes.push({ field: 'labels', reason: `label ${reserved} is reserved for monk and was replaced` })
  }
  spec.labels = { ...labels, [LABEL_INSTANCE]: id.instance, [LABEL_CONTAINER]: id.container, [LABEL_PEER]: id.peer }

  const needsBridge = spec.ports.some(p => p.hostPort !== p.containerPort || (p.hostIp !== undefined && !['0.0.0.0', '::', ''].includes(p.hostIp)))
  spec.network = opts.network ?? (needsBridge ? 'bridge' : 'host')

  for (const key of Object.keys(fields)) {
    if (key === 'resources') notes.push({ field: 'resources', reason: 'requests are reserved by placement (a peer without room is passed over); the runtime neither limits the container nor passes devices (e.g. GPUs) to it' })
    else if (!known.has(key)) notes.push({ field: key, reason: 'not a container field monk knows; ignored' })
  }
  return { spec, notes }
}

/**
 * `mounted-volumes` (spec §2.7.1): volume-name → {path, subdir} (or just the path), each a bind of
 * the volume's host directory (`volumes`: name → host directory, resolved by the caller) or of its
 * `subdir`, at `path` in the container. An undeclared volume or a bad path is an error naming the field.
 */
export function volumeMounts (v: unknown, volumes: Readonly<Record<string, string>>, ctx: string): Mount[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidSpecError('mounted-volumes', 'expected a map volume-name → {path, subdir}', { container: ctx })
  const out: Mount[] = []
  for (const [name, raw] of Object.entries(v)) {
    const field = `mounted-volumes.${name}`
    const host = volumes[name]
    if (host === undefined) throw new InvalidSpecError(field, `volume '${name}' is not declared in the runnable's volumes${Object.keys(volumes).length ? ` (declared: ${Object.keys(volumes).join(', ')})` : ''}`, { container: ctx })
    const o: Record<string, unknown> = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw as Record<string, unknown> : { path: raw }
    const path = o['path'] === undefined || o['path'] === null ? '' : str(o['path'], `${field}.path`, ctx)
    if (!path.startsWith('/')) throw new InvalidSpecError(`${field}.path`, `'${path}' is not an absolute path in the container`, { container: ctx })
    const sub = o['subdir'] === undefined || o['subdir'] === null ? '' : str(o['subdir'], `${field}.subdir`, ctx).replace(/^\/+|\/+$/g, '')
    if (sub.split('/').some(p => p === '..')) throw new InvalidSpecError(`${field}.subdir`, `'${sub}' leaves the volume`, { container: ctx })
    out.push({ hostPath: sub === '' ? host : `${host}/${sub}`, containerPath: path, readOnly: false })
  }
  return out
}

/**
 * Fields of `spec` a runtime on the host network cannot honour: a port published under another
 * number or on one address. Shared by both runtimes' create().
 */
export function hostNetworkPortNotes (spec: ContainerSpec, why: string): FieldNote[] {
  const notes: FieldNote[] = []
  spec.ports.forEach((p, i) => {
    if (p.hostPort !== p.containerPort) notes.push({ field: `ports[${i}]`, reason: `${p.hostPort}:${p.containerPort}/${p.protocol} cannot be mapped: ${why}; the workload's port ${p.containerPort} is the host's port ${p.containerPort}` })
    else if (p.hostIp !== undefined && !['0.0.0.0', '::', ''].includes(p.hostIp)) notes.push({ field: `ports[${i}]`, reason: `binding to ${p.hostIp} only is not possible: ${why}; the workload chooses its own listen address` })
  })
  return notes
}
