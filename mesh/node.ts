// The libp2p node of a peer, on the pinned 2.x stack: TCP + pnet(cluster key) + Noise + yamux,
// identify, ping and gossipsub. Every setting that differs from the library default says why.
import { gossipsub, type GossipSub, type GossipSubComponents } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import type { Connection, ConnectionGater, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping, type Ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { swarmKey } from './cluster.js'
import type { SwitchableKey } from './protector.js'
import { deferWindowUpdates } from './yamux-window.js'

export type MeshServices = { identify: Identify; ping: Ping; pubsub: GossipSub }
export type MeshNode = Libp2p<MeshServices>

export interface NodeInit {
  /** Identity of this peer (persisted by the store so the peer id survives restarts). */
  privateKey: PrivateKey
  /** Multiaddrs to listen on, e.g. /ip4/127.0.0.1/tcp/0. */
  listen: string[]
  /** The 32-byte cluster key: pnet refuses any connection made without it. */
  clusterKey: Uint8Array
  /** When given, protects connections instead of a fixed-key pnet (protector.ts: the key can change). */
  protector?: SwitchableKey
  gater: ConnectionGater
  /** Largest gossip delta accepted (see defaults.maxDeltaBytes). */
  maxDeltaBytes: number
}

/** Creates and starts the libp2p node. Throws if listening fails. */
export async function createNode (init: NodeInit): Promise<MeshNode> {
  deferWindowUpdates()
  return await createLibp2p<MeshServices>({
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({
      // off: every connection would send a ping each 30 s in both directions. A dead or silent
      // peer is found by membership's probes, and an idle connection is closed by the pool
      enableKeepAlive: false,
      // a frame (12-byte header + data) fits one Noise message (65535 bytes less the 16-byte tag):
      // the default 64 KiB frame went out as two Noise messages, two pnet chunks and two socket
      // writes, the second of 29 bytes (seen with strace on a tunnel transfer)
      maxMessageSize: 65535 - 16,
    })],
    // private network: the handshake fails (or times out) for anyone without the cluster key
    connectionProtector: init.protector?.factory ?? preSharedKey({ psk: swarmKey(init.clusterKey) }),
    connectionGater: init.gater,
    connectionManager: {
      // a hard ceiling only: the pool (dialer.ts) keeps about connTarget..connMax connections and
      // closes idle ones itself, announcing it so the other side does not take it for a failure.
      // libp2p's own pruning above this limit would not announce, so stay well above the pool
      maxConnections: 256,
      // defaults (5 per second per IP, 10 pending) reject peers when many on one host or behind
      // one NAT dial at once (measured: 7 of 12 failed with ECONNRESET, stack notes §2.4.5)
      inboundConnectionThreshold: 200,
      maxIncomingPendingConnections: 200,
      // default 10 s: a dial with a wrong key can hang until this timeout (stack notes §2.4.10);
      // real dials finish in milliseconds on a LAN and well under a second across clouds
      dialTimeout: 3000,
    },
    connectionMonitor: {
      // off: membership is the connection monitor (it probes members and closes the connection of a
      // dead one). libp2p's monitor opens a new ping stream per connection per interval: measured
      // at 10 peers, a 5 s interval added ~1 KB/s per peer of idle traffic
      enabled: false,
    },
    services: {
      // required: gossipsub and our stream topologies learn which protocols a peer speaks from it
      identify: identify(),
      // answers the connection monitor and membership's direct probes
      ping: ping(),
      pubsub: gossipsub({
        // we publish while alone (first peer) or before the mesh forms; anti-entropy repairs, so an
        // unsent delta must not be an error (stack notes §2.4.1)
        allowPublishToZeroTopicPeers: true,
        // every peer runs gossipsub: no floodsub protocol surface
        fallbackToFloodsub: false,
        // peers share one IP on a dev host or behind a NAT; the default colocation penalty
        // graylists them past 10 peers (stack notes §2.4.4)
        scoreParams: { IPColocationFactorWeight: 0 },
        // cut oversized messages at the stream, a little above our own delta limit so deltas
        // between the two are still decoded, counted as oversized and dropped by us
        maxInboundDataLength: init.maxDeltaBytes + 64 * 1024,
        // dedupe before verifying: without it gossipsub checks the signature of every duplicate
        // (each peer receives a delta from the publisher and again from its mesh peers); measured
        // at 10 peers, ~6 ms of CPU per write per peer, mostly Ed25519 verifies of duplicates.
        // from+seqno is exactly the default message id under StrictSign, so nothing new collides
        fastMsgIdFn: msg => msg.from && msg.seqno ? `${Buffer.from(msg.from).toString('base64')}/${Buffer.from(msg.seqno).toString('base64')}` : Buffer.from(msg.data ?? []).toString('base64'),
        // connections are bounded (dialer.ts: ~connTarget..connMax), so a delta travels over the
        // gossip mesh in ~log_D(N) hops: floodPublish (default true) sends our own deltas to every
        // connected subscriber as the first hop. D 4 keeps the hop count low (≤ 4 hops to 100
        // peers, each a few ms on a LAN) while each peer receives a delta only ~D times (each copy
        // costs a Noise decrypt, a yamux window update and a forward); the default D 6 / Dhi 12
        // would need more connections than the pool keeps. Dlo 3 leaves room for one lost mesh
        // peer before grafting, Dhi 6 = connTarget so our own dials can fill the mesh. Anti-entropy
        // repairs whatever gossip loses
        // heartbeat 2 s (default 1 s): an idle peer's fixed cost is mostly timer wake-ups (a lone
        // idle peer from dist/ used 0.77 % of a core); the heartbeat only maintains the mesh and
        // emits IHAVE for recent messages, while publishing and forwarding are immediate, so a
        // slower one delays a re-graft after a mesh peer is lost by a second (anti-entropy repairs)
        heartbeatInterval: 2000,
        D: 4,
        Dlo: 3,
        Dhi: 6,
        Dscore: 2,
        Dout: 1,
        Dlazy: 3,
        // no peer exchange, no flood of IHAVEs to non-mesh peers when idle: gossip (IHAVE) is only
        // emitted for messages seen in the last heartbeats, so an idle cluster sends nothing here
      }) as (components: GossipSubComponents) => GossipSub,
    },
  })
}

