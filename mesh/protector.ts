// The pnet connection protector with a key that can change while the node runs (rekey.ts): libp2p
// asks it to protect each new connection, and it hands the connection to a pnet protector made
// from the current cluster key. Connections opened before a change keep the old key; whoever
// changes the key closes them (Mesh.switchKey), so from then on every connection uses the new one.
import type { ConnectionProtector, MultiaddrConnection, AbortOptions } from '@libp2p/interface'
import { preSharedKey, type ProtectorComponents } from '@libp2p/pnet'
import { swarmKey } from './cluster.js'

export class SwitchableKey {
  private key: Uint8Array
  private components: ProtectorComponents | undefined
  private inner: ConnectionProtector | undefined

  constructor (key: Uint8Array) {
    this.key = new Uint8Array(key)
  }

  /** The key new connections are protected with. Secret. */
  get current (): Uint8Array { return this.key }

  /** The factory libp2p takes as `connectionProtector`. */
  readonly factory = (components: ProtectorComponents): ConnectionProtector => {
    this.components = components
    this.inner = preSharedKey({ psk: swarmKey(this.key) })(components)
    return { protect: async (conn: MultiaddrConnection, options?: AbortOptions) => await this.protector().protect(conn, options) }
  }

  /** Protects every later connection with `key` (32 bytes); open connections are left to the caller. */
  set (key: Uint8Array): void {
    const psk = swarmKey(key)
    this.key = new Uint8Array(key)
    if (this.components) this.inner = preSharedKey({ psk })(this.components)
  }

  private protector (): ConnectionProtector {
    if (!this.inner) throw new Error('the connection protector was used before libp2p created it')
    return this.inner
  }
}
