// Request/response over extra libp2p protocols registered by the layers above (e.g. the daemon's
// /monk/actor/1): one stream per request, one frame each way. The response frame starts with a
// status byte: 0 = ok (payload follows), 1 = the handler failed (UTF-8 message follows).
import type { Stream } from '@libp2p/interface'
import { RequestError } from './errors.js'
import { FrameReader, FrameWriter } from './framing.js'
import type { MeshCounters } from './counters.js'
import { openStream, type MeshNode } from './node.js'

const OK = 0
const FAILED = 1

/** Context of a request as seen by its handler. */
export interface RequestContext {
  /** Authenticated peer id of the requester. */
  peer: string
  /** Aborted when the requester goes away or the mesh stops. */
  signal: AbortSignal
}

/** Answers one request. Throwing sends the error message back; the requester gets a RequestError. */
export type RequestHandler = (request: Uint8Array, ctx: RequestContext) => Uint8Array | Promise<Uint8Array>

export interface RpcInit {
  node: MeshNode
  counters: MeshCounters
  /** Requests served at once for one peer, and in all (defaults.ts maxOpenRequestsPerPeer / maxOpenRequests). */
  maxOpenPerPeer: number
  maxOpen: number
  maxBytes: number
  defaultTimeoutMs: number
  /** Protocols the mesh uses itself; handle() refuses them. */
  reserved: readonly string[]
}

export class Rpc {
  private readonly init: RpcInit
  private readonly handled = new Set<string>()
  private readonly abort = new AbortController()
  private readonly open = new Map<string, number>()
  private openTotal = 0

  constructor (init: RpcInit) {
    this.init = init
  }

  /** Registers `handler` for `protocol` (must start with /monk/ and not be a mesh protocol). */
  async handle (protocol: string, handler: RequestHandler): Promise<void> {
    if (!protocol.startsWith('/monk/') || this.init.reserved.includes(protocol)) {
      throw new RequestError(`cannot handle protocol ${protocol}: extra protocols must start with /monk/ and not be one of the mesh's own`)
    }
    await this.init.node.handle(protocol, ({ stream, connection }) => {
      void this.serve(stream, connection.remotePeer.toString(), handler)
    }, { maxInboundStreams: 256 })
    this.handled.add(protocol)
  }

  async unhandle (protocol: string): Promise<void> {
    this.handled.delete(protocol)
    await this.init.node.unhandle(protocol)
  }

  /**
   * Sends `request` to `peer` on `protocol` and resolves with the response bytes. Dials if needed.
   * Throws RequestError (unreachable peer, protocol not handled there, timeout, handler error).
   */
  async request (peer: string, protocol: string, request: Uint8Array, opts: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    const timeoutMs = opts.timeoutMs ?? this.init.defaultTimeoutMs
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.abort.signal])
    let stream: Stream | undefined
    try {
      stream = await openStream(this.init.node, peer, protocol, { signal })
      const s = stream
      const onAbort = (): void => { s.abort(new Error(`request timed out after ${timeoutMs} ms`)) }
      signal.addEventListener('abort', onAbort)
      try {
        const writer = new FrameWriter(stream)
        const reader = new FrameReader(stream.source, this.init.maxBytes + 1)
        writer.write(request)
        writer.end()
        const response = await reader.next()
        await writer.done
        if (!response || response.length === 0) throw new Error('the peer closed the stream without answering')
        if (response[0] === OK) return response.slice(1)
        throw new RemoteFailure(new TextDecoder().decode(response.subarray(1)))
      } finally {
        signal.removeEventListener('abort', onAbort)
        await stream.close().catch(() => {})
      }
    } catch (err) {
      stream?.abort(err as Error)
      const why = signal.aborted && !(err instanceof RemoteFailure) ? `timed out after ${timeoutMs} ms` : (err as Error).message
      throw new RequestError(`request to peer ${peer} on ${protocol} failed: ${why}`, { cause: err })
    }
  }

  /** Stops serving and aborts pending requests. */
  async stop (): Promise<void> {
    this.abort.abort()
    await Promise.all([...this.handled].map(async p => { await this.init.node.unhandle(p).catch(() => {}) }))
    this.handled.clear()
  }

  private async serve (stream: Stream, peer: string, handler: RequestHandler): Promise<void> {
    const mine = this.open.get(peer) ?? 0
    const busy = mine >= this.init.maxOpenPerPeer
      ? `peer ${this.self()} has ${mine} requests from peer ${peer} open, the most it serves per peer (maxOpenRequestsPerPeer); retry when they are answered`
      : this.openTotal >= this.init.maxOpen
        ? `peer ${this.self()} has ${this.openTotal} requests open, the most it serves at once (maxOpenRequests); retry later`
        : undefined
    if (busy !== undefined) {
      // answered before the request is read: nothing of it is held
      this.init.counters.requestsRefused++
      await this.refuse(stream, busy)
      return
    }
    this.open.set(peer, mine + 1)
    this.openTotal++
    try {
      await this.serveOne(stream, peer, handler)
    } finally {
      this.openTotal--
      const left = (this.open.get(peer) ?? 1) - 1
      if (left <= 0) this.open.delete(peer)
      else this.open.set(peer, left)
    }
  }

  private self (): string { return this.init.node.peerId.toString() }

  private async refuse (stream: Stream, why: string): Promise<void> {
    try {
      const msg = new TextEncoder().encode(why)
      const answer = new Uint8Array(msg.length + 1)
      answer[0] = FAILED
      answer.set(msg, 1)
      const writer = new FrameWriter(stream)
      writer.write(answer)
      writer.end()
      // the request is read and dropped as it comes (never held), so the requester's write ends
      // cleanly and it reads this answer; a requester that never ends its write is cut off
      const timer = setTimeout(() => { stream.abort(new Error('refused request not ended in time')) }, 10_000)
      try {
        for await (const _chunk of stream.source) { /* dropped */ }
      } finally {
        clearTimeout(timer)
      }
      await writer.done
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  }

  private async serveOne (stream: Stream, peer: string, handler: RequestHandler): Promise<void> {
    try {
      const reader = new FrameReader(stream.source, this.init.maxBytes)
      const request = await reader.next()
      if (!request) throw new Error('empty request')
      const writer = new FrameWriter(stream)
      let answer: Uint8Array
      try {
        const response = await handler(request, { peer, signal: this.abort.signal })
        answer = new Uint8Array(response.length + 1)
        answer[0] = OK
        answer.set(response, 1)
      } catch (err) {
        const msg = new TextEncoder().encode(err instanceof Error ? err.message : String(err))
        answer = new Uint8Array(msg.length + 1)
        answer[0] = FAILED
        answer.set(msg, 1)
      }
      writer.write(answer)
      writer.end()
      await writer.done
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}

class RemoteFailure extends Error {
  constructor (message: string) { super(`the remote handler failed: ${message}`) }
}
