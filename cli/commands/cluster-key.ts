// `monk cluster rotate-key`: a new cluster key, sealed by the daemon for each admitted peer
// (mesh/rekey.ts). Every admitted peer that is up switches to it a few seconds later and closes
// its old-key connections; removed peers, peers never admitted and old tokens are cut off.
import type { Command } from 'commander'
import type { ClusterReplies } from '../../actors/messages/cluster.js'
import { printJson } from '../output.js'
import { session, type Session } from './session.js'

/** Tells what a rotation did (also used by `peer-remove --rotate`). */
export function rotated (s: Session, r: ClusterReplies['cluster.rotate-key']): void {
  const inSec = Math.max(0, Math.round((r.switchAt - Date.now()) / 1000))
  s.note(`Rotated the cluster key (epoch ${r.epoch}): sealed for ${r.sealedFor.length} admitted peer${r.sealedFor.length === 1 ? '' : 's'}; they switch to it in ${inSec} s and close their old-key connections. Removed peers, peers never admitted and every older token can no longer connect; make new tokens with monk cluster token`)
  if (r.skipped.length) s.note(`warning: ${r.skipped.join(', ')} ${r.skipped.length === 1 ? 'is admitted but publishes' : 'are admitted but publish'} no seal key: cut off too; bring them back with a fresh token (monk daemon stop; monk cluster join --join-file FILE on each)`)
  if ((r.secrets ?? 0) > 0) s.note(`warning: ${r.secrets} secret${r.secrets === 1 ? ' is' : 's are'} still sealed the old way, under the cluster key (written by an older monk and not yet re-sealed under the data key): after this rotation no monkd started later can open or re-seal ${r.secrets === 1 ? 'it' : 'them'}; add ${r.secrets === 1 ? 'it' : 'them'} again with monk secrets add`)
  s.note('A peer that is down now cannot reconnect with the old key: on it, run monk daemon stop, then monk cluster join --join-file FILE with a fresh token (it keeps its id, role and data)')
}

export async function rotateKey (_opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const r = await s.request('peer', { type: 'cluster.rotate-key' })
  if (s.json) { printJson(r); return }
  rotated(s, r)
}