/**
 * Opens a stream to `peer` on a connection that is open. libp2p 2.x keeps tracking a connection
 * that was aborted (Connection.abort sets its close time on the timeline the close notice watches
 * for a change, so `connection:close` never fires), and opens every later stream to that peer on
 * the first tracked connection, whatever its status: all of them then fail, for good (chaos seeds
 * 3 and 4: one peer's probes, acks and syncs to another failed for minutes, and each held the
 * other dead or unknown while connected). Such connections are dropped from tracking first.
 */
export async function openStream (node: MeshNode, peer: string, protocol: string, opts: { signal?: AbortSignal } = {}): Promise<Stream> {
  const pid = peerIdFromString(peer)
  evictClosed(node, pid)
  return await node.dialProtocol(pid, protocol, opts)
}

const evictions = new WeakMap<MeshNode, number>()

/** How many closed connections evictClosed dropped from this node's tracking so far. */
export function evictedConnections (node: MeshNode): number { return evictions.get(node) ?? 0 }

/**
 * Drops from libp2p's tracking the connections to `peer` (every peer when omitted) that are closed
 * but still listed, by sending the close notice libp2p missed. Returns how many.
 */
export function evictClosed (node: MeshNode, peer?: PeerId): number {
  const events = (node as unknown as { components?: { events?: { safeDispatchEvent: (type: string, init: { detail: Connection }) => void } } }).components?.events
  if (events === undefined) return 0
  const stale = (peer ? node.getConnections(peer) : node.getConnections()).filter(c => c.status === 'closed')
  for (const c of stale) events.safeDispatchEvent('connection:close', { detail: c })
  if (stale.length > 0) evictions.set(node, evictedConnections(node) + stale.length)
  return stale.length
}
