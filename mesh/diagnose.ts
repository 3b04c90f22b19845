// Diagnosis of connections (fault injection's `fault.read`, chaos histories): every libp2p
// connection of this peer with its streams, and the yamux muxer's own counters, read by name (they
// are not part of libp2p's interface; absent fields are left out), to tell a stalled stream window
// from a muxer that stopped. Never used for decisions.
import type { Connection, Stream } from '@libp2p/interface'
import type { MeshNode } from './node.js'

/** One libp2p connection as `testing.connections()` reports it. */
export interface ConnectionView { peer: string; status: string; direction: string; ageMs: number; streams: string[]; muxer: Record<string, number | boolean | string> }

function muxerView (c: Connection): Record<string, number | boolean | string> {
  const m = (c as unknown as { muxer?: Record<string, unknown> }).muxer
  const out: Record<string, number | boolean | string> = {}
  if (m === undefined) return out
  for (const [k, v] of Object.entries(m)) if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') out[k] = v
  const aborted = (m.closeController as AbortController | undefined)?.signal.aborted
  if (aborted !== undefined) out.closed = aborted
  return out
}

function muxWindows (s: Stream): string {
  const y = s as unknown as { state?: unknown; sendWindowCapacity?: unknown; recvWindowCapacity?: unknown }
  return typeof y.sendWindowCapacity === 'number' ? ` st${String(y.state)} send ${y.sendWindowCapacity} recv ${String(y.recvWindowCapacity)}` : ''
}

/** Every connection `node` holds, for diagnosis. */
export function connectionViews (node: MeshNode): ConnectionView[] {
  return node.getConnections().map(c => ({
    peer: c.remotePeer.toString(),
    status: c.status,
    direction: c.direction,
    ageMs: Math.round(Date.now() - c.timeline.open),
    streams: c.streams.map(s => `${s.direction === 'inbound' ? 'in' : 'out'} ${s.protocol ?? '?'} ${s.status}/${s.writeStatus}/${s.readStatus}${muxWindows(s)}`),
    muxer: muxerView(c),
  }))
}
