// The libp2p node of a peer, on the pinned 2.x stack: TCP + pnet(cluster key) + Noise + yamux,
// identify, ping and gossipsub. Every setting that differs from the library default says why.
import { gossipsub, type GossipSub, type GossipSubComponents } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import { ping, type Ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { swarmKey } from './cluster.js'

export type MeshServices = { identify: Identify; ping: Ping; pubsub: GossipSub }
export type MeshNode = Libp2p<MeshServices>

export interface NodeInit {
  /** Identity of this peer (persisted by the store so the peer id survives restarts). */
  privateKey: PrivateKey
  /** Multiaddrs to listen on, e.g. /ip4/127.0.0.1/tcp/0. */
  listen: string[]
  /** The 32-byte cluster key: pnet refuses any connection made without it. */
  clusterKey: Uint8Array
  gater: ConnectionGater
  /** Largest gossip delta accepted (see defaults.maxDeltaBytes). */
  maxDeltaBytes: number
}

/** Creates and starts the libp2p node. Throws if listening fails. */
export async function createNode (init: NodeInit): Promise<MeshNode> {
  return await createLibp2p<MeshServices>({
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // private network: the handshake fails (or times out) for anyone without the cluster key
    connectionProtector: preSharedKey({ psk: swarmKey(init.clusterKey) }),
    connectionGater: init.gater,
    connectionManager: {
      // the mesh keeps a connection to every peer (up to ~100, briefly two per pair while
      // simultaneous dials settle); pruning one would look like a failure, so stay far above that
      maxConnections: 1024,
      // defaults (5 per second per IP, 10 pending) reject peers when many on one host or behind
      // one NAT dial at once (measured: 7 of 12 failed with ECONNRESET, stack notes §2.4.5)
      inboundConnectionThreshold: 200,
      maxIncomingPendingConnections: 200,
      // default 10 s: a dial with a wrong key can hang until this timeout (stack notes §2.4.10);
      // real dials finish in milliseconds on a LAN and well under a second across clouds
      dialTimeout: 3000,
    },
    connectionMonitor: {
      // off: membership is the connection monitor. It hears from every peer every 500 ms, declares
      // a silent peer dead by φ within ~3 s and then closes its connection. libp2p's monitor opens
      // a new ping stream per connection per interval: measured at 10 peers, a 5 s interval added
      // ~1 KB/s per peer of idle traffic (2.3 KB/s in all), for a slower verdict than φ's
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
        // floodPublish (default true) sends our own deltas straight to every subscriber: with the
        // full mesh of connections a delta reaches everyone in one hop, and the gossip mesh is only
        // a second path. A smaller mesh than the default (D 6, Dlo 4, Dhi 12) means fewer
        // duplicates: each peer receives a delta ~D times, and each copy costs a Noise decrypt,
        // a yamux window update and a forward. Anti-entropy repairs whatever both paths lose
        D: 3,
        Dlo: 2,
        Dhi: 5,
        Dscore: 2,
        Dout: 1,
        Dlazy: 3,
      }) as (components: GossipSubComponents) => GossipSub,
    },
  })
}
