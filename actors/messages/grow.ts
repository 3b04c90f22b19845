// Events of a followed `cluster.grow` / `cluster.shrink` / `cluster.peer-remove`: the daemon watches
// the node records and streams one event per change until every machine is settled (joined or gone,
// or failed and cleaned up).
import type { NodeRow } from '../cloud-manager.js'

export type GrowEvent =
  | { event: 'accepted', nodes: string[], growId: string, skipped?: Array<{ name: string, reason: string }> }
  | { event: 'node', row: NodeRow }
  | { event: 'done', rows: NodeRow[] }
  | { event: 'failed', code: 'timeout', message: string, rows: NodeRow[] }
