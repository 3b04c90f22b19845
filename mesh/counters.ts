// Counters of what the mesh did and refused, exposed by Mesh.counters() (monotonic since start).
import type { RejectReason } from './errors.js'

export interface MeshCounters {
  /** Local writes (put/delete) applied. */
  localWrites: number
  /** Gossip deltas published / entries in them / publish calls that failed. */
  deltasPublished: number
  entriesPublished: number
  publishErrors: number
  /** Gossip deltas received (before validation) and accepted. */
  deltasReceived: number
  deltasAccepted: number
  /** Received messages (gossip or sync) refused, by reason. Never applied. */
  rejectedMalformed: number
  rejectedOversized: number
  rejectedOwner: number
  rejectedSkew: number
  /** Received entries refused because their writer holds its quota of entries or bytes here. */
  rejectedQuota: number
  /** Received entries whose writer's signature is missing or wrong (gossip: the whole delta; sync: the entry). */
  rejectedSignature: number
  /** Received entries refused because their writer's role does not allow the key (roles.ts), gossip and sync. */
  rejectedRole: number
  /** Switches to a rotated cluster key (rekey.ts): each closed this peer's old-key connections. */
  keySwitches: number
  /** Sync entries refused as possibly deleted and purged here (older than the purge horizon, key absent). */
  rejectedStale: number
  /** Gossip deltas discarded by the test drop hook before validation. */
  droppedByTestHook: number
  /** Remote entries that won LWW and were applied (gossip + sync). */
  remoteEntriesApplied: number
  /** Anti-entropy exchanges completed / failed, and entries they carried each way. */
  syncCompleted: number
  syncFailed: number
  syncEntriesSent: number
  syncEntriesReceived: number
  /** Sync exchanges ended because the other side sent more than maxSyncExchangeEntries. */
  syncOverLimit: number
  /** Requests answered at once with an error because too many were open (per peer or in all). */
  requestsRefused: number
  /** Tombstones purged. */
  tombstonesPurged: number
  /** SWIM messages sent and received (valid ones; malformed ones count under rejectedMalformed). */
  swimSent: number
  swimReceived: number
  /** SWIM messages sent, by why (swim.ts SendKind): swimSent is their sum. */
  swimSentProbe: number
  swimSentConfirm: number
  swimSentAck: number
  swimSentPingReq: number
  swimSentRelay: number
  swimSentRelayAck: number
  swimSentNack: number
  swimSentDeadPing: number
  swimSentTell: number
  swimSentRefute: number
  swimSentSuspect: number
  swimSentGossip: number
  swimSentView: number
  swimSentLeave: number
  swimSentAnnounce: number
  /** SWIM frames dropped because the stream to their peer was still opening or stopped draining with 32 frames queued. */
  swimDropped: number
  /** Dials started by the pool (on demand and its own), failed ones, and on-demand dials refused at once because too many were in flight (dialer.ts maxDials). */
  dialsStarted: number
  dialsFailed: number
  dialsBusy: number
  /** Pings sent (probes, indirect probes for others, confirmations), and dials for them refused. */
  probes: number
  probesRefused: number
  /** Times a peer became suspect in this view. */
  suspicions: number
  /** Suspicions this peer raised or confirmed from its own failed probes or refused dials. */
  suspicionsRaised: number
  /** Exceptions thrown by onChange / onPeerUp / onPeerDown listeners (swallowed). */
  listenerErrors: number
  /** Store writes that failed (remote applies; local writes reject their promise instead). */
  storeErrors: number
}

export function newCounters (): MeshCounters {
  return {
    localWrites: 0,
    deltasPublished: 0,
    entriesPublished: 0,
    publishErrors: 0,
    deltasReceived: 0,
    deltasAccepted: 0,
    rejectedMalformed: 0,
    rejectedOversized: 0,
    rejectedOwner: 0,
    rejectedSkew: 0,
    rejectedSignature: 0,
    rejectedQuota: 0,
    rejectedStale: 0,
    rejectedRole: 0,
    keySwitches: 0,
    droppedByTestHook: 0,
    remoteEntriesApplied: 0,
    syncCompleted: 0,
    syncFailed: 0,
    syncEntriesSent: 0,
    syncEntriesReceived: 0,
    syncOverLimit: 0,
    requestsRefused: 0,
    tombstonesPurged: 0,
    swimSent: 0,
    swimReceived: 0,
    swimSentProbe: 0,
    swimSentConfirm: 0,
    swimSentAck: 0,
    swimSentPingReq: 0,
    swimSentRelay: 0,
    swimSentRelayAck: 0,
    swimSentNack: 0,
    swimSentDeadPing: 0,
    swimSentTell: 0,
    swimSentRefute: 0,
    swimSentSuspect: 0,
    swimSentGossip: 0,
    swimSentView: 0,
    swimSentLeave: 0,
    swimSentAnnounce: 0,
    swimDropped: 0,
    dialsStarted: 0,
    dialsFailed: 0,
    dialsBusy: 0,
    probes: 0,
    probesRefused: 0,
    suspicions: 0,
    suspicionsRaised: 0,
    listenerErrors: 0,
    storeErrors: 0,
  }
}

/** Counts a refused message under its reason. */
export function countRejection (c: MeshCounters, reason: RejectReason): void {
  switch (reason) {
    case 'malformed': c.rejectedMalformed++; break
    case 'oversized': c.rejectedOversized++; break
    case 'owner': c.rejectedOwner++; break
    case 'skew': c.rejectedSkew++; break
    case 'signature': c.rejectedSignature++; break
  }
}
