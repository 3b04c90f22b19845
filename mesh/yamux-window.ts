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

/**
 * Grows one stream's receive window to `bytes` and grants the difference to the sender at once.
 * Bulk streams (tunnels) use it: with keep-alive off yamux never measures the RTT, so its
 * auto-tuning never grows a window past the initial 256 KiB, and a sender can have only that much
 * in flight per round trip through both peers' pipelines. Control streams keep the small window.
 * The receiver buffers at most `bytes` of this stream when its reader is slow.
 */
export function widenWindow (stream: unknown, bytes: number): void {
  if (!(stream instanceof YamuxStream)) return
  const s = stream as unknown as WindowState
  if (s.recvWindow >= bytes) return
  s.recvWindow = bytes
  stream.sendWindowUpdate()
}
