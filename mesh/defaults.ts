// Every tunable of the mesh in one place, each with the reason for its value.

/** Protocol and topic names. Versioned: a breaking wire change gets a new number, never an edit. */
export const protocols = {
  /** Anti-entropy streams (DESIGN §3). */
  sync: '/monk/sync/1',
  /** Gossipsub topic of replica deltas, per cluster so two clusters never mix state. */
  stateTopic: (clusterId: string): string => `/monk/${clusterId}/state/1`,
  /** Idle-bye notices before a connection is closed for idleness, per cluster (dialer.ts). */
  conn: (clusterId: string): string => `/monk/${clusterId}/conn/1`,
  /** Direct heartbeat streams, per cluster (DESIGN §4). */
  heartbeat: (clusterId: string): string => `/monk/${clusterId}/hb/1`,
} as const

export const defaults = {
  // ---- replica and codec ----
  /** Longest key in UTF-8 bytes: keys are paths like `status/<ns>/<name>/<peerId>`; 1 KiB is far above any real one. */
  maxKeyBytes: 1024,
  /** Largest encoded entry (key + HLC + value). Templates with their compiled tree are the biggest values (tens of KiB); 512 KiB leaves room and still fits a gossip message. */
  maxEntryBytes: 512 * 1024,
  /** Largest gossip delta we publish or accept. Twice an entry, so one maximal entry always fits a batch. */
  maxDeltaBytes: 1024 * 1024,
  /** Entries per gossip delta: bounds the work one message can cause on every peer. */
  maxDeltaEntries: 4096,
  /** Deepest nesting accepted in a value: real values are JSON-like documents a few levels deep; this stops recursion bombs. */
  maxValueDepth: 32,
  /** How far ahead of our wall clock a remote HLC may be before we refuse it: one peer with a broken clock must not drag every HLC into the future. */
  maxClockSkewMs: 60_000,

  // ---- gossip ----
  /** Delay before a batch of local writes is published (DESIGN §3 says at most 20 ms). 5 ms coalesces bursts while keeping write-to-visible latency low. */
  gossipBatchMs: 5,

  // ---- anti-entropy ----
  /** Buckets of the digest: 256 × 8-byte hashes = 2 KiB digest, only sent when the 16-byte roots differ. */
  syncBuckets: 256,
  /** Period of anti-entropy with one random live peer. Repairs lost gossip within a few seconds while the idle cost stays a root exchange. */
  syncIntervalMs: 3000,
  /** Random spread of the period (±fraction) so peers do not sync in lock-step. */
  syncJitter: 0.3,
  /** Largest frame on a sync stream; entries are chunked well below it. */
  maxSyncFrameBytes: 4 * 1024 * 1024,
  /** Target size of one chunk of entries in a sync frame. */
  syncChunkBytes: 512 * 1024,
  /** A sync exchange that takes longer is aborted: even a full sync of 100k entries on loopback takes a few seconds. */
  syncTimeoutMs: 30_000,

  // ---- tombstones ----
  /** A tombstone is kept at least this long, so gossip and the next anti-entropy rounds spread it before anyone may purge it. */
  tombstoneMinAgeMs: 60_000,
  /** After this long a tombstone is purged even if some peer never acknowledged it (DESIGN §3: 7 days). */
  tombstoneTtlMs: 7 * 24 * 3600_000,
  /** How often tombstones are checked for purge. */
  purgeIntervalMs: 60_000,

  // ---- membership ----
  /** Heartbeat period (DESIGN §4). */
  heartbeatIntervalMs: 500,
  /** φ above which a silent peer is declared dead. With the spread below, a peer is declared dead after roughly 3 s of silence: well above event-loop stalls of a loaded 2-core host, still fast. */
  phiThreshold: 8,
  /** Samples of inter-arrival times kept per peer. */
  phiWindow: 100,
  /** Floor of the standard deviation: on loopback the measured spread is ~1 ms, which would make φ explode on the first delayed beat. */
  phiMinStdDevMs: 250,
  /** Pause on top of the mean that is still normal (GC, a busy event loop) before φ starts to rise steeply. */
  phiAcceptablePauseMs: 1000,
  /** A libp2p disconnect triggers a direct ping with this timeout: a dead process on the same host refuses at once, a dead host is caught by φ anyway. */
  probeTimeoutMs: 2000,
  /** Attempts of the direct ping after a disconnect before the peer is declared dead (one retry rides out a connection that was being replaced). */
  probeAttempts: 2,
  /** How often liveness is evaluated (φ checks). 100 ms bounds the added detection delay. */
  livenessTickMs: 100,

  // ---- connections (dialer.ts; DESIGN §4 "connections are bounded") ----
  /** Maintenance pass of the connection pool: refill to the target, retry one down peer, close idle connections. */
  dialIntervalMs: 1000,
  /** Connections a peer dials on its own to random members. Gossipsub needs Dlo..Dhi (3..6, node.ts) connected subscribers for its mesh; 6 = Dhi lets our own dials fill the whole mesh, and other peers' dials add about as many inbound ones. */
  connTarget: 6,
  /** Above this many connections, those outside the gossipsub mesh and unused for connIdleMs are closed (oldest use first). Twice the target: with everyone dialing `connTarget`, a peer holds about that many outbound plus as many inbound connections, so closing starts only above what the fill itself produces and does not churn. */
  connMax: 12,
  /** A connection outside the gossipsub mesh unused this long (no probe, sync or request) may be closed. Re-opening one costs ~3 KB of handshakes (pnet, Noise, identify, gossipsub hello) while an idle open connection costs nothing on the wire, so keep it long compared with the probe and sync periods. */
  connIdleMs: 30_000,
  /** How often one peer believed down is dialed again: a healed partition reconnects within a few of these. */
  connDownRetryMs: 2000,
  /** First retry delay after a failed dial; doubles up to the maximum. */
  dialBackoffMinMs: 250,
  /** Longest retry delay: bounds how long a healed partition waits before reconnecting. */
  dialBackoffMaxMs: 5000,
  /** A dial that takes longer fails: real dials finish in milliseconds on a LAN and well under a second across clouds; a dial with a wrong cluster key can hang (stack notes §2.4.10). */
  connDialTimeoutMs: 3000,
  /** Timeout of a request on an extra protocol (`request()`). */
  requestTimeoutMs: 10_000,
  /** Largest request or response frame on extra protocols. */
  maxRequestBytes: 16 * 1024 * 1024,
} as const

export type MeshDefaults = typeof defaults
