// Every tunable of the mesh in one place, each with the reason for its value.

/** Protocol and topic names. Versioned: a breaking wire change gets a new number, never an edit. */
export const protocols = {
  /** Anti-entropy streams (DESIGN §3). */
  sync: '/monk/sync/1',
  /** Gossipsub topic of replica deltas, per cluster so two clusters never mix state. */
  stateTopic: (clusterId: string): string => `/monk/${clusterId}/state/1`,
  /** Idle-bye notices before a connection is closed for idleness, per cluster (dialer.ts). */
  conn: (clusterId: string): string => `/monk/${clusterId}/conn/1`,
  /** SWIM membership streams, per cluster (DESIGN §4, swim.ts). */
  swim: (clusterId: string): string => `/monk/${clusterId}/swim/1`,
  /** TCP tunnels to services on other peers (DESIGN §10, tunnel.ts). */
  tunnel: '/monk/tunnel/1',
  /** Invite redemption: a joiner asks an operator for its admission (admission.ts). */
  admit: '/monk/admit/1',
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
  /** Entries (tombstones included) one writer may hold in a replica. A peer writes its record, its claims and statuses, and an operator the templates and wants of a cluster: thousands. 100,000 is far above that and bounds what one identity can make every peer keep. */
  maxWriterEntries: 100_000,
  /** Encoded bytes one writer may hold in a replica (issue 13: 200 entries of 400 KiB took a peer from 107 to 335 MB). 64 MiB holds hundreds of the largest templates. */
  maxWriterBytes: 64 * 1024 * 1024,
  /** How far ahead of our wall clock a remote HLC may be before we refuse it: one peer with a broken clock must not drag every HLC into the future. */
  maxClockSkewMs: 60_000,

  // ---- gossip ----
  /** Delay before a batch of local writes is published (DESIGN §3 says at most 20 ms). 5 ms coalesces bursts while keeping write-to-visible latency low. */
  gossipBatchMs: 5,

  // ---- anti-entropy ----
  /** Buckets of the digest: 256 × 8-byte hashes = 2 KiB digest, only sent when the 16-byte roots differ. */
  syncBuckets: 256,
  /** Period of anti-entropy with one random live peer. Repairs lost gossip (rare on a LAN: gossipsub already retries through IHAVE/IWANT) within seconds; an idle round is a new stream and one root exchange (~0.5 KB on the wire, both ways, and the stream negotiation's CPU on both sides), so 10 s costs each peer ~50 B/s whatever the cluster size. memberlist's LAN push-pull runs every 30 s. A peer's first exchange does not wait for it (on contact, mesh.ts). */
  syncIntervalMs: 10_000,
  /** Random spread of the period (±fraction) so peers do not sync in lock-step. */
  syncJitter: 0.3,
  /** Largest frame on a sync stream; entries are chunked well below it. */
  maxSyncFrameBytes: 4 * 1024 * 1024,
  /** Target size of one chunk of entries in a sync frame. */
  syncChunkBytes: 512 * 1024,
  /** A sync exchange that takes longer is aborted: even a full sync of 100k entries on loopback takes a few seconds. */
  syncTimeoutMs: 30_000,
  /** Most entries one side of a sync exchange may send (issue 13, "Limits"): past it the rest is refused, what came first is kept and the exchange ends (counted in syncOverLimit); the next rounds carry on from there. Two writers at their full quota (maxWriterEntries) fit one exchange; a peer that never ends its side cannot fill memory. */
  maxSyncExchangeEntries: 200_000,

  // ---- tombstones ----
  /** A tombstone is kept at least this long, so gossip and the next anti-entropy rounds spread it before anyone may purge it. */
  tombstoneMinAgeMs: 60_000,
  /** After this long a tombstone is purged even if some peer never acknowledged it (DESIGN §3: 7 days). */
  tombstoneTtlMs: 7 * 24 * 3600_000,
  /** How often tombstones are checked for purge. */
  purgeIntervalMs: 60_000,

  // ---- membership (SWIM + Lifeguard, swim.ts; DESIGN §4) ----
  /** Probe period: each peer probes one subject per period. 500 ms puts the first probe of a silent peer ~0.3 s after it stops (about one probe per period reaches each member), within the 2.5 s silent-detection target, while a ping and its ack (~45 bytes each on the wire) cost ~180 B/s per peer whatever N. */
  swimProbeIntervalMs: 500,
  /** Wait for a direct ack before asking helpers. Half the period leaves the other half for the indirect probes; loopback and LAN round trips are well under 10 ms, so only a stalled peer or event loop misses it (awareness then stretches it). Raise it for clusters across regions. */
  swimProbeTimeoutMs: 250,
  /** Helpers asked to ping a subject that missed its direct ack (SWIM's k; memberlist's 3): one lossy path alone cannot make a peer suspect, and it is also the number of independent confirmations that shortens a suspicion to its floor. */
  swimIndirectChecks: 3,
  /** Floor of the suspicion timeout (up to 100 members; beyond, ×log10(N+1)/2). A peer can be declared dead only after being silent for about one probe period plus this (1.5 s): a paused peer that wakes before that reads the suspicion it was sent and refutes it in time. With three quick confirmations a silent peer is declared dead ~2 s after it stops. */
  swimSuspicionMinMs: 1000,
  /** The suspicion timeout without confirmations is this multiple of the floor (memberlist uses 6; a lone suspector waits 4 s: long enough to rule out its own trouble, short enough to bound detection when nobody else probes). */
  swimSuspicionMaxMult: 4,
  /** Suspicion timeout when a dial was refused: no process listens on the peer's port (SIGKILL, crash), which a paused or slow peer never causes. Short but not zero, so an alive claim already in flight still wins. */
  swimRefusedSuspicionMs: 200,
  /** Local health awareness: timeouts and the probe period stretch up to this many times (memberlist's 8). */
  swimAwarenessMax: 8,
  /** While updates are pending, gossip them this often (and at once for a new one); nothing is sent when idle. */
  swimGossipIntervalMs: 50,
  /** Neighbours each gossip round goes to: 3 spreads an update to N peers in ~log4(N) rounds. */
  swimGossipFanout: 3,
  /** Each update is sent at most λ·ceil(log10(N+1)) times by each peer (λ = memberlist's 4): enough copies that every member hears it with high probability under 1% loss. */
  swimRetransmitMult: 4,
  /** Updates piggybacked on one message: bounds a frame to ~1 KB during a burst of changes. */
  swimMaxPiggyback: 8,
  /** A timer that fires later than this after its deadline means our own event loop is behind: awareness rises. 150 ms is far above timer jitter and well below the 1.5 s bound. */
  swimLateTickMs: 150,
  /** Hash rings of the monitoring overlay (swim-ring.ts): each peer probes ~3 subjects and is probed by ~3 observers, so membership needs ~6 stable connections, and a peer is watched until all 3 of its observers fail at once (then the next ones take over). */
  swimRings: 3,
  /** Extra SWIM messages per probe period (swim.ts `spend`): confirmation probes, helpers of hint and confirmation probes, relays for others, suspicion notices to a suspect's neighbours, dead pings, verdicts, restart announcements. One silent death costs a neighbour ~6 notices or one confirmation with 3 helpers, so 8 leaves room for it; at 2 periods/s it caps the extras at 16/s per peer, and awareness stretches the period, so a starved peer sends fewer. Before the cap, 50 peers on 2 starved cores sent 34 SWIM messages/s each and never settled. */
  swimExtraPerPeriod: 8,

  // ---- connections (dialer.ts; DESIGN §4 "connections are bounded") ----
  /** Maintenance pass of the connection pool: refill to the target, retry one down peer, close idle connections. Events (a disconnect, a new peer record) run a pass at once, so the timer is only the backstop: 2 s halves its wake-ups, and matches connDownRetryMs. */
  dialIntervalMs: 2000,
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
  /** Tunnels carry their bytes on a raw socket to the target's p2p port, sealed with native AEAD (tunnel-raw.ts), rather than on a libp2p stream (pnet + Noise + yamux in JavaScript, a few times slower). This bounds the raw dial; past it, or when it fails (a NAT or firewall in between), the tunnel falls back to the stream. 0: every tunnel rides a libp2p stream. */
  tunnelRawDialMs: 3000,
  /** Timeout of a request on an extra protocol (`request()`). */
  requestTimeoutMs: 10_000,
  /** Largest request or response frame on extra protocols. */
  maxRequestBytes: 16 * 1024 * 1024,
  /** Requests served at once for one peer (all extra protocols). A request holds up to maxRequestBytes, so this bounds what one peer makes us hold; requests are user actions forwarded to the peer that runs an instance (actions, exec, log pages), a few at a time, and 16 leaves room for a script driving many. Over it the request is answered at once with an error naming the bound (never read). */
  maxOpenRequestsPerPeer: 16,
  /** Requests served at once in all (8 busy peers at their bound). */
  maxOpenRequests: 128,
  /** Entries held while their writer's admission has not arrived (roles.ts): a joiner's first writes (its peer record, a few claims) are a handful; 4096 leaves room for many joiners at once. */
  maxHeldEntries: 4096,
  /** Bytes held so, in all (a few MiB bounds what peers that are never admitted can make us hold). */
  maxHeldBytes: 4 * 1024 * 1024,
  /** How often a joiner asks for its admission again until it holds it (admission.ts). */
  admitRetryMs: 1000,
} as const

export type MeshDefaults = typeof defaults
