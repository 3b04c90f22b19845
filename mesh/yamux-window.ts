// Yamux receive-window updates only when half the window is used, as hashicorp/yamux does.
//
// @chainsafe/libp2p-yamux 7.0.4 sends a WINDOW_UPDATE frame after every read of a stream that
// consumed any data. For membership's small frames that doubles the traffic: every 42-byte ping or
// ack on the wire was answered by a 30-byte update (12-byte header, Noise length and tag), measured
// with strace on an idle peer (mesh README, Cost). The sender starts with a 256 KB window, so
// granting credit once half of it is consumed never stalls it; the flags an update carries when a
// stream opens (SYN/ACK) still go at once. Installed once, process-wide, by createNode (node.ts).
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

interface WindowState {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
}

let installed = false

/** Makes every yamux stream of this process defer its window updates until half the window is used. */
export function deferWindowUpdates (): void {
  if (installed) return
  installed = true
  const send = YamuxStream.prototype.sendWindowUpdate
  YamuxStream.prototype.sendWindowUpdate = function (this: YamuxStream): void {
    const s = this as unknown as WindowState
    const opening = s.state === StreamState.Init || s.state === StreamState.SYNReceived
    if (!opening && s.recvWindowCapacity > s.recvWindow / 2) return
    send.call(this)
  }
}
