// The run summary tree of spec §4.1, built from the daemon's `Describe` replies (typed in
// actors/messages/workload.ts; the CLI reads them as they are): path → peer → container → image,
// and the instance's published ports under its first container (a host process under the process runtime).
import type { ConnectionInfo, Describe, PortRow, VolumeRow } from '../api/messages.js'
import { renderTree, type TreeNode } from './tree.js'

export interface SummaryStyle {
  /** Emoji markers (a terminal with decoration on) or words (pipes, --no-color). */
  readonly fancy: boolean
  /** Colours a status word. */
  readonly status: (s: string) => string
}

const marks = {
  path: ['🔩 ', ''], peer: ['🧊 Peer ', 'peer '], container: ['📦 ', 'container '], image: ['🧩 ', 'image '], process: ['⚙️ ', 'process '],
  port: ['🔌 open ', 'port '], connection: ['🔗 ', 'connection '], volume: ['💾 ', 'volume '], event: ['📣 ', 'event '], error: ['❗ ', 'error: '], waiting: ['⏳ ', 'waiting for '],
} as const

export function portText (p: PortRow): string {
  return `${p.host}:${p.port} (service ${p.service})`
}

/** `db → 127.0.0.1:40123 → ns/db on p2 (open, 1.2 KiB in, 300 B out)`. */
export function connectionText (c: ConnectionInfo): string {
  const where = c.peer !== '' ? ` on ${c.peerName !== undefined && c.peerName !== '' ? c.peerName : short(c.peer)}` : ''
  return `${c.name} ${c.endpoint} → ${c.target}${where} (${c.state}${c.path !== undefined ? ` via ${c.path}` : ''}, ${bytes(c.bytesIn)} in, ${bytes(c.bytesOut)} out${c.state === 'failing' && c.lastError !== undefined ? `: ${c.lastError}` : ''})`
}

function bytes (n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`
}

export function volumeText (v: VolumeRow): string {
  return `${v.name} ${v.host}${v.size !== null ? ` (${v.size} GB)` : ''}`
}

/** One tree per instance: the instance path, its peer, then each container with its image; ports under the first. */
export function summaryNodes (replies: readonly Describe[], style: SummaryStyle): TreeNode[] {
  const m = (k: keyof typeof marks): string => marks[k][style.fancy ? 0 : 1]
  return replies.map(r => {
    const peer = r.peerName !== null && r.peerName !== '' ? r.peerName : (r.peer ?? '?')
    const peerLabel = `${m('peer')}${peer}${r.peer !== null && r.peerName !== null && r.peerName !== '' && r.peer !== r.peerName ? ` (${short(r.peer)})` : ''}`
    // the process runtime runs host processes: no container, and the image is not used
    const host = r.runtime === 'process'
    const containers: TreeNode[] = r.containers.map((c, i) => ({
      label: `${m(host ? 'process' : 'container')}${c.name}${c.status !== '' ? `  ${style.status(c.status)}` : ''}`,
      children: [
        ...(c.image !== '' && !host ? [{ label: `${m('image')}${c.image}` }] : []),
        ...(r.volumes ?? []).filter(v => v.mounts.some(x => x.startsWith(`${c.name}:`))).map(v => ({ label: `${m('volume')}${volumeText(v)} → ${v.mounts.filter(x => x.startsWith(`${c.name}:`)).map(x => x.slice(c.name.length + 1)).join(', ')}` })),
        ...(i === 0 ? r.ports.map(p => ({ label: `${m('port')}${portText(p)}` })) : []),
      ],
    }))
    const extra: TreeNode[] = [
      // volumes kept while no container mounts them (a stopped instance)
      ...(r.containers.length === 0 ? (r.volumes ?? []).map(v => ({ label: `${m('volume')}${volumeText(v)}` })) : []),
      ...(r.connections ?? []).map(c => ({ label: `${m('connection')}${connectionText(c)}` })),
      ...(r.waiting !== null && r.waiting !== '' && r.status !== 'running' ? [{ label: `${m('waiting')}${r.waiting}` }] : []),
      ...(r.error !== null && r.error !== '' ? [{ label: `${m('error')}${r.error}` }] : []),
      ...(r.events ?? []).map(e => ({ label: `${m('event')}${e.time} ${e.message}` })),
    ]
    const status = r.status !== null ? `  ${style.status(r.status)}` : ''
    return { label: `${m('path')}${r.instance}${status}`, children: [{ label: peerLabel, children: [...containers, ...extra] }] }
  })
}

export function renderSummary (replies: readonly Describe[], style: SummaryStyle): string {
  return renderTree(summaryNodes(replies, style))
}

/** A peer id shortened for display (libp2p ids are 52 characters). */
export function short (id: string): string {
  return id.length > 16 ? `${id.slice(0, 6)}…${id.slice(-6)}` : id
}
