// The run summary tree of spec §4.1, built from `runnable.describe` answers:
// path → peer → container → image, volumes (host -> container), open ports.
import { renderTree, type TreeNode } from './tree.js'

/** What the CLI reads from a `runnable.describe` reply (extra fields are ignored). */
export interface DescribeReply {
  instance: string
  path?: string
  peer?: string
  peerName?: string
  status?: string
  error?: string
  /** What the instance waits for, when it is not running yet (`depends guestbook/store`, `readiness`). */
  waiting?: string
  containers?: DescribedContainer[]
}

export interface DescribedContainer {
  name: string
  image?: string
  status?: string
  volumes?: Array<string | VolumeRef>
  ports?: Array<number | string | PortRef>
}

export interface VolumeRef { host?: string, source?: string, container?: string, target?: string, path?: string }
export interface PortRef { host?: string, hostPort?: number, port?: number, container?: number, containerPort?: number, protocol?: string, service?: string }

/**
 * A `runnable.describe` reply in the CLI's terms. monkd answers `{instance, template, state, peer,
 * peerName, status: {state, containers, services, ready, error} | null}`; flat replies (a PsRow)
 * pass through. Published services become the open ports; what a starting instance waits for is
 * read from how far it got (no containers yet: depends and images; containers but not ready: readiness).
 */
export function normaliseDescribe (raw: unknown, instance: string): DescribeReply {
  const r = (raw ?? {}) as Record<string, unknown>
  const str = (v: unknown): string | undefined => typeof v === 'string' && v !== '' ? v : undefined
  const out: DescribeReply = { instance: str(r.instance) ?? instance }
  const peer = str(r.peer)
  const peerName = str(r.peerName)
  if (peer !== undefined) out.peer = peer
  if (peerName !== undefined) out.peerName = peerName
  const st = r.status
  if (st !== null && typeof st === 'object') {
    const s = st as { state?: unknown, containers?: unknown, services?: unknown, ready?: unknown, error?: unknown }
    const state = str(s.state)
    if (state !== undefined) out.status = r.state === 'stop' ? 'stopped' : state
    const containers = Array.isArray(s.containers) ? s.containers as DescribedContainer[] : []
    const ports: PortRef[] = s.services !== null && typeof s.services === 'object'
      ? Object.entries(s.services as Record<string, { host?: string, port?: number }>).map(([name, e]) => ({ host: e.host, port: e.port, service: name })) as PortRef[]
      : []
    out.containers = containers.map((c, i) => ({ name: c.name, ...(c.image !== undefined ? { image: c.image } : {}), ...(c.status !== undefined ? { status: c.status } : {}), ...(i === 0 && ports.length ? { ports } : {}) }))
    const error = str(s.error)
    if (error !== undefined) out.error = error
    if (state === 'starting') out.waiting = containers.length === 0 ? 'its depends and images' : 'its readiness check'
  } else {
    const status = str(st) ?? (r.state === 'stop' ? 'stopped' : peer === undefined ? 'not placed' : undefined)
    if (status !== undefined) out.status = status
    if (Array.isArray(r.containers)) out.containers = r.containers as DescribedContainer[]
    const error = str(r.error)
    if (error !== undefined) out.error = error
    const waiting = str(r.waiting)
    if (waiting !== undefined) out.waiting = waiting
  }
  return out
}

export interface SummaryStyle {
  /** Emoji markers (a terminal with decoration on) or words (pipes, --no-color). */
  readonly fancy: boolean
  /** Colours a status word. */
  readonly status: (s: string) => string
}

const marks = {
  path: ['🔩 ', ''], peer: ['🧊 Peer ', 'peer '], container: ['📦 ', 'container '], image: ['🧩 ', 'image '],
  volume: ['💾 ', 'volume '], port: ['🔌 open ', 'port '], error: ['❗ ', 'error: '], waiting: ['⏳ ', 'waiting for '],
} as const

export function volumeText (v: string | VolumeRef): string {
  if (typeof v === 'string') return v
  const host = v.host ?? v.source ?? '?'
  const inside = v.container ?? v.target ?? v.path ?? '?'
  return `${host} -> ${inside}`
}

export function portText (p: number | string | PortRef): string {
  if (typeof p === 'number' || typeof p === 'string') return String(p)
  const host = p.host ?? '127.0.0.1'
  if (p.service !== undefined) return `${host}:${p.port ?? p.hostPort ?? '?'} (service ${p.service})`
  const hostPort = p.hostPort ?? p.port ?? p.containerPort ?? p.container
  const inside = p.containerPort ?? p.container ?? hostPort
  const proto = p.protocol !== undefined && p.protocol !== 'tcp' ? `/${p.protocol}` : ''
  return `${host}:${hostPort ?? '?'} -> ${inside ?? '?'}${proto}`
}

/** One tree per instance: the instance path, its peer, then each container with image, volumes and ports. */
export function summaryNodes (replies: readonly DescribeReply[], style: SummaryStyle): TreeNode[] {
  const m = (k: keyof typeof marks): string => marks[k][style.fancy ? 0 : 1]
  return replies.map(r => {
    const peer = r.peerName !== undefined && r.peerName !== '' ? r.peerName : (r.peer ?? '?')
    const peerLabel = `${m('peer')}${peer}${r.peer !== undefined && r.peerName !== undefined && r.peerName !== '' && r.peer !== r.peerName ? ` (${short(r.peer)})` : ''}`
    const containers: TreeNode[] = (r.containers ?? []).map(c => ({
      label: `${m('container')}${c.name}${c.status !== undefined ? `  ${style.status(c.status)}` : ''}`,
      children: [
        ...(c.image !== undefined ? [{ label: `${m('image')}${c.image}` }] : []),
        ...(c.volumes ?? []).map(v => ({ label: `${m('volume')}${volumeText(v)}` })),
        ...(c.ports ?? []).map(p => ({ label: `${m('port')}${portText(p)}` })),
      ],
    }))
    const extra: TreeNode[] = [
      ...(r.waiting !== undefined && r.waiting !== '' && r.status !== 'running' ? [{ label: `${m('waiting')}${r.waiting}` }] : []),
      ...(r.error !== undefined && r.error !== '' ? [{ label: `${m('error')}${r.error}` }] : []),
    ]
    const status = r.status !== undefined ? `  ${style.status(r.status)}` : ''
    return { label: `${m('path')}${r.path ?? r.instance}${status}`, children: [{ label: peerLabel, children: [...containers, ...extra] }] }
  })
}

export function renderSummary (replies: readonly DescribeReply[], style: SummaryStyle): string {
  return renderTree(summaryNodes(replies, style))
}

/** A peer id shortened for display (libp2p ids are 52 characters). */
export function short (id: string): string {
  return id.length > 16 ? `${id.slice(0, 6)}…${id.slice(-6)}` : id
}
