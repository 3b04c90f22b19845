// The cloud messages, answered by this peer's CloudManager (whose node actors do the work). A
// followed grow streams one event per node change until every machine joined, is gone, or failed
// and was cleaned up (or, for shrink and peer-remove, is gone) — so those commands send one
// request and only render.
import type { Mesh } from '../../mesh/mesh.js'
import type { CloudManager, NodeRow } from '../cloud-manager.js'
import { BOOT_TIMEOUT_MS } from '../cloud/defaults.js'
import type { Scheduler } from '../kit/clock.js'
import type { GrowEvent } from '../messages/grow.js'
import type { Handlers } from '../messages/index.js'

/** Slack over the grow timeout while following: the create step and the cleanup of a failure. */
const FOLLOW_SLACK_MS = 6 * 60_000
/** Fallback re-check when no node record changes (a joined peer's liveness comes from heartbeats). */
const RECHECK_MS = 500

export const settled = (r: NodeRow): boolean => r.state === 'joined' || r.state === 'gone' || (r.state === 'failed' && r.cleanup !== 'pending')
/** A machine being terminated is done when gone, or failed. */
const ended = (r: NodeRow): boolean => r.state === 'gone' || r.state === 'failed'

export function cloudHandlers (cm: CloudManager, mesh: Mesh, clock: Scheduler): Handlers<'cloud'> {
  return {
    'cluster.grow': async (m, ctx) => {
      const { follow, ...req } = m
      const { type: _type, ...grow } = req
      const reply = await cm.grow(grow)
      if (follow !== true) return reply
      return followNodes(cm, mesh, clock, reply, (m.growTimeout !== undefined ? m.growTimeout * 60_000 : BOOT_TIMEOUT_MS) + FOLLOW_SLACK_MS, settled, ctx.signal)
    },
    'cluster.nodes': m => Promise.resolve(cm.nodes(m.names)),
    'cluster.shrink': async (m, ctx) => {
      const { type: _type, follow, ...req } = m
      const reply = await cm.shrink(req)
      return follow === true ? followNodes(cm, mesh, clock, { nodes: reply.nodes, growId: '', skipped: reply.skipped }, FOLLOW_SLACK_MS, ended, ctx.signal) : reply
    },
    'cluster.peer-remove': async (m, ctx) => {
      const { type: _type, follow, ...req } = m
      const reply = await cm.peerRemove(req)
      return follow === true ? followNodes(cm, mesh, clock, { nodes: reply.nodes, growId: '' }, FOLLOW_SLACK_MS, ended, ctx.signal) : reply
    },
    'cluster.providers': () => Promise.resolve(cm.providersList()),
    'cluster.provider-add': m => cm.providerAdd(m.kind, m.credentials, m.options ?? {}),
  }
}

async function * followNodes (cm: CloudManager, mesh: Mesh, clock: Scheduler, grown: { nodes: string[], growId: string, skipped?: Array<{ name: string, reason: string }> }, timeoutMs: number, done: (r: NodeRow) => boolean, signal: AbortSignal): AsyncGenerator<GrowEvent> {
  yield { event: 'accepted', nodes: grown.nodes, growId: grown.growId, ...(grown.skipped ? { skipped: grown.skipped } : {}) }
  const bell: { wake: (() => void) | null } = { wake: null }
  const ring = (): void => { const w = bell.wake; bell.wake = null; w?.() }
  const off = mesh.onChange('node/', ring)
  signal.addEventListener('abort', ring, { once: true })
  const deadline = clock.now() + timeoutMs
  const last = new Map<string, string>()
  try {
    while (!signal.aborted) {
      const rows = cm.nodes(grown.nodes)
      for (const r of rows) {
        const key = `${r.state}\u0000${r.cloudId ?? ''}\u0000${r.warning ?? ''}\u0000${r.cleanup}\u0000${String(r.alive)}`
        if (last.get(r.name) !== key) { last.set(r.name, key); yield { event: 'node', row: r } }
      }
      if (rows.length === grown.nodes.length && rows.every(done)) { yield { event: 'done', rows }; return }
      if (clock.now() > deadline) {
        yield { event: 'failed', code: 'timeout', message: `gave up waiting after ${Math.round(timeoutMs / 1000)} s: ${rows.filter(r => !done(r)).map(r => `${r.name} is ${r.state}`).join(', ')} (monkd keeps going; follow with monk cluster nodes)`, rows }
        return
      }
      await new Promise<void>(resolve => { bell.wake = resolve; clock.setTimeout(ring, RECHECK_MS) })
    }
  } finally {
    off()
    signal.removeEventListener('abort', ring)
  }
}
