// Connection gater that cuts this peer off from chosen peers at the transport: no dial out, no
// connection in, existing connections closed. Tests and chaos tools use it for honest partitions.
import type { ConnectionGater, PeerId } from '@libp2p/interface'

export class Gater {
  private readonly blockedPeers = new Set<string>()
  private hangUp: ((peer: string) => Promise<void>) | undefined

  /** The libp2p side: consulted on every dial and every connection after encryption. */
  readonly libp2p: ConnectionGater = {
    denyDialPeer: (peer: PeerId) => this.blockedPeers.has(peer.toString()),
    denyInboundEncryptedConnection: (peer: PeerId) => this.blockedPeers.has(peer.toString()),
    denyOutboundEncryptedConnection: (peer: PeerId) => this.blockedPeers.has(peer.toString()),
  }

  /** Mesh-internal: how to close existing connections to a peer when it gets blocked. */
  attach (hangUp: (peer: string) => Promise<void>): void {
    this.hangUp = hangUp
  }

  /** Cuts this peer off from `peers` until unblock(). Resolves once existing connections are closed. */
  async block (peers: Iterable<string>): Promise<void> {
    const added: string[] = []
    for (const p of peers) {
      if (!this.blockedPeers.has(p)) { this.blockedPeers.add(p); added.push(p) }
    }
    await Promise.all(added.map(async p => { await this.hangUp?.(p).catch(() => {}) }))
  }

  /** Lifts the block on `peers`, or on every peer when omitted. Reconnection follows by redial. */
  unblock (peers?: Iterable<string>): void {
    if (!peers) { this.blockedPeers.clear(); return }
    for (const p of peers) this.blockedPeers.delete(p)
  }

  isBlocked (peer: string): boolean { return this.blockedPeers.has(peer) }

  /** Currently blocked peer ids. */
  blocked (): string[] { return [...this.blockedPeers].sort() }
}
